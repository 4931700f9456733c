"""Fuzzing the event → meeting → draft path, bounded so CI runs it as-is.

Hypothesis makes Calendar-API-like event dicts (random and hostile text, control characters,
lone surrogates, random attendees, times around DST changes, fields missing or of the wrong
type) and pushes each through what a scan does with it: `to_event` (a `BadEvent` is the only
allowed failure), `classify`, `score`, `decide_all`, `make_draft` and `build_message`, then
parses the message back. Whatever the input: no other exception, every header one line, one
To, a subject without CR/LF, and template text in the event never evaluated. A smaller target
does the same from iCalendar text with random property values.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import tomllib
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from builders import DRAFT_HEADERS
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from calbot.adapters.google.events import BadEvent, compact, to_event
from calbot.adapters.mail import build_message, message_id_for
from calbot.config.loader import parse_settings
from calbot.config.settings import Settings
from calbot.config.templates import Templates, load_templates
from calbot.core.classify import classify
from calbot.core.decide import Scene, Scored, decide_all
from calbot.core.draft import DRAFT_ACTIONS, make_draft
from calbot.core.messages import message
from calbot.core.model import Action, Decision, Draft, Event, Proposal, Slot
from calbot.core.scoring import client_week_counts, repeat_count, score
from calbot.core.settings import LANGUAGES
from calbot.core.untrusted import is_unsafe, json_escaped
from calbot.core.workload import clip_events, measure
from calbot.present.messages import say
from calbot.present.render import explain_text, result_doc, table_rows
from calbot.usecases.scan import Outcome, ScanResult, Window

ME = "me@example.com"
TZ = ZoneInfo("Europe/Berlin")
# DST edges: Berlin spring forward / fall back 2026, New York's, and a quiet day
EDGES = [
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
    datetime(2026, 6, 16, 8, 0, tzinfo=UTC),
]
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Ho_Chi_Minh", "UTC", "Mars/Base", ""]
# "{{ 'zq' * 3 }}" evaluated would read "zqzqzq": the marker the checks look for
EVALUATED = "zqzqzq"
PAYLOADS = [
    "{{ 'zq' * 3 }}",
    "{{ 7*7 }}",
    "{% raw %}",
    "{% endraw %}{{ 7*7 }}",
    "{{ ''.__class__.__mro__ }}",
    "{% for i in range(3) %}zq{% endfor %}",
    "{0.__class__}",
    "{title}",
    "%(x)s",
    "%s%n",
    "\r\nBcc: evil@attacker.example\r\n",
    "\nSubject: owned\n\n",
    "<script>alert(1)</script>",
    "\x1b[31m\x07\x9b",
    "\u202e\u200f مراجعة שלום",
    "😀👩‍👩‍👧",
    "\ud800",
    "\udfff x \ud83d",
    "\x00",
    "=?utf-8?q?=0D=0ABcc:_x@y?=",
]


def settings_for(lang: str) -> Settings:
    data = tomllib.loads(
        f"""
[user]
email = "{ME}"
name = "Me Myself"
timezone = "Europe/Berlin"
own_domains = ["example.com"]
unknown_external_is_client = true

[thresholds]
act_at = 20

