"""Where calbot keeps what it can always rebuild (compiled templates, parsed ICS files):
the platform cache dir (`$XDG_CACHE_HOME/calbot` on Linux). Losing it costs time, never
data; a cache that cannot be written is skipped, not an error."""

from __future__ import annotations

import contextlib
import functools
import zoneinfo
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


@functools.cache
def tz_database_stamp() -> str | None:
    """Which time zone rules this machine has, for keying cached local times: the stat of
    each zone folder's `tzdata.zi` (every tzdata release rewrites it) and of the `tzdata`
    package. None when there is neither: a rules update could not be told, so a cache
    keeps nothing. Once per process, as its `ZoneInfo`s are."""
    stamps = []
    for folder in zoneinfo.TZPATH:
        with contextlib.suppress(OSError):
            st = (Path(folder) / "tzdata.zi").stat()
            stamps.append(f"{folder}:{st.st_mtime_ns}:{st.st_size}")
    from importlib.util import find_spec

    with contextlib.suppress(ImportError, ValueError, OSError):
        spec = find_spec("tzdata")
        if spec is not None and spec.origin is not None:
            st = Path(spec.origin).stat()
            stamps.append(f"tzdata:{st.st_mtime_ns}:{st.st_size}")
    return ";".join(stamps) or None
