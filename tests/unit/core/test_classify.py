from dataclasses import replace

from builders import COLLEAGUE, ME, block, client, event, person, settings
from hypothesis import given
from hypothesis import strategies as st

from calbot.core.classify import (
    classify,
    classify_all,
    dedupe,
    is_busy,
    is_meeting,
    organizer_of,
    other_people,
)
from calbot.core.model import Attendee, EventType, Response, Tier


def test_a_confirmed_meeting_with_a_client_is_a_client_meeting():
    m = classify(event("2026-12-01 10:00"), settings())
    assert m is not None
    assert m.client.name == "Acme"
    assert [a.email for a in m.client_attendees] == ["ana@acme.example"]


def test_declined_cancelled_tentative_all_day_are_not_client_meetings():
    s = settings()
    declined = event("2026-12-01 10:00", me=person(ME, is_self=True, response=Response.DECLINED))
    assert classify(declined, s) is None
    assert classify(event("2026-12-01 10:00", status="cancelled"), s) is None
    assert classify(event("2026-12-01 10:00", status="tentative"), s) is None
    assert classify(event("2026-12-01 00:00", minutes=24 * 60, all_day=True), s) is None


def test_focus_out_of_office_and_working_location_are_never_client_meetings():
    s = settings()
    for kind in (EventType.FOCUS, EventType.OUT_OF_OFFICE, EventType.WORKING_LOCATION):
        assert classify(event("2026-12-01 10:00", event_type=kind), s) is None


def test_only_colleagues_or_unknown_outsiders_is_not_a_client_meeting():
    s = settings()
    assert classify(event("2026-12-01 10:00", guests=("sam@studio.example",)), s) is None
    assert classify(event("2026-12-01 10:00", guests=("x@other.example",)), s) is None
    anyone = settings(unknown_external_is_client=True)
    m = classify(event("2026-12-01 10:00", guests=("x@other.example",)), anyone)
    assert m is not None and m.client.name == "other.example"


def test_email_match_beats_domain_match_and_first_entry_wins_among_equals():
    by_domain = client("Acme", "acme.example")
    by_email = client("Acme Legal", "legal.example", emails=("ana@acme.example",))
    m = classify(event("2026-12-01 10:00"), settings(by_domain, by_email))
    assert m is not None and m.client.name == "Acme Legal"
    first, second = client("First", "acme.example"), client("Second", "acme.example")
    m = classify(event("2026-12-01 10:00"), settings(first, second))
    assert m is not None and m.client.name == "First"


def test_skipped_client_is_left_alone():
    s = settings(client(skip=True))
    assert classify(event("2026-12-01 10:00"), s) is None


def test_colleagues_optional_and_organizer_are_recorded():
    ev = event(
        "2026-12-01 10:00",
        guests=("ana@acme.example", "sam@studio.example"),
        me=person(ME, is_self=True, optional=True),
    )
    m = classify(ev, settings())
    assert m is not None
    assert [a.email for a in m.colleagues] == ["sam@studio.example"]
    assert m.user_optional and not m.user_is_organizer
    mine = classify(event("2026-12-01 10:00", organizer=ME), settings())
    assert mine is not None and mine.user_is_organizer


def test_rooms_and_declined_guests_do_not_make_a_meeting():
    room = Attendee("room@acme.example", resource=True, response=Response.ACCEPTED)
    gone = Attendee("ana@acme.example", response=Response.DECLINED)
    base = event("2026-12-01 10:00", guests=())
    for other in (room, gone):
        ev = replace(base, attendees=(*base.attendees, other))
        assert classify(ev, settings()) is None


def test_the_same_occurrence_on_two_calendars_counts_once():
    a = event("2026-12-01 10:00", ical_uid="same", calendar_id="primary")
    b = event("2026-12-01 10:00", ical_uid="same", calendar_id="team")
    c = event("2026-12-08 10:00", ical_uid="same", calendar_id="primary")  # next occurrence
    assert dedupe([a, b, c]) == [a, c]


