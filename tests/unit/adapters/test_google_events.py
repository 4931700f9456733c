"""The pure Calendar JSON → Event serializer: tricky items, no network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from google_items import BERLIN, ME, convert, item

from calbot.adapters.google.event_times import item_end
from calbot.adapters.google.events import (
    BadEvent,
    event_label,
    to_event,
)
from calbot.core.model import Attendee, EventType, Response


def test_timed_event_minimal() -> None:
    e = convert(item())
    assert e.id == "evt1"
    assert e.calendar_id == "primary"
    assert e.ical_uid == "evt1"  # no iCalUID: the id stands in
    assert e.start == datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    assert e.start.utcoffset() == timedelta(hours=1)
    assert e.duration == timedelta(hours=1)
    assert not e.all_day
    assert e.status == "confirmed"
    assert e.event_type == EventType.DEFAULT
    assert e.tz_name == ""
    assert e.attendees == ()
    assert e.series_id is None
    assert e.notes == ()


def test_utc_z_and_fractional_seconds() -> None:
    e = convert(
        item(
            start={"dateTime": "2025-03-04T09:00:00.000Z"},
            end={"dateTime": "2025-03-04T09:30:00.5Z"},
        )
    )
    assert e.start == datetime(2025, 3, 4, 9, tzinfo=UTC)
    assert e.end == datetime(2025, 3, 4, 9, 30, 0, 500000, tzinfo=UTC)


def test_time_zone_names_the_zone_and_converts() -> None:
    e = convert(
        item(
            start={"dateTime": "2025-03-04T09:00:00Z", "timeZone": "Asia/Ho_Chi_Minh"},
            end={"dateTime": "2025-03-04T10:00:00Z", "timeZone": "Asia/Ho_Chi_Minh"},
        )
    )
    assert e.tz_name == "Asia/Ho_Chi_Minh"
    assert e.start.tzinfo == ZoneInfo("Asia/Ho_Chi_Minh")
    assert (e.start.hour, e.start.minute) == (16, 0)
    assert e.start == datetime(2025, 3, 4, 9, tzinfo=UTC)


def test_unknown_time_zone_keeps_the_offset() -> None:
    e = convert(
        item(start={"dateTime": "2025-03-04T10:00:00+01:00", "timeZone": "Mars/Olympus_Mons"})
    )
    assert e.tz_name == ""
    assert e.start == datetime(2025, 3, 4, 9, tzinfo=UTC)


def test_naive_date_time_is_read_in_its_zone_else_the_users() -> None:
    named = convert(
        item(
            start={"dateTime": "2025-03-04T10:00:00", "timeZone": "Asia/Ho_Chi_Minh"},
            end={"dateTime": "2025-03-04T11:00:00", "timeZone": "Asia/Ho_Chi_Minh"},
        )
    )
    assert named.start == datetime(2025, 3, 4, 3, tzinfo=UTC)
    bare = convert(
        item(start={"dateTime": "2025-03-04T10:00:00"}, end={"dateTime": "2025-03-04T11:00:00"})
    )
    assert bare.start == datetime(2025, 3, 4, 10, tzinfo=BERLIN)


def test_all_day_spans_local_midnights_across_dst() -> None:
    e = convert(item(start={"date": "2025-03-29"}, end={"date": "2025-03-31"}))
    assert e.all_day
    assert e.start == datetime(2025, 3, 29, tzinfo=BERLIN)
    assert e.end == datetime(2025, 3, 31, tzinfo=BERLIN)
    assert e.end.timestamp() - e.start.timestamp() == 47 * 3600  # clocks went forward
    assert e.start.tzinfo is BERLIN


def test_all_day_user_zone_as_text() -> None:
    e = convert(item(start={"date": "2025-03-04"}, end={"date": "2025-03-05"}), "Asia/Tokyo")
    assert e.start == datetime(2025, 3, 4, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_missing_end_is_zero_length_or_one_day() -> None:
    timed = convert(item(end=None))
    assert timed.end == timed.start
    del_end = item()
    del del_end["end"]
    assert convert(del_end).duration == timedelta(0)
    day = convert(item(start={"date": "2025-03-04"}, end={"date": "2025-03-04"}))
    assert day.duration == timedelta(days=1)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (item(start=None), "no start"),
        (item(start={}), "no start"),
        (item(start={"timeZone": "UTC"}), "no start"),
        (item(start="2025-03-04"), "no start"),
        (item(start={"dateTime": "next tuesday"}), "unreadable start"),
        (item(start={"dateTime": 20250304}), "unreadable start"),
        (item(start={"date": "2025-02-30"}), "unreadable start"),
        (item(end={"dateTime": "garbage"}), "unreadable end"),
        (item(end="tomorrow"), "unreadable end"),
        (item(end={"dateTime": "2025-03-04T08:00:00+01:00"}), "ends before it starts"),
        (item(end={"date": "2025-03-05"}), "mix a date and a date-time"),
        (item(start={"date": "2025-03-05"}, end={"date": "2025-03-03"}), "ends before"),
        (item(id=""), "no id"),
        (item(id=None), "no id"),
    ],
)
def test_broken_items_raise_bad_event_naming_it(raw: dict[str, Any], why: str) -> None:
    with pytest.raises(BadEvent, match=why) as info:
        to_event(raw, "primary", ME, BERLIN)
    assert "Acme roadmap" in str(info.value)
    assert "\n" not in str(info.value)


def test_not_an_object() -> None:
    with pytest.raises(BadEvent, match="not an event object"):
        to_event(["x"], "primary", ME, BERLIN)  # type: ignore[arg-type]


def test_cancelled_is_none_even_when_broken() -> None:
    assert to_event({"id": "x", "status": "cancelled"}, "primary", ME, BERLIN) is None


def test_status_and_types() -> None:
    assert convert(item(status="tentative")).status == "tentative"
    assert convert(item(status="weird")).status == "confirmed"
    assert convert(item(status=None)).status == "confirmed"
    types = {
        "default": EventType.DEFAULT,
        "focusTime": EventType.FOCUS,
        "outOfOffice": EventType.OUT_OF_OFFICE,
        "workingLocation": EventType.WORKING_LOCATION,
        "fromGmail": EventType.OTHER,
        "birthday": EventType.OTHER,
        "somethingNew": EventType.OTHER,
    }
    for raw, expected in types.items():
        assert convert(item(eventType=raw)).event_type == expected, raw
    assert convert(item(transparency="transparent")).transparent
    assert not convert(item(transparency="opaque")).transparent


def test_people() -> None:
    e = convert(
        item(
            organizer={"email": "Minh@Acme.Example", "displayName": "Minh"},
            attendees=[
                {"email": "ME@example.com", "responseStatus": "declined"},
                {
                    "email": " Minh@ACME.example ",
                    "displayName": "Nguyễn Minh",
                    "organizer": True,
                    "responseStatus": "accepted",
                },
                {"email": "lan@acme.example", "optional": True, "responseStatus": "tentative"},
                {"email": "room-1@resource.calendar.google.com", "resource": True},
                {"displayName": "no e-mail, dropped"},
                {"email": "odd@acme.example", "responseStatus": "maybe?", "optional": "yes"},
                "not an attendee",
            ],
        )
    )
    assert e.organizer == "minh@acme.example"
    assert e.attendees == (
        Attendee("me@example.com", "", Response.DECLINED, is_self=True),
        Attendee("minh@acme.example", "Nguyễn Minh", Response.ACCEPTED, organizer=True),
        Attendee("lan@acme.example", "", Response.TENTATIVE, optional=True),
        Attendee("room-1@resource.calendar.google.com", resource=True),
        Attendee("odd@acme.example"),
    )


def test_self_flag_without_matching_email() -> None:
    e = convert(item(attendees=[{"email": "alias@example.org", "self": True}]))
    assert e.attendees[0].is_self


def test_series_uid_links_and_notes() -> None:
    e = convert(
        item(
            id="abc_20250304T090000Z",
            recurringEventId="abc",
            iCalUID="abc@google.com",
            htmlLink="https://www.google.com/calendar/event?eid=xyz",
            colorId="11",
            extendedProperties={
                "private": {
                    "calbot_score": "72",
                    "calbot_action": "shorten",
                    "someone_elses": "kept out",
                    "calbot_fp": 5,
                },
                "shared": {"calbot_reason": "shared ones are not ours"},
            },
        )
    )
    assert e.series_id == "abc"
    assert e.ical_uid == "abc@google.com"
    assert e.draft_key == "primary/abc"
    assert e.html_link.endswith("eid=xyz")
    assert e.color_id == "11"
    assert e.notes == (("calbot_action", "shorten"), ("calbot_score", "72"))


def test_video_link_from_hangout_or_conference_data() -> None:
    assert convert(item(hangoutLink="https://meet.google.com/abc")).video_link == (
        "https://meet.google.com/abc"
    )
    zoom = {
        "entryPoints": [
            {"entryPointType": "phone", "uri": "tel:+1-555"},
            {"entryPointType": "video", "uri": "javascript:alert(1)"},
            {"entryPointType": "video", "uri": "https://zoom.us/j/1"},
        ]
    }
    assert convert(item(conferenceData=zoom)).video_link == "https://zoom.us/j/1"
    assert convert(item(conferenceData={"entryPoints": "x"})).video_link == ""


def test_odd_types_do_not_break_text_fields() -> None:
    e = convert(item(summary=["x"], description=None, location=5, attendees="x", organizer="y"))
    assert (e.summary, e.description, e.location, e.attendees, e.organizer) == ("", "", "", (), "")


def test_label_is_one_short_line() -> None:
    label = event_label(item(summary="Line one\nBcc: evil@x.y " + "x" * 200))
    assert "\n" not in label
    assert len(label) < 100
    assert label.endswith("(id evt1)")
    assert event_label({"id": "e2"}) == "event (id e2)"


def overlaps(raw: dict[str, Any], start: datetime, end: datetime) -> bool:
    """Whether `to_event` keeps the item for the window [start, end)."""
    return to_event(raw, "primary", ME, BERLIN, within=(start, end)) is not None


def test_overlaps_half_open() -> None:
    raw = item()
    e = convert(raw)
    t = e.start
    assert overlaps(raw, t - timedelta(hours=1), t + timedelta(minutes=1))
    assert not overlaps(raw, e.end, e.end + timedelta(hours=1))
    assert not overlaps(raw, t - timedelta(hours=1), t)
    point = item(end=None)
    assert overlaps(point, t, t + timedelta(hours=1))
    assert not overlaps(point, t + timedelta(seconds=1), t + timedelta(hours=1))


def test_within_skips_what_lies_outside_the_window() -> None:
    raw = item()  # 09:00-10:00 UTC
    t = datetime(2025, 3, 4, 9, tzinfo=UTC)
    assert to_event(raw, "primary", ME, BERLIN, within=(t, t + timedelta(hours=1))) is not None
    assert (
        to_event(
            raw, "primary", ME, BERLIN, within=(t + timedelta(hours=1), t + timedelta(hours=2))
        )
        is None
    )
    assert to_event(raw, "primary", ME, BERLIN, within=(t - timedelta(hours=1), t)) is None
    with pytest.raises(BadEvent, match="no start"):  # broken items are reported all the same
        to_event(item(start=None), "primary", ME, BERLIN, within=(t, t))


def test_item_end() -> None:
    assert item_end(item(), BERLIN) == datetime(2025, 3, 4, 10, tzinfo=UTC)
    assert item_end(item(end=None), BERLIN) == datetime(2025, 3, 4, 9, tzinfo=UTC)
    assert item_end(item(end={"dateTime": "x"}), BERLIN) is None


def test_attendees_read_alike_are_one_object_and_only_true_counts() -> None:
    # converted attendees are shared between events; what makes them differ still counts
    people = [
        {"email": "a@acme.example", "optional": True, "responseStatus": "accepted"},
        {"email": "a@acme.example", "optional": 1, "responseStatus": "accepted"},
        {"email": "A@acme.example", "optional": True, "responseStatus": "accepted"},
        {"email": "a@acme.example", "optional": True, "displayName": ["odd"]},
        {"email": ME, "self": 1},
    ]
    first = convert(item(attendees=people)).attendees
    again = convert(item(attendees=[dict(p) for p in people])).attendees
    assert first == again
    # one object for each but the one with a list for a name (no key: converted anew)
    assert [x is y for x, y in zip(first, again, strict=True)] == [True] * 3 + [False, True]
    assert [a.optional for a in first] == [True, False, True, True, False]
    assert first[0].response is Response.ACCEPTED and first[3].name == ""
    assert first[4].is_self  # by its address, though `self` is not true
    other_me = to_event(item(attendees=people), "primary", "a@acme.example", BERLIN)
    assert other_me is not None and other_me.attendees[0].is_self
    assert not first[0].is_self
