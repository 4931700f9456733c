from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

import pytest
from builders import ME, at, block, client, event, person, settings

from calbot.core.classify import classify
from calbot.core.decide import Scene, Scored, decide_all, shorter_length
from calbot.core.draft_agenda import box_minutes
from calbot.core.model import Action, Tier
from calbot.core.scoring import has_agenda, score
from calbot.core.settings import Scoring
from calbot.core.workload import measure
from calbot.present.reasons import why_text

NOW = at("2026-11-25 10:00")  # a Wednesday; the busy week is the next one


def decide(targets, others=(), s=None, now=NOW, asked=None, week_counts=None):
    s = s or settings()
    meetings = [classify(t, s) for t in targets]
    assert all(meetings)
    w = measure([*targets, *others], s.user, date(2026, 11, 16), date(2026, 12, 13))
    counts = week_counts or {}
    scored = [
        Scored(m, score(m, w, counts.get(m.event.id, 1), s), counts.get(m.event.id, 1))
        for m in meetings
    ]
    scene = Scene(
        now=now, horizon_end=now + timedelta(days=14), workload=w, settings=s, asked=asked or {}
    )
    return decide_all(scored, scene)


def busy_tuesday(skip=()):
    return [event(f"2026-12-01 {h:02d}:00", 60) for h in (9, 10, 11, 13, 14) if h not in skip]


def only(decisions):
    (decision,) = decisions.values()
    return decision


def test_below_act_at_is_none():
    d = only(decide([event("2026-12-01 10:00", 30)]))
    assert d.action == Action.NONE and "below act_at" in why_text(d, "en")


def test_delegate_when_a_colleague_attends_and_user_is_optional():
    target = event(
        "2026-12-01 09:00",
        60,
        guests=("ana@acme.example", "sam@studio.example"),
        me=person(ME, is_self=True, optional=True),
    )
    d = decide([target], busy_tuesday(skip=(9,)))[target.id]
    assert d.action == Action.DELEGATE
    assert d.proposal is not None and d.proposal.delegate_to == "sam@studio.example"


def test_no_delegate_when_the_user_organizes_and_is_not_optional():
    target = event(
        "2026-12-01 09:00", 60, guests=("ana@acme.example", "sam@studio.example"), organizer=ME
    )
    d = decide([target], busy_tuesday(skip=(9,)))[target.id]
    assert d.action != Action.DELEGATE


def test_call_for_an_in_person_meeting():
    s = settings(client(tier=Tier.LOW))
    target = event("2026-12-03 10:00", 90, location="Acme HQ", video_link="", description="")
    d = only(decide([target], s=s))
    assert d.action == Action.CALL


def test_email_for_a_repeated_meeting_without_agenda_but_never_for_a_key_client():
    target = event("2026-12-01 09:00", 30, series_id="weekly", description="")
    d = decide([target], busy_tuesday(skip=(9,)))[target.id]
    assert d.action == Action.EMAIL
    key = settings(client(tier=Tier.KEY), scoring=Scoring(key_weight=1.0))
    d = decide([target], busy_tuesday(skip=(9,)), s=key)[target.id]
    assert d.action != Action.EMAIL and d.action != Action.NONE
    assert "key clients never" in why_text(d, "en")


def test_deciding_reads_the_agenda_as_scored_and_never_scans_a_description_again():
    """A big window has thousands of meetings, each description scanned by two regexes:
    once, when scored (`Score.agenda`), not again when the email rule is weighed."""
    targets = [
        event("2026-12-01 09:00", 30, series_id="weekly", description=f"Status {i}.")
        for i in range(3)
    ]
    has_agenda.cache_clear()
    decisions = decide(targets, busy_tuesday(skip=(9,)))
    info = has_agenda.cache_info()
    assert info.hits + info.misses == len(targets)
    assert any(d.action == Action.EMAIL for d in decisions.values())


