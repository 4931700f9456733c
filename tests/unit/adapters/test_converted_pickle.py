"""The converted-window file writes the core's data classes as constructor calls (cheap to
load), and what it loads equals what was kept, every field and nested value included."""

from __future__ import annotations

import io
import pickletools
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from builders import event

from calbot.adapters.google.converted import ConvertedCache
from calbot.core import model
from calbot.core.model import Attendee, Event, Response


def _events() -> list[Event]:
    odd = Attendee("x@acme.example", "X \u00e9", Response.DECLINED, optional=True, resource=True)
    return [
        event("2026-12-08 09:00"),
        event("2026-12-08 10:00", 90, guests=("a@b.example", "c@d.example"), location="Room 1"),
        event("2026-12-09 00:00", 1440, all_day=True, guests=(), me=odd),
    ]


def test_what_is_loaded_equals_what_was_kept(tmp_path: Path) -> None:
    cache = ConvertedCache(tmp_path, ("cal", "me@example.com", "Europe/Berlin", "tz", "code"))
    start = datetime(2026, 12, 8, tzinfo=UTC)
    kept = _events()
    cache.save("stamp-1", start, start + timedelta(days=15), kept)
    entry = cache.load()
    assert entry is not None and entry.stamp == "stamp-1"
    loaded = cache.events(entry)
    assert loaded == tuple(kept)
    assert [type(a) for e in loaded or () for a in e.attendees] == [
        Attendee for e in kept for _ in e.attendees
    ]


def test_events_are_written_as_constructor_calls_not_state(tmp_path: Path) -> None:
    cache = ConvertedCache(tmp_path, ("cal",))
    start = datetime(2026, 12, 8, tzinfo=UTC)
    cache.save("s", start, start + timedelta(days=1), _events())
    stream = io.BytesIO(next(tmp_path.glob("*.pickle")).read_bytes())
    head = [op.name for op, _arg, _pos in pickletools.genops(stream)]  # the entry's head
    ops = [op.name for op, _arg, _pos in pickletools.genops(stream)]  # then the events
    assert head[-1] == "STOP" and ops[-1] == "STOP"
    assert "REDUCE" in ops or "NEWOBJ" in ops
    assert "BUILD" not in ops  # BUILD is __setstate__: the slow way
    # every core data class it may meet can be written so: all its fields are arguments
    for value in vars(model).values():
        if isinstance(value, type) and is_dataclass(value):
            assert all(f.init for f in fields(value)), value


def test_the_pickler_calls_python_only_for_the_core_data_classes() -> None:
    # a `reducer_override` is called for every object written (datetimes, tuples, enums):
    # the dispatch table is looked up in C, and names only the core's data classes
    from calbot.adapters.google.converted import _Pickler

    assert "reducer_override" not in vars(_Pickler)
    table = _Pickler.dispatch_table
    assert Event in table and Attendee in table
    assert all(is_dataclass(cls) for cls in table)
    odd = Attendee("x@acme.example")
    assert table[Attendee](odd) == (Attendee, tuple(getattr(odd, f.name) for f in fields(odd)))
