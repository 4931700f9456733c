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
