"""The morning review's pure model (`calbot.core.digest`) and its renderings
(`calbot.present.digest_text`, `digest_html`): what is new, pending or gone, the hours won
back, trouble with its fix, the load chart, the user's language, and hostile text kept inert."""

from __future__ import annotations

import io
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from digest_rig import LAST, NOW, digest, review, run, settings

from calbot.config.settings import Outputs, Settings, Source
from calbot.core.digest import Trouble, TroubleKind, build_digest
from calbot.core.digest_chart import DayBar
from calbot.core.records import DayLoadRecord
from calbot.core.settings import UserSettings
from calbot.present.digest_html import render_html
from calbot.present.digest_text import print_terminal, render_plain
from calbot.present.digest_words import subject
from calbot.present.messages import TEXT
from calbot.usecases.digest import digest_message_id

WED = NOW + timedelta(days=1, hours=2)  # Wed 3 Dec 09:30, this week


# --- the model -------------------------------------------------------------------------------


def test_new_since_last_digest_versus_older_pending() -> None:
    reviews = [
        review("new", WED),
        review("old", WED + timedelta(hours=2), reported_at=LAST),
        review("gone-new", WED, status="user_deleted"),
        review("gone-old", WED, status="user_deleted", reported_at=LAST),
        review("past", NOW - timedelta(hours=3)),  # the meeting is over: nothing to send
    ]
    d = digest(reviews)
    assert [i.key for i in d.new] == ["new"]
    assert d.waiting == () and d.older_pending == 1
    assert [i.key for i in d.gone] == ["gone-new"]
    assert d.pending == 2
    assert d.shown_keys == ("new", "gone-new")
    every = digest(reviews, all_items=True)
    assert [i.key for i in every.waiting] == ["old"] and every.older_pending == 0
    assert every.shown_keys == ("new", "old", "gone-new")
    text = render_plain(d)
    assert "Drafted since the last digest (1)" in text
    assert "1 older draft still waits for review — `calbot digest --all` lists it" in text
    assert "You deleted or sent (1)" in text and "Acme sync gone-new" in text
    assert "gone-old" not in text and "Acme sync past" not in text
    assert "Still waiting for your review (1)" in render_plain(every)


def test_first_digest_has_its_own_headings() -> None:
    d = digest([review("a", WED)], since=None)
    text = render_plain(d)
    assert "Drafts waiting for your review (1)" in text
    assert "since the last digest" not in text


def test_user_edited_draft_is_flagged_and_links_are_given() -> None:
    drafts = {"gmail": "r-77", "outbox": "calbot-e.eml", "review_calendar": "rc-evt-9"}
    edited = review("e", WED, status="user_edited", drafts=drafts)
    d = build_digest(
        [edited, review("plain", WED)],
        [],
        [],
        settings(),
        NOW,
        since=LAST,
        outbox_dir=Path("/home/me/outbox"),
    )
    flagged = [i.key for i in d.new if i.edited]
    assert flagged == ["e"]
    text = render_plain(d)
    assert text.count("you edited this draft — calbot leaves it alone") == 1
    assert "Gmail draft r-77: https://mail.google.com/mail/u/me@example.com/#drafts" in text
    assert "file: /home/me/outbox/calbot-e.eml" in text
    assert "event: https://www.google.com/calendar/event?eid=e" in text
    assert "rc-evt-9" not in text  # the review calendar shows itself beside the meeting
    assert "Wed 3 Dec 09:30–10:30  Acme · reschedule" in text


def test_hours_won_back_this_week_and_next() -> None:
    reviews = [
        review("a", WED, saved_minutes=90),
        review("b", NOW + timedelta(days=3), saved_minutes=60),  # Fri
        review("c", NOW + timedelta(days=7), saved_minutes=30),  # next Tue
        review("d", NOW + timedelta(days=14), saved_minutes=600),  # in two weeks
        review("e", WED, saved_minutes=600, status="user_deleted"),
        review("f", NOW - timedelta(hours=2), saved_minutes=600),  # over
    ]
    d = digest(reviews)
    assert (d.saved_this_week, d.saved_next_week) == (150, 30)
    assert "If you send every draft, you win back 2.5 h this week (and 0.5 h next week)." in (
        render_plain(d)
    )
    only_next = digest([review("c", NOW + timedelta(days=7), saved_minutes=120)])
    assert "you win back 2 h next week." in render_plain(only_next)
    assert "win back" not in render_plain(digest([]))


FIXES = [
    ("failed", "boom: calendar.ics not found", "see the log, or run `calbot scan`"),
    ("auth", "Google access expired or was revoked", "fix: run `calbot auth`"),
    ("google_down", "Google still failing", "calbot retries by itself at the next scan"),
    ("locked", "", "look for a stuck calbot process"),
]


