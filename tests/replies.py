"""Replies for the draft sinks' tests: a draft with the meeting and decision it answers.

The meeting is a two-hour "Acme roadmap review" on Tuesday 1 December 2026 (Berlin time),
at `hour`; the decision carries two reasons worth points and one worth none, and the reply
the reasons as the scan renders them for the user.
"""

from __future__ import annotations

from builders import event

from calbot.core.messages import Hours, message
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
    day_load = message("factor.day_load", day=ev.start.date(), hours=Hours(390), limit=Hours(240))
    decision = Decision(
        action,
        72,
        (
            Factor("day_load", 30, day_load),
            Factor("long_meeting", 15, message("factor.long_meeting", minutes=120, limit=60)),
            Factor("no_agenda", 0, message("factor.no_agenda")),
        ),
        why=message("why.step", action=action.value, reason=message("why.boundary_fits")),
    )
    return Meeting(ev, ACME, ev.attendees[1:], (), False, False), decision


# Reasons as a scan hands them to the sinks: rendered, strongest first, none worth nothing
# (`calbot.present.reasons.acting_reasons`).
REASONS = ("Tue has 6.5 h of meetings, limit 4 h", "2 h long, more than 60 min")


def reply(
    draft: Draft, message_id: str, *, hour: int = 10, action: Action = Action.SHORTEN
) -> Reply:
    """`draft` as the reply to the roadmap review at `hour`, decided `action`."""
    meeting, decision = roadmap(hour, action)
    return Reply(draft, meeting, decision, message_id, REASONS)
