"""A Google calendar's converted window, kept in the platform cache dir (`google/`), so an
unchanged rescan unpickles its `Event`s instead of decoding and converting every cached
row of the window again (issue 12: ~31,000 rows on the bench's 100k calendar).

An entry holds the `Event`s of the cached rows whose bounds overlap a span a day longer
than the window of the scan that wrote it, converted without a window, in the order the
rows were read. A later scan uses it only when all of these hold, else it converts as
before:
- its sync left the cached rows exactly as they were when the entry was written: the
  sync state's `stamp` (`sync_state`) is the same, and a stamp changes with every write
  that changes a row;
- its window lies inside the entry's span: then every event of the window is in it (an
  event overlapping the window overlaps the span, and its row's bounds bracket it);
- the same calendar, user e-mail, time zone, tz database and converting code.

No entry is written when a row of the span could not be converted (`BadEvent`): which of
those a scan warns about depends on its window, so those scans convert every time. A dry
run reads entries but writes none. The files are private to the user (the folder is 0700)
and are Python pickles: the cache dir is as trusted as the user's own files. Anything
unreadable is a miss; anything unwritable is skipped: the cache only ever saves time.
Team mode keeps no local files: the source is built without this cache there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import operator
import os
import pickle
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from calbot.core import model
from calbot.core.model import Event

CHUNK = 2000  # events per pickle: each pickle's memo (every object in it) stays small
SPAN_MORE = timedelta(days=1)  # past the window's end: a day of rescans reuse an entry
_FORMAT = 3  # bump when the pickled shape changes
_CODE = (  # what turns cached rows into the `Event`s kept (relative to calbot/)
    "adapters/google/converted.py",
    "adapters/google/events.py",
    "adapters/google/event_times.py",
    "adapters/google/calendar.py",
    "adapters/google/sync.py",
    "adapters/google/sync_state.py",
    "adapters/cache_items.py",
    "core/model.py",
)


@dataclass(frozen=True, slots=True)
class Converted:
    """What the `Event`s kept stand for: the rows overlapping [span_start, span_end) as
    they were at `stamp`. The file holds this, then the events (a second pickle), so a
    scan learns whether it can use them without loading them: a miss (a first scan, a
    changed calendar) holds no second copy of the window in memory."""

    identity: tuple[str, ...]
    stamp: str
    span_start: datetime
    span_end: datetime
    chunks: int  # the pickles of events that follow

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.span_start <= start and end <= self.span_end


def _init_fields() -> dict[type, tuple[str, ...]]:
    """The core's data classes whose every field is an `__init__` argument, in order."""
    found: dict[type, tuple[str, ...]] = {}
    for value in vars(model).values():
        if isinstance(value, type) and dataclasses.is_dataclass(value):
            fields = dataclasses.fields(value)
            if all(f.init for f in fields) and not hasattr(value, "__post_init__"):
                found[value] = tuple(f.name for f in fields)
    return found


_FIELDS = _init_fields()


def _constructor_call(cls: type, names: tuple[str, ...]) -> Any:
    """A `reduce` writing a `cls` as a call of its constructor with its field values."""
    values = operator.attrgetter(*names)  # a tuple of them, read in C (two names or more)
    if len(names) == 1:
        return lambda obj: (cls, (values(obj),))
    return lambda obj: (cls, values(obj))


class _Pickler(pickle.Pickler):
    """Writes a core data class as a call of its constructor with its field values:
    unpickled that way it costs a third of the default (`__setstate__` asks `fields()` of
    every object: ~0.4 s for the bench's 31,000 events). By `dispatch_table`, which the
    pickler looks up in C for the types it does not write itself: a `reducer_override`
    was a Python call for every object written (datetimes, tuples, enums: 120,000 for
    those events, most of the time of a save)."""

    dispatch_table = {  # noqa: RUF012 - what the C pickler reads
        cls: _constructor_call(cls, names) for cls, names in _FIELDS.items()
    }


@functools.cache
def code_tag() -> str:
    """The code that converts and selects the rows, hashed: an entry made by other code
    (an upgrade, a local change) is a miss."""
    digest = hashlib.sha256(str(_FORMAT).encode())
    root = Path(__file__).parents[2]
    for name in _CODE:
        with contextlib.suppress(OSError):
            digest.update((root / name).read_bytes())
    return digest.hexdigest()[:16]


class ConvertedCache:
    """The entry of one calendar as one user in one zone sees it."""

    def __init__(self, folder: Path, identity: tuple[str, ...]) -> None:
        self._folder = folder
        self.identity = identity
        name = hashlib.sha256("\0".join(identity).encode()).hexdigest()[:32]
        self._path = folder / f"{name}.pickle"

    @classmethod
    def open(cls, calendar_id: str, user_email: str, zone: str) -> ConvertedCache | None:
        from calbot.config.cache_dir import cache_dir, tz_database_stamp

        zones = tz_database_stamp()
        if zones is None:
            return None
        folder = cache_dir("google")
        if folder is None:
            return None
        return cls(folder, (calendar_id, user_email, zone, zones, code_tag()))

    def load(self) -> Converted | None:
        """What the kept events stand for (not the events: `events`)."""
        try:
            with self._path.open("rb") as f:
                entry = pickle.load(f)  # noqa: S301 - the user's own private cache
        except Exception:  # missing, truncated, another version's classes: a miss
            return None
        if not isinstance(entry, Converted) or entry.identity != self.identity:
            return None
        return entry

    def events(self, entry: Converted) -> tuple[Event, ...] | None:
        """The events kept with `entry`; None when the file no longer holds them."""
        try:
            with self._path.open("rb") as f:
                if pickle.load(f) != entry:  # noqa: S301 - replaced since `load`
                    return None
                parts = [pickle.load(f) for _ in range(entry.chunks)]  # noqa: S301
        except Exception:
            return None
        events = tuple(e for part in parts if isinstance(part, tuple) for e in part)
        if len(parts) != entry.chunks or not all(type(e) is Event for e in events):
            return None
        return events

    def save(self, stamp: str, start: datetime, end: datetime, events: Sequence[Event]) -> None:
        """Whole or not at all (a temp file renamed over), never an error. Pickled
        straight into the file: no copy of it in memory (peak RSS of a first scan)."""
        events = tuple(events)
        chunks = [events[i : i + CHUNK] for i in range(0, len(events), CHUNK)]
        entry = Converted(self.identity, stamp, start, end, len(chunks))
        try:
            fd, tmp = tempfile.mkstemp(dir=self._folder, prefix=".tmp-")  # 0600
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(entry, f, pickle.HIGHEST_PROTOCOL)
                for chunk in chunks:
                    _Pickler(f, pickle.HIGHEST_PROTOCOL).dump(chunk)
            Path(tmp).replace(self._path)
        except Exception:  # unwritable, or a value that does not pickle: nothing kept
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