@pytest.mark.parametrize(("outcome", "error", "fix"), FIXES, ids=[f[0] for f in FIXES])
def test_trouble_from_runs_comes_with_its_fix(outcome: str, error: str, fix: str) -> None:
    d = digest(runs=[run(3), run(2, outcome, error=error), run(1)])
    assert len(d.trouble) == 1
    text = render_plain(d)
    assert "Trouble since the last digest" in text
    assert fix in text
    if error:
        assert error in text
    assert d.last_scan == NOW - timedelta(hours=1)


def test_repeated_trouble_is_one_line_and_warnings_have_fixes() -> None:
    testing = "Google will expire calbot's access on ... — run `calbot auth` again, or publish"
    runs = [
        run(5, "failed", error="calendar.ics: not found"),
        run(4, "failed", error="calendar.ics: not found"),
        run(3, "failed", error="calendar.ics: not found"),
        run(2, warnings=("primary: skipped Lunch: no start", testing)),
        run(1, warnings=("primary: skipped Lunch: no start",)),
    ]
    d = digest(runs=runs)
    kinds = [(t.kind, t.times) for t in d.trouble]
    assert kinds == [("failed", 3), ("warning", 2), ("warning", 1)]
    text = render_plain(d)
    assert "a scan failed (3 times, last at Tue 2 Dec 04:30): calendar.ics: not found" in text
    assert "calbot skipped it; check it in your calendar if it matters" in text
    assert "fix: run `calbot auth` again, or publish the app" in text
    # the shell's fresh expiry check replaces the copy the scans logged
    fresh = digest(runs=runs, extra_trouble=[Trouble(TroubleKind.EXPIRY, testing)])
    assert [t.kind for t in fresh.trouble] == ["failed", "warning", "expiry"]


TEAM_FIXED = [  # a single user's own fix, in team mode the administrator's
    ("failed", "boom: calendar.ics not found", "`calbot scan`"),
    ("auth", "Google access expired or was revoked", "`calbot auth`"),
    ("locked", "", "stuck calbot process"),
]


@pytest.mark.parametrize(
    ("outcome", "error", "own_fix"), TEAM_FIXED, ids=[f[0] for f in TEAM_FIXED]
)
@pytest.mark.parametrize("lang", ["en", "vi", "ms"])
def test_in_team_mode_the_fix_is_the_administrators(
    outcome: str, error: str, own_fix: str, lang: str
) -> None:
    from dataclasses import replace

    single = digest(runs=[run(2, outcome, error=error), run(1)])
    single = replace(single, language=lang)
    team = replace(single, team=True)
    admin = TEXT[lang]["digest.fix_team"]
    for render in (render_plain, render_html):
        assert admin not in render(single)
        assert admin in render(team) and "calbot team status" in render(team)
    if lang == "en":
        assert own_fix in render_plain(single)
        assert own_fix not in render_plain(team)
    stale = replace(digest(runs=[]), language=lang, team=True)
    assert admin in render_plain(stale) and "`calbot run`" not in render_plain(stale)
    # what the user needs no one for stays as it is
    down = replace(digest(runs=[run(2, "google_down", error="Google still failing")]), team=True)
    assert "calbot retries by itself at the next scan" in render_plain(down)


def test_no_scan_for_hours_is_trouble() -> None:
    d = digest(runs=[])
    (t,) = d.trouble
    assert t.kind == TroubleKind.STALE
    assert "no scan has run since Mon 1 Dec 07:30" in render_plain(d)
    assert "`calbot run`" in render_plain(d)
    recent = digest(runs=[], since=NOW - timedelta(minutes=10))
    assert recent.trouble == ()
    fine = digest(runs=[run(1), run(2)])
    assert "No trouble: all 2 scans went fine." in render_plain(fine)


def test_chart_marks_days_over_the_limit_for_the_coming_two_weeks() -> None:
    monday = date(2025, 12, 1)
    load = [
        DayLoadRecord(monday, 150, 3),  # yesterday: not charted
        DayLoadRecord(monday + timedelta(days=1), 390, 3),  # today, over hours only
        DayLoadRecord(monday + timedelta(days=2), 200, 5),  # over count only
        DayLoadRecord(monday + timedelta(days=3), 240, 4),  # exactly at the limit
        DayLoadRecord(monday + timedelta(days=6), 45, 1),  # Sunday with a meeting
        DayLoadRecord(monday + timedelta(days=8), 600, 9),  # next Tuesday: charted too
        DayLoadRecord(monday + timedelta(days=15), 600, 9),  # in two weeks: not charted
    ]
    chart = digest(load=load).chart
    # today through Monday in two weeks: every working day, and the Sunday with a meeting
    assert [c.day.day for c in chart] == [2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 15]
    assert [c.before.over for c in chart][:4] == [True, True, False, False]
    assert chart[6].before.over and not any(c.changes for c in chart)
    assert [c.before.is_today for c in chart][:2] == [True, False]
    text = render_plain(digest(load=load))
    rows = [line for line in text.splitlines() if line.startswith("  ") and " h  " in line]
    assert len(rows) == 11
    assert [("! over" in row) for row in rows][:4] == [True, True, False, False]
    assert "Meetings per day, the next two weeks (limit 4 h a day)" in text
    over = next(r for r in rows if "Tue 2 Dec" in r)
    light = next(r for r in rows if "Fri 5 Dec" in r)
    assert over.count("█") > 0 and light.count("█") == 0
    assert "┆" in light  # the limit is marked where the bar stops short of it
    assert "after:" not in text  # no draft changes anything: no "after" rows, no key


