"""Every invitation seen (SPEC §1.3): event shapes as Google and common ICS exporters produce
them, read through the real adapters (`to_event` over the cached `compact` item, `IcsSource`),
then classified, addressed and counted in the day's load. The organizer is a participant even
when the guest list holds only the user; a calendar as organizer never is."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from builders import client, settings

from calbot.adapters.google.events import compact, to_event
from calbot.adapters.ics import IcsSource
from calbot.config.settings import Settings
from calbot.core.classify import classify, is_meeting
from calbot.core.draft_people import addressee, recipients
from calbot.core.model import Event, Meeting
from calbot.core.workload import measure

BERLIN = ZoneInfo("Europe/Berlin")
ME = "me@example.com"
DATA = Path(__file__).parents[2] / "data" / "ics"


def item(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "evt1",
        "status": "confirmed",
        "summary": "Acme roadmap",
        "start": {"dateTime": "2025-03-04T10:00:00+01:00"},
        "end": {"dateTime": "2025-03-04T11:00:00+01:00"},
    }
    base.update(kw)
    return base


def convert(raw: dict[str, Any]) -> Event:
    event = to_event(raw, "primary", ME, BERLIN)
    assert event is not None
    return event


def berlin(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=BERLIN)


# -- invitations: the organizer takes part, a calendar never does (SPEC §1.3) -------------


def _settings() -> Settings:
    return settings(client("Acme", "acme.example"), email=ME, own_domains=("example.com",))


def _invitation(**kw: Any) -> dict[str, Any]:
    """An invitation as a guest sees it when the organizer hides the guest list: Google
    lists only the user and says that others were left out."""
    base: dict[str, Any] = {
        "organizer": {"email": "Pat@Acme.example", "displayName": "Pat Morgan"},
        "attendees": [{"email": ME, "self": True, "responseStatus": "accepted"}],
        "attendeesOmitted": True,
        "guestsCanSeeOtherGuests": False,
    }
    return item(**{**base, **kw})


def _meeting_of(raw: dict[str, Any]) -> Meeting | None:
    # through the cache, as a scan reads it
    return classify(convert(compact(raw)), _settings())


def test_hidden_guests_invitation_is_a_meeting_with_its_organizer() -> None:
    e = convert(compact(_invitation()))
    assert (e.organizer, e.organizer_name, e.organizer_self) == (
        "pat@acme.example",
        "Pat Morgan",
        False,
    )
    assert e.guests_hidden
    assert [a.email for a in e.attendees] == [ME]
    m = classify(e, _settings())
    assert m is not None and m.client.name == "Acme"
    assert [(a.email, a.name) for a in m.client_attendees] == [("pat@acme.example", "Pat Morgan")]
    assert not m.user_is_organizer
    to, _ = recipients(m, _settings().user)
    assert [(a.email, a.name) for a in to] == [("pat@acme.example", "Pat Morgan")]
    assert addressee(m, to, "en") == ("", "Pat")  # greeted by the first name


def test_an_outside_organizer_counts_even_without_attendees_omitted() -> None:
    raw = _invitation()
    del raw["attendeesOmitted"], raw["guestsCanSeeOtherGuests"]
    e = convert(raw)
    assert not e.guests_hidden
    m = classify(e, _settings())
    assert m is not None and [a.email for a in m.client_attendees] == ["pat@acme.example"]


def test_guests_hidden_only_when_the_user_is_a_guest() -> None:
    assert convert(item(guestsCanSeeOtherGuests=False)).guests_hidden
    assert convert(item(attendeesOmitted=True)).guests_hidden
    mine = item(organizer={"email": ME, "self": True}, guestsCanSeeOtherGuests=False)
    assert not convert(mine).guests_hidden
    assert not convert(item(guestsCanSeeOtherGuests=True, attendeesOmitted=False)).guests_hidden
    small = compact(_invitation())
    assert small["attendeesOmitted"] is True and small["guestsCanSeeOtherGuests"] is False


@pytest.mark.parametrize(
    "organizer",
    [
        {"email": "c_1a2b3c@group.calendar.google.com", "displayName": "Acme projects"},
        {"email": "acme.example_3830@resource.calendar.google.com", "displayName": "Room 1"},
        {"email": "en.german#holiday@group.v.calendar.google.com"},
        # the user's own secondary calendar, seen on that calendar
        {"email": "c_99@group.calendar.google.com", "self": True},
        # a calendar of the user's that is not on Google's domain, seen on itself
        {"email": "pat@acme.example", "self": True},
    ],
)
def test_a_calendar_as_organizer_is_never_a_participant(organizer: dict[str, Any]) -> None:
    alone = item(organizer=organizer, attendees=[{"email": ME, "self": True}])
    assert _meeting_of(alone) is None
    e = convert(alone)
    assert not is_meeting(e, _settings().user)
    # with a client among the guests it is a meeting with the client, and the reply goes to
    # the client, never to the calendar
    guests = [{"email": ME, "self": True}, {"email": "ana@acme.example", "displayName": "Ana"}]
    m = _meeting_of(item(organizer=organizer, attendees=guests))
    assert m is not None and m.user_is_organizer
    to, _ = recipients(m, _settings().user)
    assert [a.email for a in to] == ["ana@acme.example"]


def test_a_calendar_organizer_with_hidden_guests_is_load_but_no_client_meeting() -> None:
    raw = _invitation(organizer={"email": "c_1a2b3c@group.calendar.google.com"})
    e = convert(raw)
    assert _meeting_of(raw) is None  # nobody to match, nobody to write to
    assert is_meeting(e, _settings().user)  # but others attend: it is meeting time


def test_the_organizer_is_the_calendar_it_is_read_from() -> None:
    # an event on a shared calendar, organized by that calendar (any address)
    raw = item(organizer={"email": "bookings@acme.example"}, attendees=[{"email": ME}])
    e = to_event(raw, "bookings@acme.example", ME, BERLIN)
    assert e is not None and classify(e, _settings()) is None


def test_a_declined_or_listed_organizer_is_judged_by_the_guest_list() -> None:
    listed = item(
        organizer={"email": "pat@acme.example"},
        attendees=[
            {"email": ME, "self": True},
            {"email": "pat@acme.example", "organizer": True, "responseStatus": "declined"},
        ],
    )
    assert _meeting_of(listed) is None  # the organizer said they will not come


def test_an_invitation_counts_in_the_days_load() -> None:
    """Tue (2025-03-04) has 5 h with visible guests; the 1 h hidden-guest invitation from a
    client makes it 6 h and one more meeting."""
    guest = [{"email": ME, "self": True}, {"email": "ana@acme.example"}]
    day = [
        item(
            id=f"m{h}",
            start={"dateTime": f"2025-03-04T{h:02d}:00:00+01:00"},
            end={"dateTime": f"2025-03-04T{h + 1:02d}:00:00+01:00"},
            attendees=guest,
            organizer={"email": "ana@acme.example"},
        )
        for h in (8, 9, 10, 11, 12)
    ]
    invite = _invitation(
        id="inv",
        start={"dateTime": "2025-03-04T15:00:00+01:00"},
        end={"dateTime": "2025-03-04T16:00:00+01:00"},
    )
    user = _settings().user
    tue = date(2025, 3, 4)

    def load(raws: list[dict[str, Any]]) -> tuple[float, int]:
        events = [convert(compact(r)) for r in raws]
        d = measure(events, user, tue, tue).days[tue]
        return d.meeting_hours, d.meeting_count

    assert load(day) == (5, 5)
    assert load([*day, invite]) == (6, 6)


# -- invitations: ORGANIZER counts, a calendar as organizer never does (SPEC §1.3) -------


@pytest.fixture(scope="module")
def invitations() -> dict[str, Event]:
    source = IcsSource(str(DATA / "invitations.ics"), ME, "Europe/Berlin")
    events = list(source.events(berlin(2025, 6, 9), berlin(2025, 6, 16)))
    assert source.warnings == []
    return {e.ical_uid: e for e in events}


def test_organizer_name_and_address_are_read(invitations: dict[str, Event]) -> None:
    only = invitations["organizer-only@calbot.test"]
    assert (only.organizer, only.organizer_name, only.attendees) == (
        "lan@acme.example",
        "Nguyen, Lan",
        (),
    )
    hidden = invitations["hidden-guests@calbot.test"]
    assert (hidden.organizer, hidden.organizer_name) == ("pat@acme.example", "Pat Morgan")
    assert [a.email for a in hidden.attendees] == [ME]


@pytest.mark.parametrize(
    ("uid", "organizer"),
    [
        ("hidden-guests@calbot.test", "pat@acme.example"),
        ("organizer-only@calbot.test", "lan@acme.example"),
    ],
)
def test_an_outside_organizer_makes_a_client_meeting(
    invitations: dict[str, Event], uid: str, organizer: str
) -> None:
    m = classify(invitations[uid], _settings())
    assert m is not None and m.client.name == "Acme" and not m.user_is_organizer
    assert [a.email for a in m.client_attendees] == [organizer]
    to, _ = recipients(m, _settings().user)
    assert [a.email for a in to] == [organizer]


@pytest.mark.parametrize(
    "uid", ["group-organizer@calbot.test", "resource-organizer@calbot.test", "mine@calbot.test"]
)
def test_a_calendar_or_the_user_as_organizer_is_no_participant(
    invitations: dict[str, Event], uid: str
) -> None:
    event = invitations[uid]
    assert classify(event, _settings()) is None
    assert not is_meeting(event, _settings().user)


def test_invitations_count_in_the_days_load(invitations: dict[str, Event]) -> None:
    """Tue has 5 h of meetings with visible guests; the invitation listing only the user
    makes it 6 h (calendar-organized events and the user's own block do not count)."""
    tue, wed = date(2025, 6, 10), date(2025, 6, 11)
    days = measure(invitations.values(), _settings().user, tue, wed).days
    assert (days[tue].meeting_hours, days[tue].meeting_count) == (6, 6)
    assert (days[wed].meeting_hours, days[wed].meeting_count) == (1, 1)
