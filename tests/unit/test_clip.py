"""Events with any dates — year 1 to year 9999, all-day or timed, in any zone — never stop a
scan: the core clips each event to the window before any day arithmetic and skips one whose
times cannot be used, with a warning naming it (issue 11, #4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from builders import ListSource, at, client, event, settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from calbot.adapters.memory_state import MemoryStore
from calbot.config.templates import Templates, load_templates
from calbot.core.classify import classify, dedupe
from calbot.core.decide import Scene, Scored, decide_all
from calbot.core.draft import make_draft
from calbot.core.model import Action, Event
from calbot.core.scoring import client_week_counts, repeat_count, score
from calbot.core.settings import Thresholds
from calbot.core.workload import CLIP_MARGIN, clip_events, measure
from calbot.present.messages import say
from calbot.usecases.scan import Ports, Window, run_scan

NOW = at("2026-11-25 10:00")
WINDOW = Window(start=NOW, end=NOW + timedelta(days=14), history_start=NOW - timedelta(days=14))
# act_at 20: the plain two-hour in-person meeting each example adds is acted on
SETTINGS = settings(
    client(language="en", timezone="Asia/Ho_Chi_Minh", chatty=True),
    thresholds=Thresholds(act_at=20),
)
TZ = ZoneInfo(SETTINGS.user.timezone)


@pytest.fixture(scope="module")
def templates() -> Templates:
    return load_templates()


def with_times(base: Event, start: datetime, end: datetime, **kw: Any) -> Event:
    return replace(base, start=start, end=end, **kw)


# --- strategies ---------------------------------------------------------------------------

zones = st.one_of(
    st.sampled_from(
        [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12")]
    ),
    st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m))),
    st.timezones(),
)
# anywhere from datetime.min to datetime.max, or near the window (so many events are meetings)
anywhere = st.datetimes(min_value=datetime.min, max_value=datetime.max)
near = st.integers(-40 * 24 * 60, 40 * 24 * 60).map(
    lambda m: (NOW + timedelta(minutes=m)).replace(tzinfo=None)
)
edges = st.sampled_from(
    [
        datetime.min,
        datetime.max,
        datetime(1, 1, 1, 0, 30),
        datetime(9999, 12, 31, 23, 30),
        datetime(9999, 12, 31, 23, 59, 59),
        WINDOW.start.replace(tzinfo=None),
        WINDOW.end.replace(tzinfo=None),
        WINDOW.end.replace(tzinfo=None) - timedelta(seconds=1),
        WINDOW.history_start.replace(tzinfo=None),
    ]
)
moments = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone), st.one_of(anywhere, near, edges), zones
)


@st.composite
def events(draw: st.DrawFn) -> Event:
    start = draw(moments)
    if draw(st.booleans()):
        end = draw(moments)
    else:  # a short event after its start, as a calendar would hold it (1 s at the edges)
        seconds = draw(st.sampled_from([0, 1, 60, 3600, 86400]))
        try:
            end = start + timedelta(seconds=seconds)
        except OverflowError:
            end = start
    all_day = draw(st.integers(0, 4)) == 0
    if all_day:  # an all-day event spans local midnights
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        end = end.replace(hour=0, minute=0, second=0, microsecond=0)
    base = event("2026-12-01 10:00", 60, location="Acme office")
    return with_times(base, start, end, all_day=all_day)


event_lists = st.lists(events(), max_size=6).map(
    lambda found: [
        *found,
        event("2026-12-01 10:00", 120, location="Acme office"),  # a meeting that is acted on
    ]
)

hypothesis_settings = hsettings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


# --- properties ---------------------------------------------------------------------------


@hypothesis_settings
@given(event_lists)
def test_the_core_pipeline_never_raises_on_any_dates(templates, found):
    """clip → classify → measure → score → decide → draft, whatever the events' dates."""
    kept, warnings = clip_events(found, WINDOW.history_start, WINDOW.end)
    lo, hi = WINDOW.history_start - CLIP_MARGIN, WINDOW.end + CLIP_MARGIN
    for e in kept:
        assert lo <= e.start <= hi and lo <= e.end <= hi
    assert len(kept) + len(warnings) <= len(found)
    kept = dedupe(kept)
    meetings = [m for e in kept if (m := classify(e, SETTINGS)) is not None]
    workload = measure(
        kept, SETTINGS.user, WINDOW.history_start.astimezone(TZ).date(), WINDOW.end.date()
    )
    counts = client_week_counts(meetings, TZ)
    scored = []
    for m in meetings:
        n = repeat_count(m, counts, TZ)
        scored.append(Scored(m, score(m, workload, n, SETTINGS), n))
    decisions = decide_all(scored, Scene(NOW, WINDOW.end, workload, SETTINGS))
    acted = 0
    for s in scored:
        decision = decisions[s.meeting.event.id]
        if decision.action != Action.NONE:
            make_draft(s.meeting, decision, SETTINGS, templates, say)
            acted += 1
    assert acted >= 1  # the plain meeting still gets its draft


@hypothesis_settings
@given(event_lists)
def test_a_scan_never_raises_on_any_dates(templates, found):
    """The scan use case with an in-memory store and a list source."""
    result = run_scan(
        SETTINGS, Ports(ListSource(found), MemoryStore()), templates, now=NOW, window=WINDOW
    )
    assert any(o.draft is not None for o in result.outcomes)


# --- examples -----------------------------------------------------------------------------


def test_an_event_ending_in_year_9999_is_clipped_and_measured():
    long = with_times(
        event("2026-12-01 10:00"), at("2026-12-01 10:00"), datetime.max.replace(tzinfo=UTC)
    )
    kept, warnings = clip_events([long], WINDOW.history_start, WINDOW.end)
    assert warnings == []
    (clipped,) = kept
    assert clipped.start == long.start
    assert clipped.end == WINDOW.end + CLIP_MARGIN
    load = measure(kept, SETTINGS.user, date(2026, 11, 11), date(2026, 12, 9))
    assert load.day(date(2026, 12, 2)).meeting_minutes == 24 * 60


def test_an_event_whose_times_do_not_convert_is_skipped_with_a_warning_naming_it():
    # year 1, 00:30 at +01:00 is before datetime.min in UTC
    bad = with_times(
        event("2026-12-01 10:00", summary="Ancient"),
        datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
        at("2026-12-01 11:00"),
    )
    kept, warnings = clip_events([bad], WINDOW.history_start, WINDOW.end)
    assert kept == []
    (warning,) = warnings
    text = say(warning, "en")
    assert "'Ancient'" in text and f"cal/{bad.id}" in text and "\n" not in text


def test_events_inside_the_margin_keep_their_times():
    edge = event("2026-12-09 09:30", 90)  # ends after the window, inside the margin
    kept, _ = clip_events([edge], WINDOW.history_start, WINDOW.end)
    assert kept == [edge]


def test_measure_alone_walks_only_the_measured_days():
    """Whatever a caller passes, measure cuts every span to the days it measures."""
    forever = with_times(
        event("2026-12-01 10:00"),
        datetime.min.replace(tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC),
        all_day=True,
        event_type=event("2026-12-01 10:00").event_type,
    )
    load = measure([forever], SETTINGS.user, date(2026, 12, 1), date(2026, 12, 3))
    assert set(load.days) == {date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)}
