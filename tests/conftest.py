"""Shared fixtures. The fake Google server's fixture lives in tests/fakes/plugin.py.

Hypothesis runs derandomized (the same examples every run: the suite is deterministic and a
CI failure reproduces locally); `HYPOTHESIS_PROFILE=explore` draws new examples each run."""

import os
from pathlib import Path

from hypothesis import settings

settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

_PLUGIN = Path(__file__).parent / "fakes" / "plugin.py"
pytest_plugins = ["fakes.plugin"] if _PLUGIN.exists() else []
