"""The review calendar sink against the fake Google server, through the real googleapiclient
over HTTP.

The `google` fixture fails any test during which calbot invited anyone, sent updates, or used
`calendar.app.created` on a calendar it did not create (its `violations`); on top of that,
`only_review_writes` checks that every write went to the review calendar and nowhere else.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from builders import ListSource, at, event
from replies import reply

from calbot.adapters.google import api as google_api
from calbot.adapters.google.api import GoogleApi
from calbot.adapters.google.review import ReviewCalendar
from calbot.adapters.google.review_id import ID_FILE_NAME, META_KEY, IdFile, id_file_for
from calbot.adapters.google.scopes import CALENDAR_APP_CREATED, scopes_for
from calbot.adapters.mail import message_id_for
from calbot.adapters.memory_state import MemoryStore
from calbot.config.loader import parse_settings
from calbot.config.settings import Settings
from calbot.config.templates import load_templates
from calbot.core.model import (
    Action,
    Draft,
    Event,
)
from calbot.errors import ServiceError
from calbot.ports.sinks import DraftGone, Written
from calbot.present.messages import say, section
from calbot.usecases import scan as service
from calbot.usecases.wiring import review_calendar

ME = "me@studio.example"
TZ = ZoneInfo("Europe/Berlin")
MID = message_id_for("cal/evt-1", "shorten", "studio.example")
MID2 = message_id_for("cal/evt-2", "reschedule", "studio.example")
DRAFT = Draft(
    language="en",
    to=("ana@acme.example",),
    to_names=("Ana",),
    cc=("ops@acme.example",),
    subject="Acme roadmap review — 45 minutes instead of 2 hours?",
    body="Hi Ana,\n\nCould we keep it to 45 minutes?\n\nBest regards,\nMe\n",
    private_notes="Ana likes to start with the numbers.",
)
# the replies most tests write: a "shorten" for the 10:00 review, a "reschedule" for 14:00
FIRST = reply(DRAFT, MID)
SECOND = reply(DRAFT, MID2, hour=14, action=Action.RESCHEDULE)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# --- fixtures ------------------------------------------------------------------------------


def make_settings(google: Any, tmp_path: Path, scopes: list[str] | None = None) -> Settings:
    token = tmp_path / "secrets" / "token.json"
    s = parse_settings(
        {
            "user": {
                "email": ME,
                "name": "Me Myself",
                "timezone": "Europe/Berlin",
                "own_domains": ["studio.example"],
                "signature": "Me",
            },
            "source": {"kind": "google", "calendars": ["primary"]},
            "clients": [
                {
                    "name": "Acme",
                    "domains": ["acme.example"],
                    "language": "en",
                    "timezone": "Europe/London",
                }
            ],
            "google": {"api_root": google.root, "token_file": str(token)},
            "outputs": {"gmail_drafts": False, "review_calendar": True, "outbox": ""},
        },
        path="test.toml",
        check_templates=False,
    )
    google.write_token(token, scopes if scopes is not None else scopes_for(s))
    return s


@pytest.fixture
def settings(google: Any, tmp_path: Path) -> Settings:
    google.user_email = ME
    return make_settings(google, tmp_path)


@pytest.fixture
def api(settings: Settings) -> GoogleApi:
    return google_api.connect(settings, sleep=lambda s: None)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def new_sink(api: GoogleApi, settings: Settings, store: MemoryStore | None) -> ReviewCalendar:
    """The sink as the app wires it (`wiring.review_calendar`) when there is a store; without
    one, the id file beside the token alone."""
    if store is None:
        return ReviewCalendar(
            api,
            settings,
            labels=section("review.", settings.user.language),
            keeper=IdFile(id_file_for(settings)),
        )
    return review_calendar(api, settings, store)


@pytest.fixture
def sink(api: GoogleApi, settings: Settings, store: MemoryStore) -> ReviewCalendar:
    return new_sink(api, settings, store)


@pytest.fixture
def only_review_writes(google: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """At the end of the test: every write request went to calendars.insert itself or to
    the events of a calendar calbot created (deleted ones included)."""
    created: list[str] = []
    insert = google._calendars_insert

    def recording(body: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = insert(body)
        created.append(out["id"])
        return out

    monkeypatch.setattr(google, "_calendars_insert", recording)
    yield
    assert created, "no review calendar was created"
    for r in writes_of(google):
        if r.route == "calendar.calendars.insert":
            assert r.path == "/calendar/v3/calendars"
            continue
        parts = unquote(r.path).split("/")
        assert parts[:4] == ["", "calendar", "v3", "calendars"], r.path
        assert parts[4] in created, f"{r.route} wrote to {parts[4]}"
        assert r.route.startswith("calendar.events."), r.route


def writes_of(google: Any) -> list[Any]:
    return [
        r for r in google.requests if r.method in WRITE_METHODS and r.route.startswith("calendar.")
    ]


def review_events(google: Any, cid: str) -> list[dict[str, Any]]:
    return [e for e in google._cals[cid].events.values() if e["status"] != "cancelled"]


def held_apart(google: Any, cid: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the review events, the hold events) on the calendar."""
    every = review_events(google, cid)
    holds = [e for e in every if "calbot_hold" in e["extendedProperties"]["private"]]
    return [e for e in every if e not in holds], holds


