"""What a review event says, as plain data: built from a `Reply` with the words it is given
in the user's language, and the hashes by which calbot recognises its own events and tells
an edit by the user.

The event depends on more than the draft text (a meeting moved within its day leaves a
"shorten" draft unchanged, but the review event must move), so its content hash covers the
whole event as the user sees it: title, description, start and end instants.

**Held slots.** A draft that offers slots (a reschedule) also gets one *hold event* per
slot: "✎ held for: <meeting>" at the slot's time, described like the review event (with a
line saying the time is kept free for it), private and free like it. A hold event carries
`calbot_hold` (the draft's Message-ID hash, which `find` does not search by) instead of
`calbot_mid`, and the review event then carries `calbot_content`, a hash over itself and its
holds, so a changed set of slots is a changed draft for the ledger. Without slots the
review event is exactly what it was before holds existed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from calbot.core.headers import clean_header_text
from calbot.core.model import Draft
from calbot.ports.sinks import Reply

MAX_DESCRIPTION = 8000  # characters; Google truncates long descriptions
PROP_MID = "calbot_mid"
PROP_HASH = "calbot_hash"
PROP_HOLD = "calbot_hold"  # on a hold event: the Message-ID hash of the draft it holds for
PROP_CONTENT = "calbot_content"  # on a review event with holds: the hash of them all
# The words a review event and the calendar's description use, given in the user's language.
LABELS = frozenset(
    {
        "why",
        "draft",
        "to",
        "cc",
        "subject",
        "notes",
        "footer",
        "untitled",
        "calendar",
        "held",
        "held_note",
    }
)


def event_body(reply: Reply, labels: Mapping[str, str], tz_name: str) -> dict[str, Any]:
    """The whole review event for `reply` (an `events.insert`/`update` body), its text
    labelled with `labels`, its times in the zone `tz_name`."""
    event = reply.meeting.event
    title = clean_header_text(event.summary) or labels["untitled"]
    body = _private_event(
        clean_header_text(f"✎ {reply.decision.action.value}: {title}"),
        _description(reply.reasons, reply.draft, labels),
        event.start,
        event.end,
        tz_name,
        {PROP_MID: mid_hash(reply.message_id)},
    )
    holds = hold_bodies(reply, labels, tz_name)
    if holds:
        hashes = [body["extendedProperties"]["private"][PROP_HASH]]
        hashes += [h["extendedProperties"]["private"][PROP_HASH] for h in holds]
        body["extendedProperties"]["private"][PROP_CONTENT] = _hash_of(hashes)
    return body


def hold_bodies(reply: Reply, labels: Mapping[str, str], tz_name: str) -> list[dict[str, Any]]:
    """One hold event per slot the reply's proposal offers, by start."""
    slots = reply.decision.proposal.slots if reply.decision.proposal else ()
    if not slots:
        return []
    title = clean_header_text(reply.meeting.event.summary) or labels["untitled"]
    description = _description(reply.reasons, reply.draft, labels, first=labels["held_note"])
    tag = {PROP_HOLD: mid_hash(reply.message_id)}
    return [
        _private_event(
            clean_header_text(f"✎ {labels['held']}: {title}"),
            description,
            slot.start,
            slot.end,
            tz_name,
            tag,
        )
        for slot in sorted(slots, key=lambda s: s.start)
    ]


def content_of(body: Mapping[str, Any]) -> str:
    """What the ledger keeps for a review event: the hash over it and its holds, or (no
    holds) its own."""
    props = body["extendedProperties"]["private"]
    return str(props.get(PROP_CONTENT) or props[PROP_HASH])


def _private_event(
    summary: str,
    description: str,
    start: datetime,
    end: datetime,
    tz_name: str,
    props: Mapping[str, str],
) -> dict[str, Any]:
    """An event only the user sees: no guests, private, free, no reminders; hashed."""
    tz = ZoneInfo(tz_name)
    body: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "start": {"dateTime": _iso(start.astimezone(tz)), "timeZone": tz_name},
        "end": {"dateTime": _iso(end.astimezone(tz)), "timeZone": tz_name},
        "visibility": "private",
        "transparency": "transparent",
        "reminders": {"useDefault": False, "overrides": []},
        "guestsCanInviteOthers": False,
        "guestsCanSeeOtherGuests": False,
        "extendedProperties": {"private": dict(props)},
    }
    body["extendedProperties"]["private"][PROP_HASH] = event_hash(body)
    return body


def _hash_of(parts: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps(list(parts)).encode()).hexdigest()


def mid_hash(message_id: str) -> str:
    """What `find` searches by: a plain token, whatever characters the Message-ID holds."""
    return hashlib.sha256(message_id.strip().encode()).hexdigest()[:32]


def event_hash(ev: Mapping[str, Any]) -> str:
    """The hash of what the user sees of a review event: title, description and time."""
    description = str(ev.get("description") or "").replace("\r\n", "\n").rstrip()
    parts = [
        str(ev.get("summary") or ""),
        description,
        _instant(ev.get("start")),
        _instant(ev.get("end")),
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def _description(
    reasons: Sequence[str], draft: Draft, lab: Mapping[str, str], *, first: str = ""
) -> str:
    parts: list[str] = [first] if first else []
    if reasons:
        parts.append(
            f"{lab['why']}:\n" + "\n".join(f"- {clean_header_text(r, limit=None)}" for r in reasons)
        )
    head = [f"{lab['to']}: {', '.join(draft.to)}"]
    if draft.cc:
        head.append(f"{lab['cc']}: {', '.join(draft.cc)}")
    head.append(f"{lab['subject']}: {clean_header_text(draft.subject, limit=None)}")
    parts.append(f"{lab['draft']}:\n" + "\n".join(head) + "\n\n" + _text(draft.body))
    if draft.private_notes.strip():
        parts.append(f"{lab['notes']}:\n{_text(draft.private_notes)}")
    footer = f"— {lab['footer']}"
    text = "\n\n".join(parts)
    room = MAX_DESCRIPTION - len(footer) - 3
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return f"{text}\n\n{footer}"


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _text(text: str) -> str:
    return text.replace("\r\n", "\n").strip("\n")


def _instant(value: object) -> str:
    """An event time as a UTC instant ("" when unreadable): Google may hand back the same
    time written with another offset."""
    got = value if isinstance(value, dict) else {}
    when = got.get("dateTime")
    if not isinstance(when, str):
        return str(got.get("date") or "")
    try:
        parsed = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return when
    if parsed.tzinfo is None:
        return when
    return str(int(parsed.timestamp()))
