"""What sending a draft wins back: the minutes a reply saves the user, per action."""

from __future__ import annotations

from calbot.core.model import Action, Decision, Event

# Moving a meeting saves no time; a call saves the trip, counted as half an hour each way; a
# time box saves what it cuts from the booking, and an agenda alone (a meeting of 15 minutes
# or less gets no box) the quarter hour a chatty meeting would have run over.
TRAVEL_MINUTES = 60
OVERRUN_MINUTES = 15


def saved_minutes(event: Event, decision: Decision) -> int:
    d = decision
    length = round(event.duration.total_seconds() / 60)
    proposed = d.proposal.duration_minutes if d.proposal and d.proposal.duration_minutes else 0
    if d.action in (Action.EMAIL, Action.DELEGATE):
        return length
    if d.action == Action.SHORTEN:
        return max(0, length - proposed)
    if d.action == Action.CALL:
        return TRAVEL_MINUTES
    if d.action == Action.BOUNDARY:
        return length - proposed if 0 < proposed < length else min(OVERRUN_MINUTES, length)
    return 0


def minutes_left(action: str, booked: int, saved: int) -> int | None:
    """What of a meeting's `booked` minutes stays on its day once its draft is accepted,
    read back from `saved` (what `saved_minutes` said the draft wins); None when the meeting
    leaves its day (written instead, handed over, or moved — a move lands elsewhere). A
    call saves the trip, not meeting time; an agenda alone (no box) leaves the booking whole."""
    if action in (Action.EMAIL, Action.DELEGATE, Action.RESCHEDULE):
        return None
    if action == Action.SHORTEN:
        return max(0, booked - saved)
    if action == Action.BOUNDARY and booked > OVERRUN_MINUTES:
        return max(0, booked - saved)
    return booked