def test_busy_rules():
    user = settings().user
    assert is_busy(block("2026-12-01 10:00", 60, EventType.FOCUS), user)
    assert is_busy(block("2026-12-01 00:00", 24 * 60, EventType.OUT_OF_OFFICE, all_day=True), user)
    assert not is_busy(block("2026-12-01 00:00", 24 * 60, all_day=True), user)
    assert not is_busy(block("2026-12-01 10:00", 60, transparent=True), user)
    assert not is_busy(block("2026-12-01 10:00", 60, EventType.WORKING_LOCATION), user)


def test_tier_is_carried():
    m = classify(event("2026-12-01 10:00"), settings(client(tier=Tier.KEY)))
    assert m is not None and m.client.tier == Tier.KEY


# -- the organizer is a participant; a calendar never is (SPEC §1.3) ---------------------


def _invited(organizer: str, **kw):
    """An invitation whose guest list holds only the user."""
    return event("2026-12-01 10:00", guests=(), organizer=organizer, **kw)


def test_an_outside_organizer_missing_from_the_guest_list_is_a_participant():
    ev = _invited("pat@acme.example", organizer_name="Pat Morgan")
    assert other_people(ev, settings().user) == [
        Attendee("pat@acme.example", "Pat Morgan", organizer=True)
    ]
    m = classify(ev, settings())
    assert m is not None and not m.user_is_organizer
    assert [a.email for a in m.client_attendees] == ["pat@acme.example"]


def test_a_listed_organizer_is_taken_from_the_guest_list_once():
    ev = event("2026-12-01 10:00", guests=("ana@acme.example",), organizer="ana@acme.example")
    assert [a.email for a in other_people(ev, settings().user)] == ["ana@acme.example"]
    gone = Attendee("ana@acme.example", response=Response.DECLINED, organizer=True)
    declined = replace(ev, attendees=(ev.attendees[0], gone))
    assert other_people(declined, settings().user) == []
    assert classify(declined, settings()) is None
    assert organizer_of(declined, settings().user) == gone  # still who organized it


def test_calendars_and_the_user_are_never_participants():
    user = settings().user
    for organizer in (
        "c_1a2b@group.calendar.google.com",
        "acme.example_38@resource.calendar.google.com",
        "de.german#holiday@group.v.calendar.google.com",
        ME,
    ):
        ev = _invited(organizer)
        assert organizer_of(ev, user) is None
        assert not is_meeting(ev, user) and classify(ev, settings()) is None
    # Google's organizer.self: the calendar this copy is on, whatever its address
    assert organizer_of(_invited("pat@acme.example", organizer_self=True), user) is None
    # the calendar the event is read from (a shared calendar organizing its own events)
    own = _invited("bookings@acme.example", calendar_id="bookings@acme.example")
    assert organizer_of(own, user) is None and classify(own, settings()) is None


def test_a_calendar_organizer_leaves_the_reply_to_the_client_guests():
    ev = event("2026-12-01 10:00", organizer="c_1a2b@group.calendar.google.com")
    m = classify(ev, settings())
    assert m is not None and m.user_is_organizer  # like an invitation without organizer
    assert [a.email for a in m.client_attendees] == ["ana@acme.example"]


def test_a_colleague_organizing_is_a_colleague_in_the_meeting():
    ev = event("2026-12-01 10:00", guests=("ana@acme.example",), organizer=COLLEAGUE)
    m = classify(ev, settings())
    assert m is not None and not m.user_is_organizer
    assert [a.email for a in m.colleagues] == [COLLEAGUE]


def test_hidden_guests_make_meeting_time_but_no_client_meeting():
    ev = _invited("c_1a2b@group.calendar.google.com", guests_hidden=True)
    assert is_meeting(ev, settings().user)
    assert classify(ev, settings()) is None


_ADDRESSES = st.sampled_from(
    [
        "pat@acme.example",
        "ana@acme.example",
        "x@other.example",
        COLLEAGUE,
        ME,
        "c_1@group.calendar.google.com",
        "r_1@resource.calendar.google.com",
    ]
)


@given(guests=st.lists(_ADDRESSES, max_size=3, unique=True), organizer=_ADDRESSES)
def test_participants_are_the_guests_and_a_person_organizer(guests, organizer):
    """People only (a calendar invited as a guest is where the event is copied, not someone
    who attends), each once, the organizer among them exactly when a person."""
    ev = event("2026-12-01 10:00", guests=tuple(g for g in guests if g != ME), organizer=organizer)
    people = [a.email for a in other_people(ev, settings().user)]
    assert len(people) == len(set(people))
    assert not any(p == ME or p.endswith("calendar.google.com") for p in people)
    person = organizer != ME and not organizer.endswith("calendar.google.com")
    assert (organizer in people) == person


