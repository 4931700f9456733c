"""What a scan looks like to the user: the `--json` result document, table rows, `explain`
text.

Pure functions of a `ScanResult`; the CLI decides where they go.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from calbot.core.messages import Say
from calbot.core.model import Action
from calbot.core.scan_result import Outcome, ScanResult
from calbot.core.untrusted import json_escaped, one_line
from calbot.core.vocab import DraftStatus
from calbot.present.meeting_ids import short_ids
from calbot.present.messages import remembering, say
from calbot.present.reasons import why_text


def json_text(doc: Any, *, pretty: bool) -> str:
    """`doc` as JSON for stdout, unsafe characters escaped and other non-ASCII kept as
    UTF-8. Indented for a reader at a terminal; compact otherwise, because only then does
    `json` use its C encoder (indent forces the pure-Python one: a fifth of a 10k scan)."""
    if pretty:
        return json_escaped(json.dumps(doc, ensure_ascii=False, indent=2))
    return json_escaped(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def meeting_doc(
    o: Outcome, ref_paths: Mapping[str, str], lang: str, words: Say = say
) -> dict[str, Any]:
    """One meeting of the `--json` document; `words` as in `why_text`."""
    e, d = o.meeting.event, o.decision
    proposal = None
    if d.proposal is not None:
        p = d.proposal
        proposal = {
            "duration_minutes": p.duration_minutes,
            "slots": [{"start": iso(s.start), "end": iso(s.end)} for s in p.slots],
            "delegate_to": p.delegate_to,
        }
    draft = None
    if o.draft is not None:
        draft = {
            "language": o.draft.language,
            "to": list(o.draft.to),
            "cc": list(o.draft.cc),
            "subject": o.draft.subject,
            "body": o.draft.body,
            "private_notes": o.draft.private_notes,
            "gmail_draft_id": o.refs.get("gmail"),
            "outbox_path": ref_paths.get(o.refs["outbox"]) if "outbox" in o.refs else None,
            "status": o.status or DraftStatus.NEW,
        }
    return {
        "event_id": e.id,
        "calendar_id": e.calendar_id,
        "summary": e.summary,
        "start": iso(e.start),
        "end": iso(e.end),
        "client": o.meeting.client.name,
        "score": d.score,
        "factors": [
            {"code": f.code, "points": f.points, "detail": words(f.detail, lang)} for f in d.factors
        ],
        "action": d.action.value,
        "why": why_text(d, lang, words),
        "proposal": proposal,
        "draft": draft,
    }


def result_doc(result: ScanResult, ref_paths: Mapping[str, str], lang: str) -> dict[str, Any]:
    """The `--json` document, its sentences in `lang`. `ref_paths` maps outbox refs to full
    paths."""
    words = remembering()  # a window's meetings say the same sentences many times over
    return {
        "generated_at": iso(result.generated_at),
        "window": {"from": iso(result.window.start), "to": iso(result.window.end)},
        "meetings": [meeting_doc(o, ref_paths, lang, words) for o in result.outcomes],
        "holds": [
            {"event_id": h.event_id, "client": h.client, "start": iso(h.start), "end": iso(h.end)}
            for h in result.holds
        ],
        "stats": {
            "events_seen": result.events_seen,
            "client_meetings": len(result.outcomes),
            "drafted": result.drafted,
            "pending": result.pending,
            "api_requests": result.api_requests,
            "deleted_drafts": result.deleted,
        },
        "warnings": result.warnings,
    }


def count_line(result: ScanResult) -> str:
    """The line under the scan table: the same counts as `--json`'s stats and holds."""
    held = f", {len(result.holds)} slots held" if result.holds else ""
    return (
        f"{len(result.outcomes)} client meetings, {result.pending} drafts waiting "
        f"({result.drafted} written this scan){held}; {result.events_seen} events read."
    )


def table_rows(result: ScanResult, tz: ZoneInfo) -> list[tuple[str, str, str, str, str, str, str]]:
    """(short id, when, client, meeting, score, action, draft status) per client meeting;
    the short id is what `calbot explain` takes."""
    ids = short_ids(result.outcomes)
    rows = []
    for o in result.outcomes:
        start = o.meeting.event.start.astimezone(tz)
        action = o.decision.action
        rows.append(
            (
                ids[o.meeting.event.id],
                f"{start:%a %d %b %H:%M}",
                one_line(o.meeting.client.name, 40),
                one_line(o.meeting.event.summary, 48),
                str(o.decision.score),
                "" if action == Action.NONE else action.value,
                o.status or "",
            )
        )
    return rows


def explain_text(o: Outcome, tz: ZoneInfo, ref_paths: Mapping[str, str], lang: str) -> str:
    """`calbot explain` for one meeting, its sentences in `lang`."""
    e, d = o.meeting.event, o.decision
    lines = [
        f"{one_line(e.summary)}  ({one_line(e.id)})",
        f"  when:    {e.start.astimezone(tz):%a %d %b %Y %H:%M}-{e.end.astimezone(tz):%H:%M}"
        f" ({tz.key})",
        f"  client:  {one_line(o.meeting.client.name)} (tier {o.meeting.client.tier.value}, "
        f"language {o.meeting.client.language})",
        f"  score:   {d.score}",
    ]
    for f in d.factors:
        lines.append(f"    {f.points:+4d}  {f.code:<22} {one_line(say(f.detail, lang))}")
    lines.append(f"  action:  {d.action.value}")
    why = why_text(d, lang)
    if why:
        lines.append(f"  why:     {one_line(why, 2000)}")
    if d.proposal and d.proposal.slots:
        for s in d.proposal.slots:
            lines.append(
                f"  slot:    {s.start.astimezone(tz):%a %d %b %H:%M}-{s.end.astimezone(tz):%H:%M}"
            )
    if d.proposal and d.proposal.duration_minutes and d.action == Action.SHORTEN:
        lines.append(f"  length:  {d.proposal.duration_minutes} min")
    if d.proposal and d.proposal.delegate_to:
        lines.append(f"  delegate to: {one_line(d.proposal.delegate_to)}")
    if o.draft is not None:
        path = ref_paths.get(o.refs.get("outbox", ""), "")
        where = f": {path}" if path else ""
        lines += [
            "",
            f"  draft ({o.draft.language}, {o.status or 'not written'}){one_line(where)}",
            f"  To: {one_line(', '.join(o.draft.to))}",
            f"  Subject: {one_line(o.draft.subject)}",
            "",
            *("    " + one_line(line, 2000) for line in o.draft.body.splitlines()),
        ]
        if o.draft.private_notes:
            lines += ["", "  private notes (only you see these):"]
            lines += ["    " + one_line(line, 2000) for line in o.draft.private_notes.splitlines()]
    return "\n".join(lines)
