"""English: every text calbot shows the user, by message code. The other languages'
tables hold only codes listed here; a code they lack is shown in English."""

from __future__ import annotations

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HOUR_UNIT = "h"

TEXT: dict[str, str] = {
    # a score's factors (`calbot explain`, `--json` "detail", private notes, notes, digest)
    "factor.day_load": "{day} has {hours} of meetings, limit {limit}",
    "factor.day_count": "{day} has {count} meetings, limit {limit}",
    "factor.week_load": "week {week} has {hours} of meetings, limit {limit}",
    "factor.no_focus_block": "no free block of {minutes} min left on {day} (longest {longest} min)",
    "factor.long_meeting": "{minutes} min long, over {limit} min",
    "factor.in_person": "in person at {place}: travel both ways",
    "factor.series": "a recurring meeting",
    "factor.repeated": "{count} meetings with {client} that week, limit {limit}",
    "factor.no_agenda": "no agenda in the invitation",
    "factor.optional": "you are marked optional",
    "factor.colleague": "{who} from your team attends too",
    "factor.chatty": "meetings with {client} tend to run over with small talk",
    "factor.outside_hours": "{day} {time} is outside your working hours",
    "factor.tier_key": "key client: protected, ×{weight:g}",
    "factor.tier_low": "low-priority client, ×{weight:g}",
    "factor.tier_other": "client tier, ×{weight:g}",
    "factor.capped": "{detail} (0-100)",
    # why a decision (`calbot explain`, `--json` "why"): the rules tried, in order
    "why.past": "already started or past",
    "why.below_act_at": "score {score} is below act_at {act_at}",
    "why.chosen": "{steps}",
    "why.nothing_fits": "nothing fits — {steps}",
    "why.step": "{action}: {reason}",
    "why.goodwill_spent": "{client} was already asked to move or drop a meeting",
    "why.delegate_fits": "{who} attends and can cover",
    "why.delegate_no": "no colleague attends, or you organize it and are not optional",
    "why.call_fits": "in person: a call saves the trip",
    "why.call_no": "not in person",
    "why.email_key": "key clients never get an e-mail instead of a meeting",
    "why.email_fits": "a repeated meeting without agenda: an update in writing will do",
    "why.email_no": "not a repeated meeting without agenda",
    "why.shorten_fits": "{minutes} min can be {length}",
    "why.shorten_no": "not longer than {limit} min",
    "why.reschedule_within": "the day and week are within their limits",
    "why.reschedule_no_slots": "too soon to move, or fewer than 2 free slots on lighter days",
    "why.reschedule_fits": "the day is over its limits; {count} lighter slots found",
    "why.boundary_fits": "a chatty client: set a time box",
    "why.boundary_no": "not a chatty client",
    "why.no_rule": "no rule",
    # a scan's warnings and the adapters' (stderr, `--json` "warnings", the run log, the
    # digest)
    "warn.no_draft": "{meeting}: no draft: {error}",
    "warn.nobody_to_write_to": "{meeting}: nobody to write to — no draft",
    "warn.not_written": "{meeting}: not written: {error}",
    "warn.item_skipped": "{calendar}: skipped {problem}",
    "warn.item_without_id": "skipped {item}: no id",
    "warn.calendar_not_found": "{calendar}: calendar not found or not shared with you — skipped",
    "warn.no_busy_times": "{calendar}: no busy times in Google's answer — not counted",
    "warn.busy_unavailable": "{calendar}: busy times unavailable ({reasons}) — not counted",
    "warn.note_skipped": "calendar note skipped for {event}: {problem} ({status})",
    "warn.note_clearing_skipped": (
        "calendar clearing the note skipped for {event}: {problem} ({status})"
    ),
    "warn.event_gone": "the event no longer exists",
    "warn.copy_not_yours": "not allowed to change this copy of the event",
    "warn.ics_skipped": "{calendar}: skipped {event}: {why}",
    "warn.ics_unreadable_lines": "{calendar}: {event}: ignored unreadable {lines} line(s)",
    "warn.ics_bad_value": "bad {name} value ({error})",
    "warn.ics_no_start": "no DTSTART",
    "warn.ics_not_a_date": "{name} is not a date or date-time",
    "warn.ics_not_a_duration": "DURATION is not a duration",
    "warn.ics_unusable_date": "unusable date ({error})",
    "warn.ics_cannot_expand": "cannot expand the recurrence ({error})",
    "warn.ics_bad_recurrence": "bad recurrence ({error})",
    "warn.ics_unusable_time": "unusable occurrence time ({error})",
    "warn.ends_before_start": "ends before it starts",
    # the first line of a draft's private notes
    "notes.why_line": "Why: {reasons} (score {score}/100, {action})",
    # the review calendar: its description and each review event's
    "review.why": "Why",
    "review.draft": "Draft reply — not sent, waiting for your review",
    "review.to": "To",
    "review.cc": "Cc",
    "review.subject": "Subject",
    "review.notes": "Private notes (only you see these)",
    "review.footer": "Only you see this calendar. calbot never sends anything.",
    "review.untitled": "(no title)",
    "review.calendar": (
        "calbot's proposals: one event per drafted reply, beside the meeting it is "
        "about. Only you see this calendar; calbot never sends anything."
    ),
}