_STATUSES = st.sampled_from(["confirmed", "tentative", "cancelled"])
_KINDS = st.sampled_from(list(EventType))
_RESPONSES = st.sampled_from(list(Response))


@given(
    guests=st.lists(_ADDRESSES, max_size=3, unique=True),
    organizer=_ADDRESSES,
    status=_STATUSES,
    kind=_KINDS,
    response=_RESPONSES,
    all_day=st.booleans(),
    hidden=st.booleans(),
)
def test_classify_all_is_classify_and_is_meeting_of_each(
    guests, organizer, status, kind, response, all_day, hidden
):
    """The scan classifies a window in one pass (`classify_all`): the same client meetings
    as `classify` of each event, and `is_meeting` of each for the load measure."""
    ev = event(
        "2026-12-01 10:00",
        guests=tuple(g for g in guests if g != ME),
        organizer=organizer,
        status=status,
        event_type=kind,
        me=person(ME, is_self=True, response=response),
        all_day=all_day,
        guests_hidden=hidden,
    )
    plain = event("2026-12-01 11:00")
    s = settings()
    meetings, flags = classify_all([ev, plain], s)
    assert meetings == [m for e in (ev, plain) if (m := classify(e, s)) is not None]
    assert flags == [is_meeting(ev, s.user), is_meeting(plain, s.user)]


_CLIENTS = st.lists(
    st.tuples(
        st.lists(
            st.sampled_from(["acme.example", "other.example", "studio.example"]),
            min_size=1,
            max_size=2,
        ),
        st.lists(st.sampled_from(["pat@acme.example", "x@other.example"]), max_size=2),
        st.booleans(),
    ),
    min_size=1,
    max_size=3,
).map(
    lambda specs: tuple(
        client(f"C{i}", domains[0], domains=tuple(domains), emails=tuple(emails), skip=skip)
        for i, (domains, emails, skip) in enumerate(specs)
    )
)


@given(
    events=st.lists(
        st.tuples(
            st.lists(_ADDRESSES, max_size=4, unique=True),
            _ADDRESSES,
            _STATUSES,
            _RESPONSES,
            st.booleans(),
            st.booleans(),
        ),
        max_size=4,
    ),
    clients=_CLIENTS,
    own=st.sampled_from([(), ("studio.example",), ("acme.example", "studio.example")]),
    anyone=st.booleans(),
)
def test_classify_all_matches_clients_as_classify_does(events, clients, own, anyone):
    """`classify_all` looks clients up by address and domain once per window: the same
    client (e-mail before domain, first in the file), members, colleagues and skips as
    `classify` walking the clients for each event, whatever the clients and own domains."""
    s = settings(*clients, own_domains=own, unknown_external_is_client=anyone)
    evs = [
        event(
            "2026-12-01 10:00",
            guests=tuple(g for g in guests if g != ME),
            organizer=organizer,
            status=status,
            me=person(ME, is_self=True, response=response, optional=optional),
            transparent=transparent,
        )
        for guests, organizer, status, response, optional, transparent in events
    ]
    meetings, flags = classify_all(evs, s)
    assert meetings == [m for e in evs if (m := classify(e, s)) is not None]
    assert flags == [is_meeting(e, s.user) for e in evs]


def test_classify_all_takes_the_first_client_in_the_file_whatever_the_guest_order():
    first, second = client("First", "other.example"), client("Second", "acme.example")
    by_email = client("By email", "legal.example", emails=("x@other.example",))
    for clients, name in (((first, second), "First"), ((second, first, by_email), "By email")):
        s = settings(*clients)
        for guests in (
            ("pat@acme.example", "x@other.example"),
            ("x@other.example", "pat@acme.example"),
        ):
            ev = event("2026-12-01 10:00", guests=guests)
            meetings, _ = classify_all([ev], s)
            assert [m.client.name for m in meetings] == [name]
            assert meetings == [classify(ev, s)]
