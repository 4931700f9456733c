"""The RRULE property (issue 11 #5): whatever recurrence a calendar holds — any FREQ,
INTERVAL, BY* parts, COUNT or UNTIL, DTSTART anywhere in 1900–2200 — reading a window never
raises, never yields more than `MAX_OCCURRENCES` occurrences of one series, and says why with
a warning naming the event (skipped, or capped) when it does not read them all."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calbot.adapters.ics import IcsSource, expand
from calbot.adapters.ics.expand import MAX_OCCURRENCES

TZ = ZoneInfo("Europe/Berlin")
FREQS = ("SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _numbers(low: int, high: int, signed: bool = False) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    if signed:
        value = st.one_of(value, st.integers(-high, -low))
    return st.lists(value, min_size=1, max_size=6, unique=True).map(
        lambda xs: ",".join(map(str, xs))
    )


_PARTS = {
    "INTERVAL": st.integers(1, 30).map(str),
    "COUNT": st.integers(1, 10**9).map(str),
    "BYSECOND": st.one_of(_numbers(0, 59), st.just(",".join(map(str, range(60))))),
    "BYMINUTE": _numbers(0, 59),
    "BYHOUR": _numbers(0, 23),
    "BYDAY": st.lists(
        st.tuples(st.sampled_from(("", "1", "2", "-1", "53")), st.sampled_from(DAYS)),
        min_size=1,
        max_size=4,
    ).map(lambda xs: ",".join(n + d for n, d in xs)),
    "BYMONTHDAY": _numbers(1, 31, signed=True),
    "BYYEARDAY": _numbers(1, 366, signed=True),
    "BYWEEKNO": _numbers(1, 53, signed=True),
    "BYMONTH": _numbers(1, 12),
    "BYSETPOS": _numbers(1, 10, signed=True),
    "WKST": st.sampled_from(DAYS),
}


def _stamp(year: int, seconds: int) -> str:
    return (datetime(year, 1, 1) + timedelta(seconds=seconds)).strftime("%Y%m%dT%H%M%S")


@st.composite
def rules(draw: st.DrawFn) -> tuple[str, str]:
    """(DTSTART, RRULE)."""
    start = _stamp(draw(st.integers(1900, 2199)), draw(st.integers(0, 365 * 86400 - 1)))
    parts = [f"FREQ={draw(st.sampled_from(FREQS))}"]
    for name in draw(st.lists(st.sampled_from(sorted(_PARTS)), max_size=4, unique=True)):
        parts.append(f"{name}={draw(_PARTS[name])}")
    if draw(st.booleans()) and not any(p.startswith("COUNT") for p in parts):
        until = _stamp(draw(st.integers(1900, 2200)), draw(st.integers(0, 365 * 86400 - 1)))
        parts.append(f"UNTIL={until}Z")
    return start, ";".join(parts)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rule=rules(), window_year=st.integers(1900, 2199), window_day=st.integers(0, 364))
def test_any_rrule_reads_a_window_within_the_cap(
    tmp_path: Path, rule: tuple[str, str], window_year: int, window_day: int
) -> None:
    dtstart, rrule = rule
    path = tmp_path / "fuzz.ics"
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:fuzz\r\nBEGIN:VEVENT\r\nUID:fuzz\r\n"
        f"SUMMARY:Fuzz\r\nDTSTART;TZID=Europe/Berlin:{dtstart}\r\nDURATION:PT30M\r\n"
        f"RRULE:{rrule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    source = IcsSource(str(path), "me@example.com", "Europe/Berlin")
    start = datetime(window_year, 1, 1, tzinfo=TZ) + timedelta(days=window_day)
    events = list(source.events(start, start + timedelta(days=28)))
    assert len(events) <= MAX_OCCURRENCES, rrule
    codes = {warning.code for warning in source.warnings}
    assert codes <= {"warn.ics_skipped", "warn.ics_too_many_occurrences"}, (rrule, codes)
    for warning in source.warnings:
        assert dict(warning.args)["event"] == "event 'fuzz' 'Fuzz'"
    assert all(start - timedelta(minutes=30) < e.start < start + timedelta(days=28) for e in events)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tame")


@st.composite
def tame_rules(draw: st.DrawFn) -> tuple[str, str]:
    """(DTSTART, RRULE) that the unbounded expansion can afford: hourly or coarser, DTSTART
    at most three years before the window."""
    start = _stamp(2023 + draw(st.integers(0, 3)), draw(st.integers(0, 365 * 86400 - 1)))
    freq = draw(st.sampled_from(("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")))
    parts = [f"FREQ={freq}"]
    names = sorted(set(_PARTS) - {"BYSECOND", "BYMINUTE"})
    for name in draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
        value = draw(_PARTS[name])
        if name == "COUNT":
            value = str(int(value) % 3000 + 1)
        parts.append(f"{name}={value}")
    return start, ";".join(parts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=tame_rules(), window_day=st.integers(0, 364))
def test_bounded_expansion_finds_what_the_library_finds(
    folder: Path, rule: tuple[str, str], window_day: int
) -> None:
    """Moving DTSTART by whole periods (and COUNT with it) changes no occurrence: the same
    starts as `recurring_ical_events.of(...).between(...)` wherever that stays under the cap."""
    import icalendar
    import recurring_ical_events

    dtstart, rrule = rule
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:fuzz\r\nBEGIN:VEVENT\r\nUID:fuzz\r\n"
        f"SUMMARY:Fuzz\r\nDTSTART;TZID=Europe/Berlin:{dtstart}\r\nDURATION:PT30M\r\n"
        f"RRULE:{rrule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    start = datetime(2026, 1, 1, tzinfo=TZ) + timedelta(days=window_day)
    end = start + timedelta(days=28)
    # The reference is the library's own unbounded expansion. A rule no date satisfies
    # would make it search until 9999 (seconds per example): the search is cut at 2028,
    # after the window, as `expand` cuts its own.
    expand._LIMIT.year = 2028
    try:
        expected = sorted(
            o["DTSTART"].dt
            for o in recurring_ical_events.of(icalendar.Calendar.from_ical(text)).between(
                start - timedelta(minutes=30), end
            )
        )
    except Exception:  # the library cannot read it: then we only must not fail (above)
        return
    finally:
        expand._LIMIT.year = None
    if len(expected) > MAX_OCCURRENCES:
        return
    path = folder / "tame.ics"
    path.write_text(text, encoding="utf-8")
    source = IcsSource(str(path), "me@example.com", "Europe/Berlin")
    found = sorted(e.start for e in source.events(start, end))
    assert found == [s for s in expected if s + timedelta(minutes=30) > start], rrule
