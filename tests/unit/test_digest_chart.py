"""The digest's two-week load chart and its held slots (SPEC §7, §1.7): the numbers
(`calbot.core.digest_chart`, `calbot.core.digest`) for a hand-built set of review items,
holds and day loads, what the text and the HTML show of them, and the day loads a scan
leaves for it (`calbot.usecases.scan_record.day_loads`)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from calbot.config.settings import Settings
from calbot.core.digest import Digest, build_digest
from calbot.core.digest_chart import load_chart
from calbot.core.records import DayLoadRecord, HoldRecord, ReviewItem
from calbot.core.savings import minutes_left
from calbot.core.scan_result import Window
from calbot.core.settings import Thresholds, UserSettings
from calbot.core.workload import DayLoad, Workload
from calbot.present.digest_html import render_html
from calbot.present.digest_text import render_plain
from calbot.present.messages import hours
from calbot.usecases.scan_record import day_loads

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 12, 2, 7, 30, tzinfo=TZ)  # a Tuesday
TUE, WED, THU, FRI, MON = (date(2025, 12, d) for d in (2, 3, 4, 5, 8))


def settings(lang: str = "en") -> Settings:
    return Settings(
        user=UserSettings(email="me@example.com", timezone="Europe/Berlin", language=lang),
        thresholds=Thresholds(max_meeting_hours_per_day=4, max_meetings_per_day=4),
    )


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def item(key: str, action: str, start: datetime, minutes: int, saved: int, **kw: Any) -> ReviewItem:
    fields: dict[str, Any] = {
        "key": key,
        "client": "Acme",
        "summary": f"Acme {key}",
        "start": start,
        "end": start + timedelta(minutes=minutes),
        "action": action,
        "reason": "a reason",
        "event_link": "",
        "drafts": {"outbox": f"calbot-{key}.eml"},
        "saved_minutes": saved,
        "status": "new",
        "drafted_at": NOW - timedelta(hours=1),
    }
    fields.update(kw)
    return ReviewItem(**fields)


def hold(key: str, start: datetime, minutes: int = 60) -> HoldRecord:
    return HoldRecord(key, f"evt-{key}", "Acme", start, start + timedelta(minutes=minutes))


LOADS = [
    DayLoadRecord(TUE, 390, 5),
    DayLoadRecord(WED, 300, 4),
    DayLoadRecord(THU, 60, 1),
    DayLoadRecord(MON, 120, 2),
]
ITEMS = [
    item("move", "reschedule", at(TUE, 14), 60, 0),
    item("mail", "email", at(WED, 10), 90, 90),
    item("short", "shorten", at(WED, 13), 120, 60),  # 2 h → 1 h
    item("call", "call", at(TUE, 16), 60, 60),  # saves the trip, not meeting time
    item("box", "boundary", at(MON, 10), 60, 15),  # boxed to 45 min
    item("tiny", "boundary", at(MON, 12), 15, 15),  # agenda only: stays 15 min
    item("deleg", "delegate", at(MON, 15), 30, 30),
    item("gone", "email", at(THU, 9), 60, 60, status="user_deleted"),
    item("over", "email", at(TUE, 6), 60, 60),  # ended before the digest
]
# the reschedule's first slot is Thursday's, though listed second; "gone" holds nothing now
HOLDS = [
    hold("move", at(FRI, 10)),
    hold("move", at(THU, 10)),
    hold("gone", at(FRI, 14)),
]


def build(lang: str = "en", **kw: Any) -> Digest:
    return build_digest(ITEMS, [], LOADS, settings(lang), NOW, holds=HOLDS, **kw)


def test_before_and_after_per_day() -> None:
    chart = {c.day: c for c in build().chart}
    got = {
        day: ((c.before.minutes, c.before.count), (c.after.minutes, c.after.count))
        for day, c in chart.items()
        if c.changes or c.before.minutes
    }
    assert got == {
        TUE: ((390, 5), (330, 4)),  # the move leaves; the call stays
        WED: ((300, 4), (150, 3)),  # the e-mail leaves, the 2 h meeting becomes 1 h
        THU: ((60, 1), (120, 2)),  # the move lands on its first slot
        MON: ((120, 2), (75, 1)),  # the box saves 15 min, the delegated one leaves
    }
    assert chart[TUE].before.over and chart[TUE].after.over  # 5.5 h is still over 4 h
    assert chart[WED].before.over and not chart[WED].after.over
    assert not chart[FRI].changes and chart[FRI].after.minutes == 0
    assert min(chart) == TUE and max(chart) == date(2025, 12, 15)  # two weeks from today


def test_held_slots_per_item_and_in_all() -> None:
    d = build(all_items=True)
    by_key = {i.key: i for i in d.new}
    assert [h.start for h in by_key["move"].holds] == [at(THU, 10), at(FRI, 10)]
    assert all(h.start.tzinfo == TZ for h in by_key["move"].holds)
    assert by_key["mail"].holds == ()
    assert d.held_slots == 2  # the deleted draft's hold is not counted
    assert d.pending_calls == 1


def test_a_passed_slot_holds_nothing() -> None:
    holds = [hold("move", NOW - timedelta(hours=2)), hold("move", at(THU, 10))]
    d = build_digest(ITEMS, [], LOADS, settings(), NOW, holds=holds)
    (move,) = [i for i in d.new if i.key == "move"]
    assert [h.start for h in move.holds] == [at(THU, 10)]
    assert d.held_slots == 1


def test_a_slot_lands_on_the_users_local_day() -> None:
    # 23:30 UTC on Thursday is 00:30 on Friday in Berlin
    late = HoldRecord(
        "move",
        "evt",
        "Acme",
        datetime(2025, 12, 4, 23, 30, tzinfo=UTC),
        datetime(2025, 12, 5, 0, 30, tzinfo=UTC),
    )
    chart = {c.day: c for c in load_chart(LOADS, ITEMS[:1], [late], settings(), NOW)}
    assert (chart[FRI].after.minutes, chart[FRI].after.count) == (60, 1)
    assert not chart[THU].changes


def test_a_stale_load_never_goes_below_nothing() -> None:
    chart = load_chart([], [item("mail", "email", at(WED, 10), 90, 90)], [], settings(), NOW)
    wed = next(c for c in chart if c.day == WED)
    assert (wed.after.minutes, wed.after.count) == (0, 0)


@pytest.mark.parametrize(
    ("action", "booked", "saved", "left"),
    [
        ("email", 60, 60, None),
        ("delegate", 30, 30, None),
        ("reschedule", 60, 0, None),
        ("shorten", 90, 45, 45),
        ("boundary", 60, 15, 45),
        ("boundary", 15, 15, 15),  # agenda only
        ("call", 60, 60, 60),
        ("none", 60, 0, 60),
    ],
)
def test_minutes_left_after_accepting(
    action: str, booked: int, saved: int, left: int | None
) -> None:
    assert minutes_left(action, booked, saved) == left


# --- what the text and the HTML show -----------------------------------------------------------


def chart_rows(text: str) -> list[str]:
    start = text.index("Meetings per day")
    return [line for line in text[start:].splitlines()[1:] if line.startswith("  ")]


def test_text_shows_before_and_after_rows() -> None:
    text = render_plain(build())
    rows = chart_rows(text)
    tue = next(i for i, r in enumerate(rows) if r.startswith("  Tue 2 Dec"))
    assert hours(390) in rows[tue] and "5 meetings" in rows[tue] and "! over" in rows[tue]
    assert rows[tue + 1].lstrip().startswith("→ after")
    assert hours(330) in rows[tue + 1] and "4 meetings" in rows[tue + 1]
    assert "! over" in rows[tue + 1]
    wed = next(i for i, r in enumerate(rows) if r.startswith("  Wed 3 Dec"))
    assert hours(150) in rows[wed + 1] and "! over" not in rows[wed + 1]
    fri = next(i for i, r in enumerate(rows) if r.startswith("  Fri 5 Dec"))
    assert "→ after" not in rows[fri + 1]  # nothing changes on Friday
    # the bars: shorter after; fixed width, no colour codes
    assert rows[wed + 1].count("█") < rows[wed].count("█")
    assert "\x1b" not in text
    assert "after: once every draft is sent and accepted" in text
    assert "A call saves the trip, not meeting time" in text
    assert "2 offered slots are kept free for your drafts" in text
    assert "kept free: Thu 4 Dec 10:00–11:00 · Fri 5 Dec 10:00–11:00" in text


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("vi", ["hai tuần tới", "→ sau", "đang giữ chỗ: ", "2 khung giờ"]),
        ("ms", ["dua minggu akan datang", "→ selepas", "dikhaskan: ", "2 slot"]),
    ],
)
def test_the_chart_speaks_the_users_language(lang: str, words: list[str]) -> None:
    text = render_plain(build(lang))
    for word in words:
        assert word in text, word
    assert "after" not in text


class Bars(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.widths: list[float] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        style = dict(attrs).get("style") or ""
        m = re.match(r"width:([\d.]+)%;height:14px", style)
        if m:
            self.widths.append(float(m.group(1)))


def test_html_shows_before_and_after_bars_without_scripts() -> None:
    page = render_html(build())
    parser = Bars()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags and "link" not in parser.tags
    days = len(build().chart)
    changed = sum(1 for c in build().chart if c.changes)
    assert len(parser.widths) == days + changed  # one bar per day, a second where it changes
    assert page.count("→ after") == changed == 4
    assert "kept free: Thu 4 Dec 10:00–11:00 · Fri 5 Dec 10:00–11:00" in page
    assert "2 offered slots are kept free" in page


def test_hostile_text_in_a_held_item_stays_escaped() -> None:
    evil = item(
        "move", "reschedule", at(TUE, 14), 60, 0, summary="<script>x</script>", client='Evil "Corp"'
    )
    d = build_digest([evil], [], LOADS, settings(), NOW, holds=HOLDS[:2])
    page = render_html(d)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Evil &quot;Corp&quot;" in page


# --- what the scan leaves for the chart ---------------------------------------------------------


def test_day_loads_cover_two_weeks_ahead_of_a_late_week_scan() -> None:
    friday = datetime(2025, 12, 5, 18, tzinfo=TZ)
    window = Window(friday, friday + timedelta(days=14), friday - timedelta(days=14))
    days = {d: DayLoad(d, 30.0 * (d.day % 5), d.day % 3) for d in (date(2025, 12, 18),)}
    loads = day_loads(window, Workload(TZ, days, {}))
    assert loads[0].day == date(2025, 12, 1)  # the scan week's Monday
    assert loads[-1].day == date(2025, 12, 19)  # two weeks ahead of Friday
    (thu,) = [d for d in loads if d.day == date(2025, 12, 18)]
    assert (thu.meeting_minutes, thu.meeting_count) == (90.0, 0)
    narrow = Window(friday, friday + timedelta(days=2), friday - timedelta(days=14))
    assert day_loads(narrow, Workload(TZ, days, {}))[-1].day == date(2025, 12, 7)
