"""Calendar notes against the fake Google server, through the real googleapiclient over HTTP.

The fake records as a violation (failing the test) any patch without `sendUpdates=none`,
any body key other than `extendedProperties`/`colorId`, and any shared property.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from calbot.adapters.google import api as google_api
from calbot.adapters.google.api import ApiError, GoogleApi
from calbot.adapters.google.events import NOTE_KEYS
from calbot.adapters.google.notes import CalendarNotes, clear_body, note_properties, request_body
from calbot.adapters.google.scopes import scopes_for
from calbot.config.loader import parse_settings
from calbot.config.settings import Settings
from calbot.core.model import Attendee, Event
from calbot.core.records import Note
from calbot.ports.sinks import NoteSink
from calbot.present.messages import say

ICT = timezone(timedelta(hours=7))
START = datetime(2026, 12, 1, 14, 0, tzinfo=ICT)
ME = "me@studio.example"

NOTE = Note(
    action="reschedule",
    score=72,
    reason="Thứ Ba đã có 6,5 giờ họp (giới hạn 4 giờ)",
    draft_id="r0000000000000000001",
    fingerprint="fp-1",
)


def shown(notes: CalendarNotes) -> list[str]:
    """The sink's warnings as the user reads them (in English)."""
    return [say(w, "en") for w in notes.warnings]


@pytest.fixture
def settings(google: Any, tmp_path: Path) -> Settings:
    token = tmp_path / "token.json"
    s = parse_settings(
        {
            "user": {"email": ME, "name": "Alex Doe", "timezone": "Asia/Ho_Chi_Minh"},
            "source": {"kind": "google"},
            "clients": [{"name": "Acme", "domains": ["acme.example"], "language": "vi"}],
            "google": {"api_root": google.root, "token_file": str(token)},
            "outputs": {"calendar_notes": True},
        },
        path="test.toml",
        check_templates=False,
    )
    google.write_token(token, scopes_for(s))
    return s


@pytest.fixture
def api(settings: Settings) -> GoogleApi:
    return google_api.connect(settings, sleep=lambda s: None)


@pytest.fixture
def notes(api: GoogleApi) -> CalendarNotes:
    return CalendarNotes(api)


def add_meeting(google: Any, calendar_id: str = "primary", **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "summary": "Họp lộ trình Acme",
        "description": "Agenda: lộ trình quý 1",
        "location": "Hà Nội",
        "start": {"dateTime": "2026-12-01T14:00:00+07:00", "timeZone": "Asia/Ho_Chi_Minh"},
        "end": {"dateTime": "2026-12-01T15:00:00+07:00", "timeZone": "Asia/Ho_Chi_Minh"},
        "organizer": {"email": "minh@acme.example"},
        "attendees": [
            {"email": "minh@acme.example", "organizer": True, "responseStatus": "accepted"},
            {"email": ME, "responseStatus": "accepted"},
        ],
    }
    fields.update(extra)
    return dict(google.add_event(calendar_id, **fields))


def as_event(ev: dict[str, Any], calendar_id: str = "primary") -> Event:
    """The Event a source would build from the API's JSON (only what the sink reads)."""
    private = (ev.get("extendedProperties") or {}).get("private") or {}
    return Event(
        id=ev["id"],
        calendar_id=calendar_id,
        ical_uid=ev.get("iCalUID", ""),
        start=START,
        end=START + timedelta(hours=1),
        summary=ev.get("summary", ""),
        attendees=(Attendee("minh@acme.example", organizer=True), Attendee(ME, is_self=True)),
        notes=tuple(sorted((k, v) for k, v in private.items() if k in NOTE_KEYS)),
        color_id=ev.get("colorId", ""),
    )


def visible(ev: dict[str, Any]) -> dict[str, Any]:
    """What others can see of an event (bookkeeping fields aside)."""
    hidden = {"extendedProperties", "colorId", "updated", "etag"}
    return {k: v for k, v in ev.items() if k not in hidden}


def patches(google: Any) -> list[Any]:
    return [r for r in google.requests if r.route == "calendar.events.patch"]


# --- the body, without a server ------------------------------------------------------------


def test_request_body_is_only_private_properties() -> None:
    assert request_body(NOTE) == {"extendedProperties": {"private": note_properties(NOTE)}}


def test_request_body_adds_the_colour_when_set() -> None:
    body = request_body(replace(NOTE, color_id="11"))
    assert body == {"extendedProperties": {"private": note_properties(NOTE)}, "colorId": "11"}


def test_clear_body_nulls_every_key() -> None:
    assert clear_body() == {"extendedProperties": {"private": dict.fromkeys(NOTE_KEYS)}}
    assert clear_body(reset_color=True)["colorId"] is None


def test_is_a_note_sink(notes: CalendarNotes) -> None:
    as_port: NoteSink = notes
    assert as_port.name == "calendar_notes"


# --- against the fake ----------------------------------------------------------------------


def test_put_patches_only_private_properties_with_send_updates_none(
    google: Any, notes: CalendarNotes
) -> None:
    ev = add_meeting(google)
    before = google.event("primary", ev["id"])

    notes.put(as_event(ev), NOTE)

    (req,) = patches(google)
    assert req.method == "PATCH"
    assert req.query["sendUpdates"] == ["none"]
    assert req.body == {"extendedProperties": {"private": note_properties(NOTE)}}
    after = google.event("primary", ev["id"])
    assert after["extendedProperties"]["private"] == note_properties(NOTE)
    assert "colorId" not in after
    assert visible(after) == visible(before)  # summary, time, attendees, RSVP: untouched
    assert notes.warnings == []