def test_html_bars_are_inline_styled_and_mark_over_days() -> None:
    load = [DayLoadRecord(date(2025, 12, 2), 390, 6), DayLoadRecord(date(2025, 12, 1), 60, 1)]
    page = render_html(digest(load=load))
    assert page.count("⚠ over") == 1
    assert "<style" not in page and "width:100.0%" in page


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        ("vi", ["bản tin buổi sáng", "Bản nháp mới kể từ bản tin trước (1)", "dời lịch"]),
        ("ms", ["ringkasan pagi", "Draf baharu sejak ringkasan lepas (1)", "tukar jadual"]),
    ],
)
def test_the_users_language(lang: str, phrases: list[str]) -> None:
    d = digest([review("a", WED)], runs=[run(1)], lang=lang)
    text = render_plain(d)
    for phrase in phrases:
        assert phrase in text
    assert subject(d).startswith("calbot: 1 ")


def test_every_language_has_every_phrase() -> None:
    def phrases(lang: str) -> set[str]:
        return {code for code in TEXT[lang] if code.startswith("digest.")}

    assert len(phrases("en")) > 50
    for lang in ("vi", "ms"):
        assert phrases(lang) == phrases("en"), lang


def test_subject_counts_every_pending_reply() -> None:
    reviews = [review("a", WED), review("b", WED, reported_at=LAST), review("c", WED)]
    assert subject(digest(reviews)) == "calbot: 3 replies to review — Tue 2 Dec"
    assert subject(digest([review("a", WED)])) == "calbot: 1 reply to review — Tue 2 Dec"
    assert subject(digest([])) == "calbot: nothing to review — Tue 2 Dec"


# --- rendering untrusted text ----------------------------------------------------------------

HOSTILE = review(
    "x",
    WED,
    summary='<script>alert("x")</script>\x1b]0;pwned\x07\rFAKE LINE\u202eevil',
    client='Evil "Corp" <b>bold</b> & co',
    reason="\x1b[2J\x1b[31mred\x1b[0m reason",
    event_link="javascript:alert(1)",
    drafts={"outbox": 'a"><img src=x onerror=alert(1)>.eml'},
)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs


def test_html_escapes_hostile_text() -> None:
    d = build_digest(
        [HOSTILE], [], [], settings(), NOW, since=LAST, outbox_dir=Path("/home/me/outbox")
    )
    page = render_html(d)
    parser = Tags()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags and "b" in parser.tags
    assert {name for name, _ in parser.attrs} <= {"lang", "charset", "style", "href"}
    hrefs = [v for n, v in parser.attrs if n == "href"]
    assert all(v and v.startswith(("https://", "file:///")) for v in hrefs), hrefs
    assert "&lt;script&gt;" in page and "Evil &quot;Corp&quot; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "\x1b" not in page and "\x07" not in page and "\u202e" not in page


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_output_strips_control_characters() -> None:
    out = FakeTty()
    print_terminal(digest([HOSTILE]), out, ["note \x1b[5mblink"])
    text = out.getvalue()
    assert "\x1b[" in text  # rich's own colours: this really is the terminal path
    for bad in ("\x1b]0;", "\x07", "\r", "\x1b[2J", "\x1b[31mred", "\u202e", "\x1b[5m"):
        assert bad not in text, repr(bad)
    assert "FAKE LINE" in text and "pwned" in text  # kept, but as harmless text


def test_plain_text_has_no_escape_codes() -> None:
    text = render_plain(digest([HOSTILE], runs=[run(1, "failed", error="x\x1b[31my")]))
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert "[2J" in text  # what is left of the sequence is inert text


def test_message_id_per_day() -> None:
    s = settings()
    assert digest_message_id(s, NOW) == "<calbot.digest.20251202@example.com>"
    assert digest_message_id(s, NOW + timedelta(days=1)) != digest_message_id(s, NOW)
    odd = Settings(user=UserSettings(email="me@[127.0.0.1]"), source=Source(), outputs=Outputs())
    assert digest_message_id(odd, NOW).endswith("@calbot.invalid>")


def test_day_bar_over_flags() -> None:
    bar = DayBar(date(2025, 12, 2), 240, 5, 240, 4)
    assert (bar.over_hours, bar.over_count, bar.over) == (False, True, True)
    bar = DayBar(date(2025, 12, 2), 241, 4, 240, 4)
    assert (bar.over_hours, bar.over_count, bar.over) == (True, False, True)
