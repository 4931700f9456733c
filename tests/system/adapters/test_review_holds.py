"""Held slots on the review calendar (SPEC §1.7, §6): each slot a reschedule offers is a
private "✎ held for: <meeting>" event on calbot's own calendar, written, moved and removed
with the draft's review event — against the fake Google server, through the real
googleapiclient over HTTP.

The `google` fixture fails any test during which calbot invited anyone or sent updates; each
test here also checks that every write went to the review calendar and nowhere else."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from replies import reply

from calbot.adapters.google import api as google_api
from calbot.adapters.google.review import ReviewCalendar
from calbot.adapters.google.review_event import event_hash
from calbot.adapters.google.scopes import scopes_for
from calbot.adapters.mail import message_id_for
from calbot.adapters.memory_state import MemoryStore
from calbot.config.loader import parse_settings
from calbot.config.settings import Settings
from calbot.core.model import Action, Draft, Proposal, Slot
from calbot.ports.sinks import DraftGone, Reply
from calbot.usecases.wiring import review_calendar

ME = "me@studio.example"
TZ = ZoneInfo("Europe/Berlin")
MID = message_id_for("cal/evt-14", "reschedule", "studio.example")
OTHER_MID = message_id_for("cal/evt-10", "shorten", "studio.example")
DRAFT = Draft(
    language="en",
    to=("ana@acme.example",),
    to_names=("Ana",),
    subject="Acme roadmap review — could we move it?",
    body="Hi Ana,\n\nCould we move it to one of these times?\n\nBest regards,\nMe\n",
)


def slot(day: int, hour: int) -> Slot:
    start = datetime(2026, 12, day, hour, tzinfo=TZ)
    return Slot(start, start + timedelta(hours=2))


THREE = (slot(3, 10), slot(4, 14), slot(7, 11))


def moving(slots: tuple[Slot, ...], message_id: str = MID) -> Reply:
    """The reschedule of Tuesday's 14:00 roadmap review, offering `slots`."""
    r = reply(DRAFT, message_id, hour=14, action=Action.RESCHEDULE)
    return replace(r, decision=replace(r.decision, proposal=Proposal(slots=slots)))


@pytest.fixture
def settings(google: Any, tmp_path: Path) -> Settings:
    google.user_email = ME
    token = tmp_path / "secrets" / "token.json"
    s = parse_settings(
        {
            "user": {"email": ME, "timezone": "Europe/Berlin", "own_domains": ["studio.example"]},
            "source": {"kind": "google", "calendars": ["primary"]},
            "clients": [{"name": "Acme", "domains": ["acme.example"]}],
            "google": {"api_root": google.root, "token_file": str(token)},
            "outputs": {"gmail_drafts": False, "review_calendar": True, "outbox": ""},
        },
        path="test.toml",
        check_templates=False,
    )
    google.write_token(token, scopes_for(s))
    return s


@pytest.fixture
def sink(settings: Settings) -> ReviewCalendar:
    return review_calendar(
        google_api.connect(settings, sleep=lambda s: None), settings, MemoryStore()
    )


def calendar(google: Any, sink: ReviewCalendar) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """{review event id: event} and the hold events (by start) on the review calendar."""
    assert sink.calendar_id is not None
    live = [e for e in google._cals[sink.calendar_id].events.values() if e["status"] != "cancelled"]
    holds = [e for e in live if "calbot_hold" in e["extendedProperties"]["private"]]
    mains = {e["id"]: e for e in live if e not in holds}
    return mains, sorted(holds, key=lambda e: e["start"]["dateTime"])


def starts(holds: list[dict[str, Any]]) -> list[datetime]:
    return [datetime.fromisoformat(e["start"]["dateTime"]) for e in holds]


def writes_only_to_the_review_calendar(google: Any, sink: ReviewCalendar) -> None:
    for r in google.requests:
        if r.method in ("POST", "PUT", "PATCH", "DELETE") and r.route.startswith("calendar."):
            if r.route == "calendar.calendars.insert":
                continue
            assert unquote(r.path).split("/")[4] == sink.calendar_id, r.path
            assert r.query.get("sendUpdates") == ["none"], r.route


def test_a_reschedule_with_three_slots_gives_one_review_event_and_three_holds(
    google: Any, sink: ReviewCalendar
) -> None:
    written = sink.create(moving(THREE))
    mains, holds = calendar(google, sink)

    assert list(mains) == [written.ref]
    assert starts(holds) == [s.start for s in THREE]
    assert [datetime.fromisoformat(e["end"]["dateTime"]) for e in holds] == [s.end for s in THREE]
    for ev in holds:
        assert ev["summary"] == "✎ held for: Acme roadmap review"
        assert (ev["visibility"], ev["transparency"]) == ("private", "transparent")
        assert "attendees" not in ev
        assert ev["description"].startswith("This time is offered in the draft below")
        assert DRAFT.subject in ev["description"]
        assert set(ev["extendedProperties"]["private"]) == {"calbot_hold", "calbot_hash"}
    main = mains[written.ref]
    assert main["summary"] == "✎ reschedule: Acme roadmap review"
    assert set(main["extendedProperties"]["private"]) == {
        "calbot_mid",
        "calbot_hash",
        "calbot_content",
    }
    assert written.content_hash == sink.content_hash(moving(THREE))
    assert google.count("calendar.events.insert") == 4
    writes_only_to_the_review_calendar(google, sink)


