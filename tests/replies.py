"""Replies for the draft sinks' tests: a draft with the meeting and decision it answers.

The meeting is a two-hour "Acme roadmap review" on Tuesday 1 December 2026 (Berlin time),
at `hour`; the decision carries two reasons worth points and one worth none.
"""

from __future__ import annotations

from builders import event

from calbot.core.model import Action, Client, Decision, Draft, Factor, Meeting
from calbot.ports.sinks import Reply

ACME = Client(name="Acme", domains=("acme.example",))


def roadmap(hour: int = 10, action: Action = Action.SHORTEN) -> tuple[Meeting, Decision]:
    ev = event(
        f"2026-12-01 {hour:02d}:00",
        120,
        id=f"evt-{hour}",
        calendar_id="cal",
        summary="Acme roadmap review",
    )
    decision = Decision(
        action,
        72,
        (
            Factor("day_load", 30, "Tue has 6.5 h of meetings, limit 4 h"),
            Factor("long_meeting", 15, "2 h long, more than 60 min"),
            Factor("no_focus", 0, "not counted"),
        ),
        why=f"{action.value}: fits",
    )
    return Meeting(ev, ACME, ev.attendees[1:], (), False, False), decision


def reply(
    draft: Draft, message_id: str, *, hour: int = 10, action: Action = Action.SHORTEN
) -> Reply:
    """`draft` as the reply to the roadmap review at `hour`, decided `action`."""
    meeting, decision = roadmap(hour, action)
    return Reply(draft, meeting, decision, message_id)
