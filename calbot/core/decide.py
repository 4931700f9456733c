"""From scores to one action per meeting, with its concrete proposal."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from calbot.core.draft_agenda import box_minutes
from calbot.core.messages import Clauses, Hours, Message, message
from calbot.core.model import Action, Decision, Event, Meeting, Proposal, Slot, Tier
from calbot.core.records import HoldRecord
from calbot.core.scoring import Score, in_person, is_repeated
from calbot.core.settings import CoreSettings
from calbot.core.slots import SlotQuery, find_slots, shared_hours, slot_fits
from calbot.core.workload import Interval, Workload, iso_week

# Asking a client to move or drop a meeting spends goodwill (the goodwill budget).
GOODWILL_ACTIONS = frozenset({Action.RESCHEDULE, Action.EMAIL})


@dataclass(frozen=True, slots=True)
class Scored:
    meeting: Meeting
    score: Score
    week_count: int  # meetings with this client in the meeting's ISO week


@dataclass(frozen=True, slots=True)
class Scene:
    """What every decision in one scan shares."""

    now: datetime
    horizon_end: datetime
    workload: Workload
    settings: CoreSettings
    # draft keys already asked (reschedule/email) per client inside the goodwill window
    asked: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # slots offered by pending drafts (SPEC §1.7): busy for every other draft key's
    # proposal, free (and kept while they fit) for their own key's
    holds: tuple[HoldRecord, ...] = ()
    # slots proposed earlier in this scan (decide_all): busy for every other key as well,
    # but never "kept" as a key's own (a series' occurrences would stack them up)
    chosen: tuple[HoldRecord, ...] = ()


def fingerprint(meeting: Meeting, action: Action) -> str:
    """What the decision depends on: a change re-opens a draft the user deleted."""
    return event_fingerprint(meeting.event, action)


def event_fingerprint(e: Event, action: Action) -> str:
    """`fingerprint` from the event alone: a meeting whose reschedule fingerprint differs
    from the recorded one has moved (or changed), which ends its held slots."""
    people = ",".join(sorted(a.email for a in e.attendees))
    start, end = e.start.astimezone(UTC).isoformat(), e.end.astimezone(UTC).isoformat()
    text = "|".join([action.value, start, end, e.location.strip(), people])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def shorter_length(minutes: float, long_meeting_minutes: int) -> int:
    """Half the length, on a quarter hour, at least 15 and no longer than a 'long' meeting."""
    half = int(minutes // 2 // 15 * 15)
    return max(15, min(half, long_meeting_minutes))


def over_limits(meeting: Meeting, workload: Workload, settings: CoreSettings) -> bool:
    t = settings.thresholds
    day = meeting.event.start.astimezone(workload.tz).date()
    load = workload.day(day)
    return (
        load.meeting_hours > t.max_meeting_hours_per_day
        or load.meeting_count > t.max_meetings_per_day
        or workload.week_minutes(day) > t.max_meeting_hours_per_week * 60
    )


def _slot_query(meeting: Meeting, scene: Scene, own_day: date) -> SlotQuery:
    """What a slot for `meeting` (on the user's `own_day`) must fit, the notice period
    counted from now."""
    settings, event = scene.settings, meeting.event
    return SlotQuery(
        duration=event.duration,
        earliest=scene.now + timedelta(hours=settings.thresholds.min_notice_hours),
        latest=scene.horizon_end,
        client_tz=ZoneInfo(meeting.client.timezone or settings.user.timezone),
        client_hours=meeting.client.working_hours,
        client_days=meeting.client.working_days,
        original_day=own_day,
        freed=(event.start.astimezone(UTC), event.end.astimezone(UTC)),
    )


def reschedule_slots(meeting: Meeting, scene: Scene) -> Proposal | Message:
    """The slots to offer; when there are too few, why, as exactly as is known: too soon
    to ask, the two sides' working hours never meet, or too few free slots on lighter
    days (a zero-length entry has nothing to move)."""
    settings, workload, t = scene.settings, scene.workload, scene.settings.thresholds
    event = meeting.event
    own_day = event.start.astimezone(workload.tz).date()
    query = _slot_query(meeting, scene, own_day)
    if event.start < query.earliest:
        return message("why.reschedule_too_soon", notice=Hours(t.min_notice_hours * 60))
    if event.duration <= timedelta(0):
        return message("why.reschedule_no_slots")
    minutes = event.duration.total_seconds() / 60

    def load_after_move(day: date) -> float | None:
        load = workload.day(day)
        after = load.meeting_minutes + minutes
        if (
            after > t.max_meeting_hours_per_day * 60
            or load.meeting_count + 1 > t.max_meetings_per_day
        ):
            return None
        week = workload.week_minutes(day)
        if (
            iso_week(day) != iso_week(own_day)
            and week + minutes > t.max_meeting_hours_per_week * 60
        ):
            return None
        return after

    key = event.draft_key
    others: tuple[Interval, ...] = tuple(
        (h.start.astimezone(UTC), h.end.astimezone(UTC))
        for h in (*scene.holds, *scene.chosen)
        if h.key != key
    )

    def busy_on(day: date) -> tuple[Interval, ...]:
        # a hold is a few intervals at most per key: all of them, whatever the day, is
        # cheaper than sorting them by day (the slot search clips to the day anyway)
        return workload.busy_on(day) + others

    own = _own_slots(key, scene, settings.user.timezone)
    if len(own) >= 2 and all(
        slot_fits(slot, busy_on, settings.user, query, load_after_move) for slot in own
    ):
        # no churn: the slots this meeting's pending draft offers stay while they fit
        return Proposal(duration_minutes=round(minutes), slots=own)
    slots = find_slots(busy_on, settings.user, query, load_after_move)
    if len(slots) >= 2:
        return Proposal(duration_minutes=round(minutes), slots=tuple(slots))
    if not shared_hours(settings.user, query):
        return message("why.reschedule_no_shared_hours", client=meeting.client.name)
    return message("why.reschedule_no_slots")


def _own_slots(key: str, scene: Scene, timezone: str) -> tuple[Slot, ...]:
    tz = ZoneInfo(timezone)
    own = sorted((h.start, h.end) for h in scene.holds if h.key == key)
    return tuple(Slot(start.astimezone(tz), end.astimezone(tz)) for start, end in own)


def offered_slots(decision: Decision) -> tuple[Slot, ...]:
    """The slots a draft for `decision` offers, and so holds: a reschedule's proposal."""
    if decision.action != Action.RESCHEDULE or decision.proposal is None:
        return ()
    return decision.proposal.slots


def proposal_for(action: Action, s: Scored, scene: Scene) -> tuple[Proposal | None, Message]:
    """The proposal when `action` fits the meeting, else None; and why (or why not)."""
    m, settings = s.meeting, scene.settings
    t = settings.thresholds
    minutes = m.event.duration.total_seconds() / 60
    if action == Action.DELEGATE:
        if m.colleagues and (m.user_optional or not m.user_is_organizer):
            who = m.colleagues[0]
            return Proposal(delegate_to=who.email), message(
                "why.delegate_fits", who=who.name or who.email
            )
        return None, message("why.delegate_no")
    if action == Action.CALL:
        if in_person(m):
            return Proposal(duration_minutes=round(minutes)), message("why.call_fits")
        return None, message("why.call_no")
    if action == Action.EMAIL:
        if m.client.tier == Tier.KEY:
            return None, message("why.email_key")
        if is_repeated(m, s.week_count, settings) and not s.score.agenda:
            return Proposal(), message("why.email_fits")
        return None, message("why.email_no")
    if action == Action.SHORTEN:
        if minutes > t.long_meeting_minutes:
            length = shorter_length(minutes, t.long_meeting_minutes)
            return Proposal(duration_minutes=length), message(
                "why.shorten_fits", minutes=round(minutes), length=length
            )
        return None, message("why.shorten_no", limit=t.long_meeting_minutes)
    if action == Action.RESCHEDULE:
        if not over_limits(m, scene.workload, settings):
            return None, message("why.reschedule_within")
        found = reschedule_slots(m, scene)
        if isinstance(found, Message):
            return None, found
        return found, message("why.reschedule_fits", count=len(found.slots))
    if action == Action.BOUNDARY:
        if m.client.chatty:
            # A box no shorter than booked adds nothing; 15 minutes or less gets the agenda only.
            return Proposal(duration_minutes=box_minutes(minutes)), message("why.boundary_fits")
        return None, message("why.boundary_no")
    return None, message("why.no_rule")


# an action's name inside a reason, in the user's language
_ACTION_WORDS = {
    Action.DELEGATE: "why.action_delegate",
    Action.CALL: "why.action_call",
    Action.EMAIL: "why.action_email",
    Action.SHORTEN: "why.action_shorten",
    Action.RESCHEDULE: "why.action_reschedule",
    Action.BOUNDARY: "why.action_boundary",
}


def decide_one(s: Scored, scene: Scene, goodwill_spent: bool) -> Decision:
    m, settings = s.meeting, scene.settings

    def decision(action: Action, why: Message, proposal: Proposal | None = None) -> Decision:
        fp = fingerprint(m, action) if action != Action.NONE else ""
        return Decision(action, s.score.total, s.score.factors, proposal, why, fp)

    def step(action: Action, reason: Message) -> Message:
        return message("why.step", action=message(_ACTION_WORDS[action]), reason=reason)

    if m.event.start <= scene.now:
        return decision(Action.NONE, message("why.past"))
    if s.score.total < settings.thresholds.act_at:
        return decision(
            Action.NONE,
            message("why.below_act_at", score=s.score.total, act_at=settings.thresholds.act_at),
        )
    notes: list[Message] = []
    for action in settings.scoring.order:
        if action in GOODWILL_ACTIONS and goodwill_spent:
            notes.append(step(action, message("why.goodwill_spent", client=m.client.name)))
            continue
        proposal, why = proposal_for(action, s, scene)
        if proposal is not None:
            chosen = Clauses((step(action, why), *notes))
            return decision(action, message("why.chosen", steps=chosen), proposal)
        notes.append(step(action, why))
    return decision(Action.NONE, message("why.nothing_fits", steps=Clauses(tuple(notes))))


def decide_all(scored: Sequence[Scored], scene: Scene) -> dict[str, Decision]:
    """One decision per meeting (by event id), the goodwill budget applied across them.

    Meetings compete for a client's budget by score, then by start: the first one to be
    asked spends it, and the client's other meetings get one of the remaining actions.
    In the same order, each reschedule's slots become held for the meetings decided after
    it, so no two proposals of one scan share a slot. Holds from earlier scans stay busy
    for the whole scan, even those about to end: a hold ends only once recorded.
    """
    asked = {client: set(keys) for client, keys in scene.asked.items()}
    out: dict[str, Decision] = {}
    for s in sorted(scored, key=lambda s: (-s.score.total, s.meeting.event.start)):
        key, client = s.meeting.event.draft_key, s.meeting.client.name
        spent = bool(asked.get(client, set()) - {key})
        decision = decide_one(s, scene, spent)
        if decision.action in GOODWILL_ACTIONS:
            asked.setdefault(client, set()).add(key)
        if decision.action == Action.RESCHEDULE and decision.proposal is not None:
            event = s.meeting.event
            chosen = tuple(
                HoldRecord(key, event.id, client, slot.start, slot.end)
                for slot in decision.proposal.slots
            )
            scene = replace(scene, chosen=scene.chosen + chosen)
        out[s.meeting.event.id] = decision
    return out
