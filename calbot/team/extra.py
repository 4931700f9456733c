"""Is the `team` extra installed? One line naming the fix when it is not (exit 2)."""

from __future__ import annotations

import importlib.util

from calbot.errors import UsageError

# The distributions `pip install 'calbot[team]'` brings, by their import names.
TEAM_MODULES = ("celery", "psycopg", "redis", "cryptography")
INSTALL_HINT = "pip install 'calbot[team]'"


def missing_team_modules() -> list[str]:
    """The team extra's modules that cannot be imported here (found, not imported: cheap)."""
    missing = []
    for name in TEAM_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def require_team_extra() -> None:
    missing = missing_team_modules()
    if missing:
        raise UsageError(
            f"team mode needs the team extra ({', '.join(missing)} not installed): {INSTALL_HINT}"
        )