def test_shorten_proposes_a_shorter_length():
    target = event("2026-12-01 09:00", 120)
    d = decide([target], busy_tuesday(skip=(9,)))[target.id]
    assert d.action == Action.SHORTEN
    assert d.proposal is not None and d.proposal.duration_minutes == 60
    # the rule that fits first, then why the ones before it did not
    assert why_text(d, "en") == (
        "shorten: 120 min can be 60; delegate: no colleague attends, or you organize it and "
        "are not optional; call: not in person; email: not a repeated meeting without agenda"
    )
    assert [shorter_length(m, 60) for m in (90, 120, 75, 180, 20)] == [45, 60, 30, 60, 15]


def test_reschedule_offers_free_slots_on_lighter_days_inside_hours_after_notice():
    day = busy_tuesday()
    target = day[-1]
    d = decide([target], day[:-1])[target.id]
    assert d.action == Action.RESCHEDULE
    assert d.proposal is not None and 2 <= len(d.proposal.slots) <= 3
    tz = ZoneInfo("Europe/Berlin")
    for slot in d.proposal.slots:
        assert slot.start >= NOW + timedelta(hours=24)
        assert slot.end - slot.start == timedelta(hours=1)
        local = slot.start.astimezone(tz)
        assert local.date() != date(2026, 12, 1) and local.weekday() < 5
        assert local.hour >= 9 and slot.end.astimezone(tz).time() <= at("2026-12-01 17:30").time()


def test_reschedule_needs_notice():
    day = busy_tuesday()
    d = decide([day[-1]], day[:-1], now=at("2026-12-01 08:00"))[day[-1].id]
    assert d.action != Action.RESCHEDULE
    assert "reschedule: it starts within the notice period (24 h)" in why_text(d, "en")


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "do not overlap"), ("vi", "không trùng nhau"), ("ms", "tidak bertindih")],
)
def test_no_reschedule_says_when_the_two_sides_hours_never_meet(lang: str, words: str) -> None:
    # Los Angeles 09:00-18:00 is 18:00-03:00 in Berlin, after the user's day (09:00-17:30)
    s = settings(client(timezone="America/Los_Angeles"))
    day = busy_tuesday()
    d = decide([day[-1]], day[:-1], s=s)[day[-1].id]
    assert d.action != Action.RESCHEDULE
    assert words in why_text(d, lang) and "Acme" in why_text(d, lang)
    assert "notice" not in why_text(d, "en") and "free slots" not in why_text(d, "en")


def test_no_reschedule_for_want_of_free_slots_says_so():
    # the hours meet, but every lighter day in the search is full
    day = busy_tuesday()
    full = [block(f"2026-{d} 09:00", 8 * 60 + 30) for d in ("11-26", "11-27", "11-30")]
    full += [block(f"2026-12-{d:02d} 09:00", 8 * 60 + 30) for d in range(2, 12)]
    d = decide([day[-1]], [*day[:-1], *full])[day[-1].id]
    assert d.action != Action.RESCHEDULE
    assert "reschedule: fewer than 2 free slots on lighter days" in why_text(d, "en")


def test_reschedule_respects_the_clients_night():
    # A client in Ho Chi Minh City (6 h ahead) working 09:00-17:00: 09:00 Berlin is 15:00
    # there, 11:00 Berlin already their day's end; the slots stay inside their hours.
    from datetime import time

    from calbot.core.model import TimeRange

    s = settings(client(timezone="Asia/Ho_Chi_Minh", working_hours=TimeRange(time(9), time(17))))
    day = busy_tuesday()
    d = decide([day[-1]], day[:-1], s=s)[day[-1].id]
    assert d.action == Action.RESCHEDULE
    for slot in d.proposal.slots:
        local = slot.start.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
        assert local.hour >= 9 and slot.end.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).hour <= 17


def test_boundary_for_a_chatty_client():
    s = settings(client(chatty=True))
    target = event(
        "2026-12-01 09:00",
        60,
        organizer=ME,
        guests=("ana@acme.example", "sam@studio.example"),
        description="",
    )
    d = only(decide([target], s=s))
    assert d.action == Action.BOUNDARY
    # The box is the next shorter step, never the booked hour.
    assert d.proposal is not None and d.proposal.duration_minutes == 45


