"""Property-based checks of the arithmetic every decision rests on."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from builders import block, event, settings
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from calbot.core.workload import measure, merge

TZ = ZoneInfo("Europe/Berlin")
FIRST, LAST = date(2026, 3, 23), date(2026, 4, 5)  # spans the March DST change
BASE = datetime(2026, 3, 23, tzinfo=TZ)

starts = st.integers(min_value=0, max_value=13 * 24 * 4)  # quarter hours into the window
lengths = st.integers(min_value=1, max_value=16)  # quarter hours
spans = st.lists(st.tuples(starts, lengths), max_size=25)


def make(span_list, meetings=True):
    out = []
    for q, n in span_list:
        start = (BASE.astimezone(UTC) + timedelta(minutes=15 * q)).astimezone(TZ)
        out.append(
            event(start, 15 * n) if meetings else block(start.strftime("%Y-%m-%d %H:%M"), 15 * n)
        )
    return out


@hsettings(max_examples=60, deadline=None)
@given(spans)
def test_day_hours_add_up_to_the_union_of_meetings(span_list):
    events = make(span_list)
    w = measure(events, settings().user, FIRST, LAST)
    union = merge((e.start.astimezone(UTC), e.end.astimezone(UTC)) for e in events)
    lo = datetime.combine(FIRST, time(0), tzinfo=TZ).astimezone(UTC)
    hi = datetime.combine(LAST + timedelta(1), time(0), tzinfo=TZ).astimezone(UTC)
    expected = sum(
        ((min(e, hi) - max(s, lo)).total_seconds() / 60 for s, e in union if e > lo and s < hi), 0.0
    )
    assert abs(sum(d.meeting_minutes for d in w.days.values()) - expected) < 1e-6
    assert abs(sum(w.weeks.values()) - expected) < 1e-6
    assert sum(d.meeting_count for d in w.days.values()) == sum(
        1 for e in events if FIRST <= e.start.astimezone(TZ).date() <= LAST
    )
    for d in w.days.values():
        if d.longest_free_minutes is not None:
            assert 0 <= d.longest_free_minutes <= 8.5 * 60