def test_put_with_colour(google: Any, notes: CalendarNotes) -> None:
    ev = add_meeting(google)
    notes.put(as_event(ev), replace(NOTE, color_id="6"))
    (req,) = patches(google)
    assert set(req.body) == {"extendedProperties", "colorId"}
    assert google.event("primary", ev["id"])["colorId"] == "6"


def test_put_keeps_the_users_own_private_properties(google: Any, notes: CalendarNotes) -> None:
    ev = add_meeting(google, extendedProperties={"private": {"mine": "keep me"}})
    notes.put(as_event(ev), NOTE)
    private = google.event("primary", ev["id"])["extendedProperties"]["private"]
    assert private == {"mine": "keep me", **note_properties(NOTE)}


def test_unchanged_note_makes_no_request(google: Any, notes: CalendarNotes) -> None:
    ev = add_meeting(google)
    notes.put(as_event(ev), replace(NOTE, color_id="6"))
    again = as_event(google.event("primary", ev["id"]))
    assert again.notes == tuple(sorted(note_properties(NOTE).items()))
    n = len(google.requests)

    notes.put(again, replace(NOTE, color_id="6"))
    notes.put(again, NOTE)  # no colour wanted: the one there is left alone

    assert len(google.requests) == n


def test_changed_note_or_colour_is_patched(google: Any, notes: CalendarNotes) -> None:
    ev = add_meeting(google)
    notes.put(as_event(ev), NOTE)
    current = as_event(google.event("primary", ev["id"]))

    notes.put(current, replace(NOTE, score=80))
    notes.put(as_event(google.event("primary", ev["id"])), replace(NOTE, score=80, color_id="4"))

    assert len(patches(google)) == 3
    after = google.event("primary", ev["id"])
    assert after["extendedProperties"]["private"]["calbot_score"] == "80"
    assert after["colorId"] == "4"


def test_clear_removes_calbots_keys_only(google: Any, notes: CalendarNotes) -> None:
    ev = add_meeting(google, extendedProperties={"private": {"mine": "keep me"}}, colorId="2")
    notes.put(as_event(ev), NOTE)
    noted = as_event(google.event("primary", ev["id"]))

    notes.clear(noted)

    req = patches(google)[-1]
    assert req.query["sendUpdates"] == ["none"]
    assert req.body == {"extendedProperties": {"private": dict.fromkeys(NOTE_KEYS)}}
    after = google.event("primary", ev["id"])
    assert after["extendedProperties"]["private"] == {"mine": "keep me"}
    assert after["colorId"] == "2"  # calbot cannot know it set this colour: left alone


def test_clear_resets_a_colour_calbot_uses_when_told(google: Any, api: GoogleApi) -> None:
    notes = CalendarNotes(api, colors=("11",))
    ev = add_meeting(google)
    notes.put(as_event(ev), replace(NOTE, color_id="11"))
    notes.clear(as_event(google.event("primary", ev["id"])))
    after = google.event("primary", ev["id"])
    assert "colorId" not in after
    assert not (after.get("extendedProperties") or {}).get("private")


def test_clear_without_a_note_makes_no_request(google: Any, notes: CalendarNotes) -> None:
    ev = add_meeting(google, colorId="11")
    notes.clear(as_event(ev))
    assert google.requests == []


def test_vanished_event_is_a_warning(google: Any, notes: CalendarNotes) -> None:
    ev = add_meeting(google)
    gone = replace(as_event(ev), id="evt-deleted-meanwhile")
    notes.put(gone, NOTE)
    notes.clear(replace(gone, notes=tuple(sorted(note_properties(NOTE).items()))))
    assert len(notes.warnings) == 2
    assert all("evt-deleted-meanwhile" in w and "404" in w for w in shown(notes))
    assert "Họp lộ trình Acme" in shown(notes)[0]


@pytest.mark.parametrize("status", [404, 410])
def test_scripted_gone_is_a_warning(status: int, google: Any, notes: CalendarNotes) -> None:
    ev = add_meeting(google)
    google.fail("calendar.events.patch", status, reason="deleted" if status == 410 else None)
    notes.put(as_event(ev), NOTE)
    assert len(notes.warnings) == 1 and ev["id"] in shown(notes)[0]
    assert "extendedProperties" not in google.event("primary", ev["id"])


def test_read_only_copy_is_a_warning(google: Any, notes: CalendarNotes) -> None:
    google.add_calendar("team@group.calendar.google.com", "Team", access_role="reader")
    ev = add_meeting(google, "team@group.calendar.google.com")
    notes.put(as_event(ev, "team@group.calendar.google.com"), NOTE)
    assert len(notes.warnings) == 1 and "403" in shown(notes)[0]


@pytest.mark.parametrize("status", [400, 409, 412])
def test_a_patch_google_refuses_for_this_event_is_a_warning(
    google: Any, notes: CalendarNotes, status: int
) -> None:
    ev = add_meeting(google)
    google.fail("calendar.events.patch", status)
    notes.put(as_event(ev), NOTE)
    assert len(notes.warnings) == 1 and f"({status})" in shown(notes)[0]


def test_other_errors_propagate(google: Any, notes: CalendarNotes) -> None:
    ev = add_meeting(google)
    google.fail("calendar.events.patch", 405)
    with pytest.raises(ApiError) as caught:
        notes.put(as_event(ev), NOTE)
    assert caught.value.status == 405
    assert notes.warnings == []


def test_server_errors_are_retried(google: Any, notes: CalendarNotes) -> None:
    ev = add_meeting(google)
    google.fail("calendar.events.patch", 503)
    notes.put(as_event(ev), NOTE)
    assert len(patches(google)) == 2
    assert google.event("primary", ev["id"])["extendedProperties"]["private"] == note_properties(
        NOTE
    )