def test_holds_are_in_the_content_hash_and_found_again_after_a_lost_state(
    google: Any, sink: ReviewCalendar, settings: Settings
) -> None:
    written = sink.create(moving(THREE))
    assert sink.content_hash(moving(THREE[:2])) != written.content_hash
    # without slots the ledger's hash is the review event's own, as before holds existed
    alone = event_hash(calendar(google, sink)[0][written.ref])
    assert sink.content_hash(moving(())) == alone != written.content_hash
    again = review_calendar(
        google_api.connect(settings, sleep=lambda s: None), settings, MemoryStore()
    )
    found = again.find(MID)  # a hold event carries no calbot_mid: only the review event
    assert found is not None and found.ref == written.ref and not found.edited
    assert found.content_hash == written.content_hash  # adopted as unchanged


def test_a_changed_proposal_moves_the_holds_and_leaves_a_kept_slot_alone(
    google: Any, sink: ReviewCalendar
) -> None:
    written = sink.create(moving(THREE))
    _, before = calendar(google, sink)
    google.clear_log()

    changed = (THREE[0], slot(8, 9), slot(9, 15))  # the first slot stays, two move
    again = sink.update(written.ref, moving(changed))

    mains, after = calendar(google, sink)
    assert list(mains) == [written.ref] and again.ref == written.ref
    assert starts(after) == [s.start for s in changed]
    assert {e["id"] for e in after} == {e["id"] for e in before}  # moved, not made anew
    updated = [
        unquote(r.path).rsplit("/", 1)[1]
        for r in google.requests
        if r.route == "calendar.events.update"
    ]
    assert before[0]["id"] not in updated  # the kept slot was not written
    assert sorted(updated) == sorted([before[1]["id"], before[2]["id"], written.ref])
    assert google.count("calendar.events.insert") == google.count("calendar.events.delete") == 0
    assert again.content_hash == sink.content_hash(moving(changed))
    writes_only_to_the_review_calendar(google, sink)


def test_fewer_slots_release_the_rest_and_more_slots_add_holds(
    google: Any, sink: ReviewCalendar
) -> None:
    written = sink.create(moving(THREE))
    sink.update(written.ref, moving(THREE[:1]))
    assert starts(calendar(google, sink)[1]) == [THREE[0].start]
    sink.update(written.ref, moving(THREE))
    assert starts(calendar(google, sink)[1]) == [s.start for s in THREE]
    # a reply with no slots any more (the decision changed its proposal): no holds left
    sink.update(written.ref, moving(()))
    mains, holds = calendar(google, sink)
    assert holds == [] and list(mains) == [written.ref]
    assert "calbot_content" not in mains[written.ref]["extendedProperties"]["private"]


def test_a_dropped_decision_removes_the_review_event_and_all_its_holds(
    google: Any, sink: ReviewCalendar
) -> None:
    other = sink.create(reply(DRAFT, OTHER_MID))  # another draft, no slots: left alone
    other_etag = google.event(sink.calendar_id, other.ref)["etag"]
    written = sink.create(moving(THREE))
    assert len(calendar(google, sink)[1]) == 3

    sink.delete(written.ref)

    mains, holds = calendar(google, sink)
    assert holds == [] and list(mains) == [other.ref]
    assert google.event(sink.calendar_id, other.ref)["etag"] == other_etag
    sink.delete(written.ref)  # again: already gone, fine
    writes_only_to_the_review_calendar(google, sink)


def test_a_second_drafts_holds_are_its_own(google: Any, sink: ReviewCalendar) -> None:
    first = sink.create(moving(THREE))
    second_mid = message_id_for("cal/evt-9", "reschedule", "studio.example")
    second = sink.create(moving((slot(10, 10),), second_mid))
    sink.update(first.ref, moving(THREE[:2]))

    mains, holds = calendar(google, sink)
    assert set(mains) == {first.ref, second.ref}
    assert starts(holds) == [THREE[0].start, THREE[1].start, slot(10, 10).start]
    sink.delete(second.ref)
    assert starts(calendar(google, sink)[1]) == [THREE[0].start, THREE[1].start]


def test_the_user_deleting_the_review_event_takes_its_holds_with_it(
    google: Any, sink: ReviewCalendar
) -> None:
    written = sink.create(moving(THREE))
    google.delete_event(sink.calendar_id, written.ref)
    with pytest.raises(DraftGone):
        sink.update(written.ref, moving(THREE[:2]))
    mains, holds = calendar(google, sink)
    assert mains == {} and holds == []
    assert google.count("calendar.events.insert") == 4  # nothing brought back


def test_the_hold_title_speaks_the_users_language(google: Any, settings: Settings) -> None:
    vi = replace(settings, user=replace(settings.user, language="vi"))
    sink = review_calendar(google_api.connect(vi, sleep=lambda s: None), vi, MemoryStore())
    sink.create(moving(THREE[:1]))
    (hold,) = calendar(google, sink)[1]
    assert hold["summary"] == "✎ giữ chỗ cho: Acme roadmap review"
    assert hold["description"].startswith("Khung giờ này được đề xuất")
