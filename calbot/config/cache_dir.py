"""Where calbot keeps what it can always rebuild (compiled templates, parsed ICS files):
the platform cache dir (`$XDG_CACHE_HOME/calbot` on Linux). Losing it costs time, never
data; a cache that cannot be written is skipped, not an error."""

from __future__ import annotations

from pathlib import Path

import platformdirs


def cache_dir(part: str) -> Path | None:
    """`<cache dir>/<part>`, created private to the user; None when it cannot be made."""
    folder = Path(platformdirs.user_cache_dir("calbot", appauthor=False)) / part
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return folder
