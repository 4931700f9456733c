"""`outside_days`: the cheap test a full sync uses to skip converting events far from the
window. It may keep an event that turns out to be outside, never drop one inside."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from calbot.adapters.google.event_times import days_around, outside_days
from calbot.adapters.google.events import BadEvent, to_event

BERLIN = ZoneInfo("Europe/Berlin")
LO = datetime(2025, 3, 10, tzinfo=BERLIN)
HI = datetime(2025, 3, 24, tzinfo=BERLIN)
FIRST, LAST = days_around(LO, HI)


def timed(start: str, end: str | None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"id": "e", "start": {"dateTime": start, **extra}}
    if end is not None:
        item["end"] = {"dateTime": end, **extra}
    return item


def test_days_around_widens_the_window_by_two_days() -> None:
    assert (FIRST, LAST) == ("2025-03-07", "2025-03-25")


def test_far_events_are_outside_near_ones_are_not() -> None:
    before = timed("2025-01-01T10:00:00+01:00", "2025-01-01T11:00:00+01:00")
    after = timed("2025-04-01T10:00:00+02:00", "2025-04-01T11:00:00+02:00")
    inside = timed("2025-03-12T10:00:00+01:00", "2025-03-12T11:00:00+01:00")
    assert outside_days(before, FIRST, LAST)
    assert outside_days(after, FIRST, LAST)
    assert not outside_days(inside, FIRST, LAST)
    # an event starting before the window and ending in it
    assert not outside_days(timed("2025-02-01T10:00:00Z", "2025-03-11T10:00:00Z"), FIRST, LAST)
    day = {"id": "d", "start": {"date": "2025-05-01"}, "end": {"date": "2025-05-02"}}
    assert outside_days(day, FIRST, LAST)


def test_unsure_shapes_are_left_to_span() -> None:
    # each of these is far from the window, but broken: `to_event` must see it and warn
    broken = [
        timed("2025-01-02T10:00:00Z", "2025-01-01T10:00:00Z"),  # ends before it starts
        {"id": "e", "start": {"date": "2025-01-01"}, "end": {"dateTime": "2025-01-01T10:00Z"}},
        {"id": "e", "start": {"dateTime": "2025-01-01T10:00Z"}, "end": "soon"},
        {"id": "e", "start": {"dateTime": "2025-13-01T10:00Z"}},
        {"id": "e", "start": {"dateTime": "yesterday"}},
        {"id": "e", "start": "2025-01-01"},
        {"id": "e"},
    ]
    for item in broken:
        assert not outside_days(item, FIRST, LAST), item


def test_never_drops_an_event_to_event_keeps() -> None:
    # every start from 5 days before to 5 days after the window, in far-apart offsets and
    # local times in a named zone, timed and all-day, zero-length and long
    checked = 0
    base = LO - timedelta(days=5)
    offsets = ["+14:00", "-12:00", "Z", ""]
    for hours, offset, length in itertools.product(
        range(0, 24 * 26, 7), offsets, (0, 1, 30, 24 * 3)
    ):
        start = base + timedelta(hours=hours)
        end = start + timedelta(hours=length)
        text = "%Y-%m-%dT%H:%M:%S"
        item = timed(start.strftime(text) + offset, end.strftime(text) + offset)
        if not offset:
            item["start"]["timeZone"] = item["end"]["timeZone"] = "Pacific/Kiritimati"
        days = {
            "id": "d",
            "start": {"date": start.date().isoformat()},
            "end": {"date": (end.date() + timedelta(days=1)).isoformat()},
        }
        for each in (item, days):
            try:
                kept = to_event(each, "primary", "me@example.com", BERLIN, within=(LO, HI))
            except BadEvent:
                kept = None
            if kept is not None:
                assert not outside_days(each, FIRST, LAST), each
                checked += 1
    assert checked > 500  # the loop really reached the window's edges
