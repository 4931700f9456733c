"""`compact`: a fetched item cut to the fields calbot reads, converting as the item would,
and kept as it is when it already holds just those (no surrogate escapes in its page)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google_items import BERLIN, ME, item
from hypothesis import given
from hypothesis import strategies as st

from calbot.adapters.google.events import EVENT_FIELDS, BadEvent, compact, to_event


def test_compact_keeps_only_what_is_read_and_converts_the_same() -> None:
    raw = item(
        kind="calendar#event",
        etag='"1"',
        created="2025-01-01T00:00:00Z",
        creator={"email": "x@y.z"},
        reminders={"useDefault": True},
        description="",
        location="Acme HQ",
        start={"dateTime": "2025-03-04T10:00:00+01:00", "timeZone": "Europe/Berlin"},
        organizer={"email": "me@example.com", "self": True, "displayName": "Me"},
        attendees=[
            {"email": "a@acme.example", "responseStatus": "accepted", "comment": "RSVP note"},
            {"email": "me@example.com", "self": True, "id": "x", "optional": False},
        ],
        conferenceData={
            "entryPoints": [{"entryPointType": "video", "uri": "https://meet.google.com/x"}],
            "conferenceSolution": {"name": "Meet"},
        },
        extendedProperties={"private": {"calbot_action": "call", "other": "x"}, "shared": {}},
    )
    small = compact(raw)
    assert set(small) == {
        "id",
        "status",
        "summary",
        "location",
        "start",
        "end",
        "organizer",
        "attendees",
        "conferenceData",
        "extendedProperties",
    }
    assert small["organizer"] == {"email": "me@example.com", "displayName": "Me", "self": True}
    assert small["attendees"] == [
        {"email": "a@acme.example", "responseStatus": "accepted"},
        {"email": "me@example.com", "self": True},
    ]
    assert small["extendedProperties"] == {"private": {"calbot_action": "call"}}
    assert to_event(small, "primary", ME, BERLIN) == to_event(raw, "primary", ME, BERLIN)


def test_compact_keeps_broken_times_for_the_warning() -> None:
    small = compact(item(start="garbage"))
    with pytest.raises(BadEvent, match="no start"):
        to_event(small, "primary", ME, BERLIN)


def test_fields_param_names_everything_to_event_reads() -> None:
    for name in (
        "nextPageToken",
        "nextSyncToken",
        "attendees(email,displayName,self,responseStatus,optional,organizer,resource)",
        "organizer(email,displayName,self)",
        "attendeesOmitted",
        "guestsCanSeeOtherGuests",
        "recurringEventId",
        "iCalUID",
        "hangoutLink",
        "conferenceData(entryPoints(uri,entryPointType))",
        "eventType",
        "transparency",
        "htmlLink",
        "extendedProperties/private",
        "colorId",
    ):
        assert name in EVENT_FIELDS
    assert " " not in EVENT_FIELDS


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=3)
_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-1, 1), st.just(0.0), _TEXT)
_TIME = st.dictionaries(st.sampled_from(["date", "dateTime", "timeZone", "x"]), _VALUE)
_PERSON = st.dictionaries(
    st.sampled_from(["email", "displayName", "self", "optional", "organizer", "comment"]), _VALUE
)
_ITEM = st.dictionaries(
    st.sampled_from(["id", "status", "summary", "iCalUID", "attendeesOmitted", "kind", "etag"]),
    _VALUE,
).flatmap(
    lambda top: st.fixed_dictionaries(
        {},
        optional={
            "start": st.one_of(_TIME, _VALUE),
            "end": st.one_of(_TIME, _VALUE),
            "attendees": st.one_of(st.lists(st.one_of(_PERSON, _VALUE), max_size=3), _VALUE),
            "organizer": st.one_of(_PERSON, _VALUE),
        },
    ).map(lambda more: {**top, **more})
)


@given(_ITEM)
def test_compact_without_surrogates_gives_the_same_item_in_the_same_order(
    raw: dict[str, Any],
) -> None:
    slow = compact(raw)
    fast = compact(raw, no_surrogates=True)
    assert json.dumps(fast) == json.dumps(slow)  # the cached text too: same key order
    again = compact(slow, no_surrogates=True)
    assert json.dumps(again) == json.dumps(slow)


def test_an_item_google_shaped_is_kept_as_it_is_only_without_surrogates() -> None:
    raw = item(
        attendees=[{"email": "a@acme.example", "responseStatus": "accepted"}],
        organizer={"email": "a@acme.example"},
        summary="Caf\u00e9",
    )
    assert compact(raw, no_surrogates=True) is raw  # what saves rebuilding every item
    assert compact(raw) is not raw and compact(raw) == raw
    assert compact({**raw, "summary": "x\ud800"})["summary"] == "x\ufffd"
    changes: tuple[dict[str, Any], ...] = (
        {"location": ""},
        {"kind": "calendar#event"},
        {"attendees": [{"email": "a@acme.example", "optional": False}]},
        {"start": {"dateTime": "2025-03-04T10:00:00+01:00", "x": 1}},
        {"organizer": {}},
    )
    for changed in changes:
        other = {**raw, **changed}
        assert compact(other, no_surrogates=True) == compact(other) != other
