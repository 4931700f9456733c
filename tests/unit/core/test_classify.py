from dataclasses import replace

from builders import ME, block, client, event, person, settings

from calbot.core.classify import classify, dedupe, is_busy
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