# --- the sink ------------------------------------------------------------------------------


def test_nothing_is_created_by_observe_or_find(
    google: Any, sink: ReviewCalendar, settings: Settings, store: MemoryStore
) -> None:
    assert sink.observe([]) == {}
    assert sink.observe(["evt-x"]) == {"evt-x": None}
    assert sink.find(MID) is None
    assert google.requests == []  # no calendar yet: nothing to ask
    assert not id_file_for(settings).exists()
    assert store.get_meta(META_KEY) is None


def test_first_create_makes_one_calendar_and_keeps_its_id_beside_the_token(
    google: Any,
    sink: ReviewCalendar,
    settings: Settings,
    store: MemoryStore,
    only_review_writes: None,
) -> None:
    first = sink.create(FIRST)
    second = sink.create(SECOND)

    assert google.count("calendar.calendars.insert") == 1
    (insert,) = [r for r in google.requests if r.route == "calendar.calendars.insert"]
    assert insert.body["summary"] == "calbot review"
    assert insert.body["timeZone"] == "Europe/Berlin"
    cid = sink.calendar_id
    assert cid is not None and google._cals[cid].app_created
    id_file = Path(settings.google.token_file).parent / ID_FILE_NAME
    assert id_file == id_file_for(settings)
    assert id_file.read_text(encoding="utf-8").strip() == cid
    assert stat.S_IMODE(id_file.stat().st_mode) == 0o600
    assert store.get_meta(META_KEY) == cid
    assert {e["id"] for e in review_events(google, cid)} == {first.ref, second.ref}
    assert first.version == google.event(cid, first.ref)["etag"]
    assert first.content_hash == sink.content_hash(FIRST)
    assert google.count("calendar.events.insert") == 2


def test_the_review_event_sits_at_the_meeting_time_private_and_free(
    google: Any, sink: ReviewCalendar, only_review_writes: None
) -> None:
    written = sink.create(FIRST)
    cid = sink.calendar_id
    assert cid is not None
    ev = google.event(cid, written.ref)

    assert ev["summary"] == "✎ shorten: Acme roadmap review"
    start = datetime.fromisoformat(ev["start"]["dateTime"])
    end = datetime.fromisoformat(ev["end"]["dateTime"])
    assert start == datetime(2026, 12, 1, 10, tzinfo=TZ)
    assert end == datetime(2026, 12, 1, 12, tzinfo=TZ)
    assert ev["start"]["timeZone"] == "Europe/Berlin"
    assert ev["transparency"] == "transparent"
    assert ev["visibility"] == "private"
    assert ev["reminders"] == {"useDefault": False, "overrides": []}
    assert "attendees" not in ev
    text = ev["description"]
    # the reasons, strongest first, and not the ones worth nothing
    assert text.index("Tue has 6.5 h of meetings") < text.index("2 h long")
    assert "not counted" not in text
    assert "To: ana@acme.example" in text and "Cc: ops@acme.example" in text
    assert f"Subject: {DRAFT.subject}" in text
    assert "Could we keep it to 45 minutes?" in text
    assert "Ana likes to start with the numbers." in text  # private notes: only the user sees
    props = ev["extendedProperties"]["private"]
    assert set(props) == {"calbot_mid", "calbot_hash"}
    assert "shared" not in ev["extendedProperties"]
    (insert,) = [r for r in google.requests if r.route == "calendar.events.insert"]
    assert insert.query["sendUpdates"] == ["none"]