[[clients]]
name = "Acme"
domains = ["acme.example"]
language = "{lang}"
timezone = "Asia/Ho_Chi_Minh"
chatty = true
contacts = [{{ email = "minh@acme.example", name = "Minh {{{{ 'zq' * 3 }}}}", title = "anh" }}]
"""
    )
    return parse_settings(data, path="fuzz.toml", check_templates=False)


SETTINGS = {lang: settings_for(lang) for lang in LANGUAGES}


@pytest.fixture(scope="module")
def templates() -> Templates:
    return load_templates()


# --- strategies ---------------------------------------------------------------------------------

texts = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec=None, max_codepoint=0x3000, exclude_categories=["Cs"])),
    st.sampled_from(PAYLOADS),
    st.lists(st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=8)), max_size=4).map("".join),
)
wrong = st.one_of(st.none(), st.integers(), st.booleans(), st.lists(st.integers(), max_size=2))


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    if draw(st.integers(0, 5)) == 0:  # anywhere in the representable range (issue 11, #4)
        naive = draw(
            st.one_of(
                st.datetimes(min_value=datetime.min, max_value=datetime.max),
                st.sampled_from([datetime.min, datetime.max, datetime(9999, 12, 31, 23, 30)]),
            )
        )
        return naive.replace(tzinfo=draw(st.sampled_from([UTC, TZ, ZoneInfo("Asia/Tokyo")])))
    edge = draw(st.sampled_from(EDGES))
    return edge + timedelta(minutes=draw(st.integers(-36 * 60, 36 * 60)))


def shifted(start: datetime, minutes: int) -> datetime:
    """`start` plus `minutes`, kept inside the representable range."""
    try:
        return start + timedelta(minutes=minutes)
    except OverflowError:
        return start


@st.composite
def times(draw: st.DrawFn, start: datetime) -> Any:
    kind = draw(st.sampled_from(["offset"] * 3 + ["zoned", "floating", "date", "junk"]))
    zone = draw(st.sampled_from(ZONES))
    if kind == "date":
        return {"date": start.date().isoformat()}
    if kind == "junk":
        return draw(
            st.one_of(
                wrong,
                texts,
                st.fixed_dictionaries({}, optional={"dateTime": st.one_of(texts, wrong)}),
                st.sampled_from(
                    [
                        {"dateTime": "0001-01-01T00:30:00+01:00", "timeZone": "Europe/Berlin"},
                        {"dateTime": "9999-12-31T23:30:00-05:00", "timeZone": "Asia/Tokyo"},
                        {"dateTime": "2026-02-30T10:00:00Z"},
                        {"date": "2026-13-01"},
                        {"date": 20260301},
                    ]
                ),
            )
        )
    if kind == "floating":
        out: dict[str, Any] = {"dateTime": start.replace(tzinfo=None).isoformat()}
    else:
        try:
            local = start.astimezone(ZoneInfo(draw(st.sampled_from(ZONES[:4]))))
        except OverflowError:  # year 1 or 9999 shown in another zone: keep its own
            local = start
        out = {"dateTime": local.isoformat()}
    if kind in ("zoned", "floating") and zone:
        out["timeZone"] = zone
    return out


emails = st.one_of(
    st.emails(),
    st.sampled_from(["minh@acme.example", "lan@example.com", ME, "x@other.example"]),
    st.builds(lambda t: f"{t}@acme.example", texts),
    texts,
    wrong,
)
attendee = st.fixed_dictionaries(
    {"email": emails},
    optional={
        "displayName": st.one_of(texts, wrong),
        "responseStatus": st.one_of(
            st.sampled_from(["accepted", "declined", "tentative", "needsAction"]), texts, wrong
        ),
        "optional": st.one_of(st.booleans(), wrong),
        "organizer": st.booleans(),
        "self": st.booleans(),
        "resource": st.booleans(),
    },
)


@st.composite
def google_items(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 30)) == 0:
        return draw(st.one_of(wrong, texts))  # not even an object
    start = draw(moments())
    end = shifted(start, draw(st.integers(-30, 6 * 60)))
    if draw(st.integers(0, 8)) == 0:  # ends in year 9999 (or starts in year 1)
        end = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
    item = draw(
        st.fixed_dictionaries(
            {"id": st.one_of(st.text(min_size=1, max_size=20), st.sampled_from(PAYLOADS))},
            optional={
                "summary": st.one_of(texts, wrong),
                "description": st.one_of(texts, wrong),
                "location": st.one_of(texts, wrong),
                "status": st.one_of(st.sampled_from(["confirmed", "tentative"]), texts, wrong),
                "eventType": st.one_of(st.sampled_from(["default", "focusTime"]), wrong),
                "transparency": st.one_of(st.just("transparent"), wrong),
                "hangoutLink": st.one_of(st.just("https://meet.google.com/a-b-c"), texts, wrong),
                "recurringEventId": st.one_of(texts, wrong),
                "iCalUID": st.one_of(texts, wrong),
                "organizer": st.one_of(
                    st.fixed_dictionaries({"email": emails}, optional={"self": st.booleans()}),
                    wrong,
                ),
                "attendees": st.one_of(
                    st.lists(st.one_of(attendee, wrong), max_size=6),
                    wrong,
                ),
                "extendedProperties": st.one_of(
                    st.fixed_dictionaries(
                        {"private": st.dictionaries(st.sampled_from(["calbot_action"]), texts)}
                    ),
                    wrong,
                ),
            },
        )
    )
    if draw(st.integers(0, 12)):
        item["start"] = draw(times(start))
    if draw(st.integers(0, 4)):
        item["end"] = draw(times(end))
    if draw(st.integers(0, 4)):
        # a client attendee and the user, so that many examples reach the draft
        old = item.get("attendees")
        people: list[Any] = old if isinstance(old, list) else []
        people += [
            {"email": "minh@acme.example", "displayName": draw(texts), "organizer": True},
            {"email": ME, "self": True, "responseStatus": "accepted"},
        ]
        item["attendees"] = people
    return item


# --- the path under test ---------------------------------------------------------------------


def forced_decision(action: Action, event: Event) -> Decision:
    slot = Slot(event.start + timedelta(days=2), event.start + timedelta(days=2, hours=1))
    proposal = Proposal(
        duration_minutes=30 if action in (Action.SHORTEN, Action.BOUNDARY) else None,
        slots=(slot, Slot(slot.start + timedelta(days=1), slot.end + timedelta(days=1)))
        if action == Action.RESCHEDULE
        else (),
        delegate_to="lan@example.com" if action == Action.DELEGATE else None,
    )
    return Decision(action, 60, (), proposal, message("why.no_rule"))


def check_draft(
    event: Event, decision: Decision, settings: Settings, templates: Templates
) -> Draft:
    from calbot.core.classify import classify as again

    meeting = again(event, settings)
    assert meeting is not None
    draft = make_draft(meeting, decision, settings, templates, say)
    check_outputs(Outcome(meeting, decision, draft))
    assert "\r" not in draft.subject and "\n" not in draft.subject
    # the templates never evaluate event text
    assert EVALUATED not in draft.subject + draft.body + draft.private_notes
    assert "<class" not in draft.body + draft.subject
    (draft.subject + draft.body + draft.private_notes).encode("utf-8")
    if not draft.to:
        return draft  # the scan skips it with a warning: nobody to write to
    key = event.draft_key
    try:
        raw = build_message(
            draft,
            from_addr=ME,
            from_name="Me Myself",
            message_id=message_id_for(key, decision.action.value, "example.com"),
            date=datetime(2026, 1, 1, tzinfo=UTC),
        )
    except ValueError as exc:  # an attendee "address" that is none: the scan warns
        assert str(exc).startswith("not an e-mail address"), exc
        return draft
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert all(0x20 <= b < 0x7F or b in b"\r\n\t" for b in head)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    names = [k.lower() for k in msg]
    assert len(names) == len(set(names)), names
    assert set(names) <= DRAFT_HEADERS, names
    assert len(msg.get_all("To") or []) == 1
    assert [a.addr_spec.lower() for a in msg["To"].addresses] == [a.lower() for a in draft.to]
    for value in msg.values():
        assert "\r" not in str(value) and "\n" not in str(value)
    assert "\n" not in str(msg["Subject"])
    event_kind("drafted")
    return draft


def check_outputs(outcome: Outcome) -> None:
    """What the user sees of a meeting: the scan table, `explain` and `--json` carry no
    control sequence, line break or bidi control from event text, and the JSON parses."""
    window = Window(EDGES[0], EDGES[-1], EDGES[0])
    result = ScanResult(EDGES[0], window, [outcome], 1, 0, [])
    for row in table_rows(result, TZ):
        for cell in row:
            assert not any(is_unsafe(ch) for ch in cell), cell
    for line in explain_text(outcome, TZ, {}, "en").split("\n"):
        assert not any(is_unsafe(ch) for ch in line), line
    text = json_escaped(json.dumps(result_doc(result, {}, "en"), ensure_ascii=False, indent=2))
    assert not any(is_unsafe(ch) for ch in text if ch != "\n"), text
    doc = json.loads(text)
    assert doc["meetings"][0]["summary"] == outcome.meeting.event.summary


def event_kind(label: str) -> None:
    """Count what the examples reach (shown by `pytest --hypothesis-show-statistics`)."""
    from hypothesis import event
    from hypothesis.errors import InvalidArgument

    with contextlib.suppress(InvalidArgument):  # outside a hypothesis test: nothing to count
        event(label)


def run_path(
    item: Any, lang: str, forced: Action, templates: Templates, *, limited: bool = True
) -> None:
    """`limited`: the adapter drops events outside the window (as a scan's source does);
    else every event comes through and the core clips it to the window (`clip_events`)."""
    settings = SETTINGS[lang]
    lo = EDGES[0] - timedelta(days=300)
    hi = EDGES[-1] + timedelta(days=300)
    try:
        event = to_event(
            compact(item) if isinstance(item, dict) else item,
            "primary",
            ME,
            TZ,
            within=(lo, hi) if limited else None,
        )
    except BadEvent as exc:
        assert "\n" not in str(exc) and "\r" not in str(exc)
        str(exc).encode("utf-8")
        event_kind("skipped as a bad event")
        return
    if event is None:
        event_kind("cancelled or out of range")
        return
    for text in (event.id, event.summary, event.description, event.location, event.organizer):
        text.encode("utf-8")
    kept, unusable = clip_events([event], lo, hi)
    for warning in unusable:
        assert "\n" not in say(warning, lang)
        event_kind("times unusable")
    if not kept:
        event_kind("outside the window")
        return
    (event,) = kept
    meeting = classify(event, settings)
    if meeting is None:
        event_kind("not a client meeting")
        return
    day = event.start.astimezone(TZ).date()
    workload = measure([event], settings.user, day - timedelta(days=1), day + timedelta(days=1))
    counts = client_week_counts([meeting], TZ)
    n = repeat_count(meeting, counts, TZ)
    scored = Scored(meeting, score(meeting, workload, n, settings), n)
    scene = Scene(
        now=event.start - timedelta(days=3),
        horizon_end=event.start + timedelta(days=14),
        workload=workload,
        settings=settings,
    )
    decision = decide_all([scored], scene)[event.id]
    assert 0 <= decision.score <= 100
    if decision.action != Action.NONE:
        check_draft(event, decision, settings, templates)
    check_draft(event, forced_decision(forced, event), settings, templates)


@hsettings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(google_items(), st.sampled_from(LANGUAGES), st.sampled_from(DRAFT_ACTIONS), st.booleans())
def test_google_event_to_draft_never_breaks(templates, item, lang, forced, limited):
    run_path(item, lang, forced, templates, limited=limited)


# --- ICS ------------------------------------------------------------------------------------------

ics_values = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=30),
    st.sampled_from([p for p in PAYLOADS if "\ud800" not in p and "\udfff" not in p]),
    st.sampled_from(
        [
            "20261025T023000",
            "20260329T023000",
            "2026-03-29",
            "garbage",
            "PT1H",
            "-PT5H",
            "P1000000D",
            "FREQ=DAILY;COUNT=3",
            "FREQ=BOGUS",
            "",
        ]
    ),
)


@st.composite
def vevents(draw: st.DrawFn) -> bytes:
    lines = ["BEGIN:VEVENT", f"UID:fuzz-{draw(st.integers(0, 3))}"]
    start = draw(st.sampled_from(["20261025T023000", "20260329T023000", "20260616T100000"]))
    if draw(st.integers(0, 8)):
        tz = draw(st.sampled_from([";TZID=Europe/Berlin", "", ";TZID=Nowhere/Land", ";VALUE=DATE"]))
        lines.append(f"DTSTART{tz}:{start if 'DATE' not in tz else start[:8]}")
    for prop in draw(
        st.lists(
            st.sampled_from(["SUMMARY", "DESCRIPTION", "LOCATION", "DTEND", "DURATION", "RRULE",
                             "STATUS", "TRANSP", "URL", "X-GOOGLE-CONFERENCE", "ORGANIZER",
                             "ATTENDEE;CN=x", "ATTENDEE;PARTSTAT=ACCEPTED", "EXDATE"]),
            max_size=8,
        )
    ):  # fmt: skip
        lines.append(f"{prop}:{draw(ics_values)}")
    lines.append("ATTENDEE;CN=Minh;PARTSTAT=ACCEPTED:mailto:minh@acme.example")
    lines.append(f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ME}")
    lines.append(f"SUMMARY:{draw(ics_values)}")
    lines.append("END:VEVENT")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8", "surrogatepass")


@hsettings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(vevents(), min_size=1, max_size=3),
    st.sampled_from(LANGUAGES),
    st.sampled_from(DRAFT_ACTIONS),
)
def test_ics_event_to_draft_never_breaks(templates, tmp_path_factory, events, lang, forced):
    from calbot.adapters.ics import IcsSource

    path = tmp_path_factory.mktemp("ics") / "fuzz.ics"
    path.write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + b"".join(events) + b"END:VCALENDAR\r\n"
    )
    source = IcsSource(str(path), ME, "Europe/Berlin")
    window = (datetime(2026, 1, 1, tzinfo=TZ), datetime(2027, 1, 1, tzinfo=TZ))
    found = list(source.events(*window))
    for warning in source.warnings:
        text = say(warning, lang)
        assert "\n" not in text and "\r" not in text
    settings = SETTINGS[lang]
    for event in found[:5]:
        meeting = classify(event, settings)
        if meeting is None:
            continue
        check_draft(event, forced_decision(forced, event), settings, templates)


def test_fuzz_world_drafts_something(templates):
    """The harness is not vacuous: a plain client event does reach a decided draft."""
    item = {
        "id": "plain",
        "summary": "Plan {{ 'zq' * 3 }}",
        "location": "Acme office",
        "start": {"dateTime": "2026-06-16T10:00:00+02:00"},
        "end": {"dateTime": "2026-06-16T13:00:00+02:00"},
        "attendees": [
            {"email": "minh@acme.example", "organizer": True, "responseStatus": "accepted"},
            {"email": ME, "self": True, "responseStatus": "accepted"},
        ],
    }
    event = to_event(item, "primary", ME, TZ)
    assert event is not None
    meeting = classify(event, SETTINGS["en"])
    assert meeting is not None
    workload = measure([event], SETTINGS["en"].user, date(2026, 6, 15), date(2026, 6, 17))
    scored = Scored(meeting, score(meeting, workload, 1, SETTINGS["en"]), 1)
    scene = Scene(
        event.start - timedelta(days=3), event.start + timedelta(days=14), workload, SETTINGS["en"]
    )
    decision = decide_all([scored], scene)["plain"]
    assert decision.action != Action.NONE
    check_draft(event, decision, SETTINGS["en"], templates)
