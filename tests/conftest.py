"""Shared fixtures. The fake Google server's fixture lives in tests/fakes/plugin.py."""

from pathlib import Path

_PLUGIN = Path(__file__).parent / "fakes" / "plugin.py"
pytest_plugins = ["fakes.plugin"] if _PLUGIN.exists() else []