def test_box_steps_above_an_hour() -> None:
    assert (box_minutes(90), box_minutes(120), box_minutes(180)) == (60, 90, 90)


@pytest.mark.parametrize(
    ("booked", "box"),
    [(10, None), (15, None), (20, 15), (30, 20), (45, 30), (60, 45), (60, 45)],
)
def test_boundary_box_is_the_next_shorter_step(booked: int, box: int | None) -> None:
    s = settings(client(chatty=True))
    target = event(
        "2026-12-01 09:00",
        booked,
        organizer=ME,
        guests=("ana@acme.example", "sam@studio.example"),
        description="",
    )
    d = only(decide([target], s=s))
    assert d.action == Action.BOUNDARY
    assert d.proposal is not None and d.proposal.duration_minutes == box


def test_order_is_configurable():
    s = settings(scoring=Scoring(order=(Action.RESCHEDULE, Action.SHORTEN)))
    target = event("2026-12-01 15:00", 120)
    d = decide([target], busy_tuesday())[target.id]
    assert d.action == Action.SHORTEN  # default order: shorten before reschedule
    d = decide([target], busy_tuesday(), s=s)[target.id]
    assert d.action == Action.RESCHEDULE


def test_goodwill_one_ask_per_client_highest_score_first():
    day = busy_tuesday()
    a, b = day[3], day[4]
    long_b = event("2026-12-01 14:00", 60, description="", series_id=None)
    decisions = decide([a, b], day[:3])
    actions = sorted(d.action for d in decisions.values())
    assert actions.count(Action.RESCHEDULE) == 1
    # the budget spent by an earlier scan (another meeting) blocks it
    d = decide([a], [*day[:3], b], asked={"Acme": frozenset({"cal/other"})})[a.id]
    assert d.action != Action.RESCHEDULE and "already asked" in why_text(d, "en")
    # ...but not the same meeting's own earlier ask
    d = decide([a], [*day[:3], b], asked={"Acme": frozenset({a.draft_key})})[a.id]
    assert d.action == Action.RESCHEDULE
    del long_b


def test_past_meeting_gets_no_action():
    day = busy_tuesday()
    d = decide([day[0]], day[1:], now=at("2026-12-01 09:30"))[day[0].id]
    assert d.action == Action.NONE and "past" in why_text(d, "en")


def test_fingerprint_changes_with_time_attendees_location_only():
    from dataclasses import replace

    from calbot.core.decide import fingerprint

    s = settings()
    m = classify(event("2026-12-01 10:00", 60), s)
    same = fingerprint(m, Action.CALL)
    assert fingerprint(replace(m, event=replace(m.event, summary="renamed")), Action.CALL) == same
    moved = replace(
        m.event, start=m.event.start + timedelta(hours=1), end=m.event.end + timedelta(hours=1)
    )
    assert fingerprint(replace(m, event=moved), Action.CALL) != same
    assert fingerprint(replace(m, event=replace(m.event, location="HQ")), Action.CALL) != same
    assert fingerprint(m, Action.SHORTEN) != same
    assert UTC  # imported for symmetry with other tests


def test_slots_avoid_all_busy_time_including_focus_and_out_of_office():
    from calbot.core.model import EventType

    day = busy_tuesday()
    focus = [block(f"2026-11-{d} 09:00", 8.5 * 60, EventType.FOCUS) for d in (26, 27)]
    away = block("2026-11-30 00:00", 24 * 60, EventType.OUT_OF_OFFICE, all_day=True)
    d = decide([day[-1]], [*day[:-1], *focus, away])[day[-1].id]
    tz = ZoneInfo("Europe/Berlin")
    days = {s.start.astimezone(tz).date() for s in d.proposal.slots}
    assert days.isdisjoint({date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 30)})