def test_every_label_must_be_given(api: GoogleApi, settings: Settings) -> None:
    labels = section("review.", "en")
    del labels["untitled"]
    with pytest.raises(ValueError, match="untitled"):
        ReviewCalendar(api, settings, labels=labels, keeper=IdFile(id_file_for(settings)))


def test_the_description_speaks_the_users_language(google: Any, tmp_path: Path) -> None:
    google.user_email = ME
    s = make_settings(google, tmp_path)
    s = replace(s, user=replace(s.user, language="vi"))
    sink = new_sink(google_api.connect(s, sleep=lambda x: None), s, None)
    written = sink.create(reply(replace(DRAFT, private_notes=""), MID))
    assert sink.calendar_id is not None
    ev = google.event(sink.calendar_id, written.ref)
    assert ev["description"].startswith("Lý do:\n- Tue has 6.5 h")
    assert "Tiêu đề: " in ev["description"]
    assert "Ghi chú riêng" not in ev["description"]  # no notes, no heading


def test_a_second_sink_with_lost_state_reuses_the_calendar_from_the_file(
    google: Any,
    api: GoogleApi,
    settings: Settings,
    sink: ReviewCalendar,
    only_review_writes: None,
) -> None:
    written = sink.create(FIRST)
    cid = sink.calendar_id

    fresh_store = MemoryStore()  # the state store was lost
    again = new_sink(api, settings, fresh_store)
    found = again.find(MID)
    assert found == Written(written.ref, written.version, written.content_hash, edited=False)
    again.create(SECOND)

    assert again.calendar_id == cid
    assert google.count("calendar.calendars.insert") == 1
    assert fresh_store.get_meta(META_KEY) == cid  # the store learns it back on a write


def test_with_the_file_lost_the_store_still_knows_and_the_file_comes_back(
    google: Any,
    api: GoogleApi,
    settings: Settings,
    store: MemoryStore,
    sink: ReviewCalendar,
) -> None:
    sink.create(FIRST)
    cid = sink.calendar_id
    id_file_for(settings).unlink()

    again = new_sink(api, settings, store)
    assert again.observe(["nope"]) == {"nope": None}
    assert not id_file_for(settings).exists()  # observe writes nothing
    again.create(SECOND)
    assert again.calendar_id == cid
    assert google.count("calendar.calendars.insert") == 1
    assert id_file_for(settings).read_text(encoding="utf-8").strip() == cid
    assert stat.S_IMODE(id_file_for(settings).stat().st_mode) == 0o600


def test_the_file_wins_over_the_store(
    google: Any, api: GoogleApi, settings: Settings, store: MemoryStore, sink: ReviewCalendar
) -> None:
    sink.create(FIRST)
    cid = sink.calendar_id
    with store.transaction():
        store.put_meta(META_KEY, "c_stale@group.calendar.google.com")
    again = new_sink(api, settings, store)
    again.create(SECOND)
    assert again.calendar_id == cid
    assert store.get_meta(META_KEY) == cid


