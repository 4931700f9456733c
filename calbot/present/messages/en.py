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
    # an action's name inside a reason (the JSON `why` keeps the action's value in English)
    "why.action_delegate": "delegate",
    "why.action_call": "call",
    "why.action_email": "email",
    "why.action_shorten": "shorten",
    "why.action_reschedule": "reschedule",
    "why.action_boundary": "boundary",
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
    "why.reschedule_no_slots": "fewer than 2 free slots on lighter days",
    "why.reschedule_too_soon": "it starts within the notice period ({notice})",
    "why.reschedule_no_shared_hours": (
        "your working hours and {client}'s do not overlap on any day searched"
    ),
    "why.reschedule_fits": "the day is over its limits; {count} lighter slots found",
    "why.boundary_fits": "a chatty client: set a time box",
    "why.boundary_no": "not a chatty client",
    "why.no_rule": "no rule",
    # a scan's warnings and the adapters' (stderr, `--json` "warnings", the run log, the
    # digest)
    "warn.no_draft": "{meeting}: no draft: {error}",
    "warn.testing_expiry": "Google will expire calbot's access on {when} (OAuth app in Testing "
    "status: refresh tokens last 7 days) — run `calbot auth` again, or publish the app",
    "warn.ics_outputs": 'Gmail drafts and calendar notes need source.kind = "google"; '
    "with an ICS calendar the drafts go to the outbox only",
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
    "warn.note_refused": "Google refused the change; tried again at the next scan",
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
    "warn.ics_too_many_occurrences": (
        "{calendar}: {event} repeats more than {limit} times in the scanned days; "
        "only the first {limit} were read"
    ),
    "warn.ends_before_start": "ends before it starts",
    "warn.event_unusable_times": "skipped {event}: its times cannot be used ({problem})",
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
    "review.held": "held for",
    "review.held_note": (
        "This time is offered in the draft below and kept free for it: calbot offers it "
        "to no one else."
    ),
    "review.calendar": (
        "calbot's proposals: one event per drafted reply, beside the meeting it is "
        "about. Only you see this calendar; calbot never sends anything."
    ),
    # the morning digest (`calbot digest`, its e-mail and HTML)
    "digest.title": "calbot — morning review, {day}",
    "digest.since": "since the last digest, {when}",
    "digest.new_since": "Drafted since the last digest ({n})",
    "digest.new_first": "Drafts waiting for your review ({n})",
    "digest.waiting": "Still waiting for your review ({n})",
    "digest.older": "{n} older drafts still wait for review — `calbot digest --all` lists them",
    "digest.older_one": "1 older draft still waits for review — `calbot digest --all` lists it",
    "digest.nothing_new": "Nothing new drafted since the last digest.",
    "digest.nothing_pending": "No drafts wait for your review.",
    "digest.edited": "you edited this draft — calbot leaves it alone",
    "digest.gone": "You deleted or sent ({n})",
    "digest.chart": "Meetings per day, the next two weeks (limit {limit} a day)",
    "digest.chart_key": (
        "after: once every draft is sent and accepted (a moved meeting counts on its "
        "first offered slot)"
    ),
    "digest.after": "after",
    "digest.calls": "A call saves the trip, not meeting time: its day stays as it is.",
    "digest.holds": "kept free",
    "digest.held": (
        "{n} offered slots are kept free for your drafts: calbot offers them to no one else."
    ),
    "digest.held_one": (
        "1 offered slot is kept free for your drafts: calbot offers it to no one else."
    ),
    "digest.over": "over",
    "digest.today": "today",
    "digest.meetings": "{n} meetings",
    "digest.meetings_one": "1 meeting",
    "digest.win_this": "If you send every draft, you win back {hours} this week",
    "digest.win_next": "and {hours} next week",
    "digest.win_only_next": "If you send every draft, you win back {hours} next week",
    "digest.saves": "saves {hours}",
    "digest.trouble": "Trouble since the last digest",
    "digest.trouble_first": "Trouble in the last 24 hours",
    "digest.no_trouble": "No trouble: all {n} scans went fine.",
    "digest.no_trouble_one": "No trouble: the scan went fine.",
    "digest.fix": "fix",
    "digest.times": "{n} times, last at {when}",
    "digest.at": "at {when}",
    "digest.last_scan": "Last good scan: {when}",
    "digest.event": "event",
    "digest.sink_gmail": "Gmail draft",
    "digest.sink_outbox": "file",
    "digest.status_new": "new",
    "digest.status_updated": "updated",
    "digest.status_sent": "sent",
    "digest.sink_imap": "IMAP draft",
    "digest.action_delegate": "delegate",
    "digest.action_call": "call instead",
    "digest.action_email": "e-mail instead",
    "digest.action_shorten": "shorten",
    "digest.action_reschedule": "reschedule",
    "digest.action_boundary": "time box",
    "digest.trouble_failed": "a scan failed",
    "digest.trouble_auth": "Google access expired or was revoked",
    "digest.trouble_auth_caldav": "the CalDAV server refused calbot's password",
    "digest.trouble_auth_imap": "the IMAP server refused calbot's password",
    "digest.trouble_google_down": "Google was unreachable or failing",
    "digest.trouble_locked": "another calbot held the state store, so a scan was skipped",
    "digest.trouble_warning": "warning",
    "digest.trouble_expiry": "Google access ends soon",
    "digest.trouble_access_check": "the token file could not be read to check when access ends",
    "digest.trouble_stale": "no scan has run since {when}",
    "digest.trouble_delivery": "the digest could not be left in Gmail",
    "digest.fix_failed": "see the log, or run `calbot scan` to see the error",
    "digest.fix_auth": "run `calbot auth`",
    "digest.fix_auth_caldav": "check the CalDAV password (caldav.password_file or"
    " $CALBOT_CALDAV_PASSWORD)",
    "digest.fix_auth_imap": "check the IMAP password ([imap] password_file or"
    " $CALBOT_IMAP_PASSWORD)",
    "digest.fix_google_down": "nothing to do: calbot retries by itself at the next scan",
    "digest.fix_locked": "nothing to do if it happened once; if it keeps happening, look for a"
    " stuck calbot process",
    "digest.fix_expiry": "run `calbot auth` again, or publish the app",
    "digest.fix_warning": "calbot skipped it; check it in your calendar if it matters",
    "digest.fix_access_check": "run `calbot doctor`",
    "digest.fix_stale": "start the worker (`calbot run` or its systemd unit), or run `calbot scan`",
    "digest.fix_delivery": "calbot tries Gmail again with the next digest",
    "digest.fix_team": "your calbot administrator sees the cause and its fix in"
    " `calbot team status`",
    "digest.subject": "calbot: {n} replies to review — {day}",
    "digest.subject_one": "calbot: 1 reply to review — {day}",
    "digest.subject_none": "calbot: nothing to review — {day}",
    "digest.saved_html": "Digest saved as {path}",
    "digest.saved_gmail": "Left in your Gmail drafts: {subject}",
    "digest.updated_gmail": "Updated in your Gmail drafts: {subject}",
    "digest.edited_gmail": "You edited today's digest in Gmail, so calbot left it as it is",
    "digest.saved_outbox": "Digest written to the outbox: {path}",
}