def test_observe_lists_once_and_sees_edits_and_deletions(
    google: Any, sink: ReviewCalendar, only_review_writes: None
) -> None:
    a = sink.create(FIRST)
    b = sink.create(SECOND)
    cid = sink.calendar_id
    assert cid is not None
    google.clear_log()

    assert sink.observe([a.ref, b.ref, "gone"]) == {
        a.ref: a.version,
        b.ref: b.version,
        "gone": None,
    }
    (listed,) = google.requests
    assert listed.route == "calendar.events.list"
    assert unquote(listed.path).startswith(f"/calendar/v3/calendars/{cid}/")
    assert listed.query["fields"] == ["items(id,etag,extendedProperties/private),nextPageToken"]

    google.update_event(cid, a.ref, description="mine now")  # the user edits it
    google.delete_event(cid, b.ref)  # ... and deletes the other
    seen = sink.observe([a.ref, b.ref])
    assert seen[a.ref] not in (None, a.version)
    assert seen[b.ref] is None


def test_observe_pages_through_a_long_calendar(
    google: Any, sink: ReviewCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    import calbot.adapters.google.review as rc

    monkeypatch.setattr(rc, "PAGE_SIZE", 1)
    a = sink.create(FIRST)
    b = sink.create(SECOND)
    google.clear_log()
    assert sink.observe([a.ref, b.ref]) == {a.ref: a.version, b.ref: b.version}
    assert google.count("calendar.events.list") == 2


def test_adoptable_reads_the_message_id_hash_from_one_list(
    google: Any, sink: ReviewCalendar
) -> None:
    assert sink.adoptable(set(), {MID}) == set()  # no calendar yet: nothing to adopt
    known = sink.create(FIRST)
    google.clear_log()
    assert sink.adoptable({known.ref}, {MID, MID2}) == set()
    assert sink.adoptable(set(), {MID, MID2}) == {MID}  # the ledger lost it
    assert [r.route for r in google.requests] == ["calendar.events.list"] * 2


def test_an_insert_answered_too_late_is_not_made_twice(
    google: Any, tmp_path: Path, store: MemoryStore
) -> None:
    settings = make_settings(google, tmp_path)
    settings = replace(settings, limits=replace(settings.limits, http_timeout_seconds=0.3))
    sink = new_sink(google_api.connect(settings), settings, store)
    google.delay("calendar.events.insert", 0.4)  # lands at Google, answers after the timeout
    written = sink.create(FIRST)
    google.wait_idle()
    cid = sink.calendar_id
    assert cid is not None
    assert [e["id"] for e in review_events(google, cid)] == [written.ref]
    assert google.count("calendar.events.insert") == 1


def test_update_rewrites_in_place(
    google: Any, sink: ReviewCalendar, only_review_writes: None
) -> None:
    written = sink.create(FIRST)
    cid = sink.calendar_id
    assert cid is not None
    changed = replace(DRAFT, body="Hi Ana,\n\nCould we keep it to 30 minutes?\n")
    moved = reply(changed, MID, hour=15)

    again = sink.update(written.ref, moved)

    assert again.ref == written.ref and again.version != written.version
    assert again.content_hash == sink.content_hash(moved) != written.content_hash
    ev = google.event(cid, written.ref)
    assert datetime.fromisoformat(ev["start"]["dateTime"]) == datetime(2026, 12, 1, 15, tzinfo=TZ)
    assert "keep it to 30 minutes" in ev["description"]
    assert "keep it to 45 minutes" not in ev["description"]
    assert ev["transparency"] == "transparent" and ev["visibility"] == "private"
    assert len(review_events(google, cid)) == 1
    (upd,) = [r for r in google.requests if r.route == "calendar.events.update"]
    assert upd.query["sendUpdates"] == ["none"]
    assert sink.observe([written.ref]) == {written.ref: again.version}


def test_the_content_hash_follows_the_meeting_not_only_the_draft(sink: ReviewCalendar) -> None:
    before = sink.content_hash(FIRST)
    # same draft text, the meeting moved
    assert sink.content_hash(reply(DRAFT, MID, hour=11)) != before
    assert sink.content_hash(FIRST) == before
    assert sink.content_hash(reply(replace(DRAFT, private_notes="other"), MID)) != before


def test_update_of_a_deleted_event_is_draft_gone_and_never_brings_it_back(
    google: Any, sink: ReviewCalendar
) -> None:
    written = sink.create(FIRST)
    cid = sink.calendar_id
    assert cid is not None
    google.delete_event(cid, written.ref)
    with pytest.raises(DraftGone):
        sink.update(written.ref, FIRST)
    assert google.event(cid, written.ref)["status"] == "cancelled"
    assert google.count("calendar.events.update") == 0
    with pytest.raises(DraftGone):
        sink.update("no-such-event", FIRST)


def test_delete_removes_it_and_a_second_delete_is_fine(
    google: Any, sink: ReviewCalendar, only_review_writes: None
) -> None:
    written = sink.create(FIRST)
    cid = sink.calendar_id
    assert cid is not None
    sink.delete(written.ref)
    assert google.event(cid, written.ref)["status"] == "cancelled"
    sink.delete(written.ref)  # 410 from Google: already done
    sink.delete("never-was")  # 404: fine too
    assert sink.observe([written.ref]) == {written.ref: None}
    deletes = [r for r in google.requests if r.route == "calendar.events.delete"]
    assert len(deletes) == 3 and all(r.query["sendUpdates"] == ["none"] for r in deletes)


def test_a_deleted_review_calendar_is_created_again_once(
    google: Any,
    api: GoogleApi,
    settings: Settings,
    store: MemoryStore,
    sink: ReviewCalendar,
    only_review_writes: None,
) -> None:
    first = sink.create(FIRST)
    old = sink.calendar_id
    assert old is not None
    google._calendars_delete(google._cal(old))  # the user deleted the whole calendar

    # a later scan: a new sink, the id still in the file and the store
    again = new_sink(api, settings, store)
    assert again.observe([first.ref]) == {first.ref: None}  # gone with its calendar
    assert again.find(MID) is None
    with pytest.raises(DraftGone):
        again.update(first.ref, FIRST)
    again.delete(first.ref)
    written = again.create(SECOND)
    again.create(FIRST)

    new = again.calendar_id
    assert new is not None and new != old and google._cals[new].app_created
    assert google.count("calendar.calendars.insert") == 2  # the first one, and one more
    assert id_file_for(settings).read_text(encoding="utf-8").strip() == new
    assert store.get_meta(META_KEY) == new
    assert written.ref in {e["id"] for e in review_events(google, new)}


def test_the_calendar_vanishing_between_observe_and_create(
    google: Any, api: GoogleApi, settings: Settings, store: MemoryStore, sink: ReviewCalendar
) -> None:
    sink.create(FIRST)
    old = sink.calendar_id
    assert old is not None
    again = new_sink(api, settings, store)
    assert again.observe(["x"]) == {"x": None}  # the calendar was still there
    google._calendars_delete(google._cal(old))
    again.create(SECOND)  # 404 on insert: one new calendar, then the event
    assert google.count("calendar.calendars.insert") == 2
    assert id_file_for(settings).read_text(encoding="utf-8").strip() == again.calendar_id != old


def test_works_with_nothing_but_calendar_app_created(google: Any, tmp_path: Path) -> None:
    """The scope that reaches only calbot's own calendars is enough for the whole cycle (the
    fake refuses app.created on any other calendar)."""
    google.user_email = ME
    s = make_settings(google, tmp_path, scopes=["calendar.app.created"])
    sink = new_sink(google_api.connect(s, sleep=lambda x: None), s, MemoryStore())
    written = sink.create(FIRST)
    assert sink.observe([written.ref]) == {written.ref: written.version}
    found = sink.find(MID)
    assert found is not None and not found.edited
    updated = sink.update(written.ref, reply(replace(DRAFT, subject="New subject"), MID))
    sink.delete(updated.ref)
    assert all(CALENDAR_APP_CREATED in r.scopes for r in writes_of(google))


@pytest.mark.parametrize("bad", ["primary", ME, "bad id\nwith lines"])
def test_an_id_file_naming_another_calendar_is_refused(
    google: Any, api: GoogleApi, settings: Settings, bad: str
) -> None:
    id_file_for(settings).write_text(bad + "\n", encoding="utf-8")
    sink = new_sink(api, settings, None)
    with pytest.raises(ServiceError, match="not calbot's review calendar"):
        sink.create(FIRST)
    with pytest.raises(ServiceError):
        sink.observe(["x"])
    assert writes_of(google) == []


# --- the whole scan ------------------------------------------------------------------------

NOW = at("2026-11-25 10:00")
WINDOW = service.Window(
    start=NOW, end=NOW + timedelta(days=14), history_start=NOW - timedelta(days=14)
)


def overloaded_tuesday() -> list[Event]:
    """Tue 1 Dec over both limits: the 9:00 meeting is asked to move."""
    return [
        event(
            f"2026-12-01 {h:02d}:00",
            60,
            id=f"tue{h}",
            ical_uid=f"tue{h}",
            calendar_id="primary",
            summary=f"Acme sync {h}",
        )
        for h in (9, 10, 11, 13, 14)
    ]


def test_a_scan_cycle_creates_keeps_updates_and_deletes_the_review_event(
    google: Any,
    api: GoogleApi,
    settings: Settings,
    store: MemoryStore,
    only_review_writes: None,
) -> None:
    source = ListSource(overloaded_tuesday())
    templates = load_templates()

    def scan() -> tuple[service.ScanResult, ReviewCalendar]:
        sink = new_sink(api, settings, store)  # a fresh sink per scan, like the app
        result = service.run_scan(
            settings,
            service.Ports(source, store, [sink]),
            templates,
            now=NOW,
            window=WINDOW,
        )
        return result, sink

    def acted(result: service.ScanResult) -> list[service.Outcome]:
        return [o for o in result.outcomes if o.draft is not None]

    # 1. the first scan: one review event, at the meeting's time
    result, sink = scan()
    (o,) = acted(result)
    assert o.meeting.event.id == "tue9" and o.decision.action == Action.RESCHEDULE
    assert o.status == "new"
    cid = sink.calendar_id
    assert cid is not None
    (ev,), holds = held_apart(google, cid)
    assert o.decision.proposal is not None
    assert len(holds) == len(o.decision.proposal.slots) > 0  # one per offered slot
    assert ev["id"] == o.refs["review_calendar"]
    assert ev["summary"] == "✎ reschedule: Acme sync 9"
    assert datetime.fromisoformat(ev["start"]["dateTime"]) == at("2026-12-01 09:00")
    assert o.draft is not None and o.draft.subject in ev["description"]
    # the reasons as the scan renders them: the strongest factor's first
    top = max(o.decision.factors, key=lambda f: f.points)
    assert ev["description"].startswith(f"Why:\n- {say(top.detail, 'en')}")

    # 2. nothing changed: nothing written
    before = len(writes_of(google))
    result, _ = scan()
    (o,) = acted(result)
    assert o.status == "unchanged"
    assert len(writes_of(google)) == before

    # 3. the meeting moved later that morning: the same review event follows it
    source.items[0] = replace(
        source.items[0],
        start=at("2026-12-01 08:00"),
        end=at("2026-12-01 09:00"),
    )
    result, _ = scan()
    (o,) = acted(result)
    assert o.status == "updated"
    (moved,), _ = held_apart(google, cid)
    assert moved["id"] == ev["id"]
    assert datetime.fromisoformat(moved["start"]["dateTime"]) == at("2026-12-01 08:00")
    updates = [r for r in google.requests if r.route == "calendar.events.update"]
    assert sum(1 for r in updates if r.path.endswith("/" + ev["id"])) == 1

    # 4. the day is no longer overloaded: the review event goes
    source.items = source.items[:2]
    result, _ = scan()
    assert acted(result) == [] and result.deleted == 1
    assert review_events(google, cid) == []
    assert store.sink_records("review_calendar") == {}
    assert google.count("calendar.calendars.insert") == 1
