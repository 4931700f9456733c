"""The review calendar (SPEC §6, opt-in): a private "calbot review" calendar beside the
user's own, with one event per drafted reply at the meeting's time, so every proposal shows
in the Calendar UI next to the meeting it is about — and nobody else sees it.

A `DraftSink` named "review_calendar". Each review event is:

- titled "✎ <action>: <meeting title>" ("✎ shorten: Acme roadmap review"), at the meeting's
  start and end (for a recurring series: the occurrence the draft answers);
- described with the reasons (the decision's factors, strongest first), the draft (To, Cc,
  Subject, body) and its private notes, labelled in `user.language`;
- private to the user: no attendees, `sendUpdates="none"` on every write, visibility
  "private", transparency "transparent" (never shown as busy, so calbot's own free/busy
  reading is not affected either), reminders off;
- tagged with private extended properties: `calbot_mid` (a hash of the draft's Message-ID,
  what `find` searches by) and `calbot_hash` (the hash of what calbot wrote).

**Meeting context.** `create`/`update` receive only a `Draft` and its Message-ID; the event
also needs the meeting's time, title, action and reasons. The service hands them over before
it syncs this sink: `set_context({message_id: (meeting, decision)})` for every desired draft
(domain types only, so the core imports nothing from here). A write without context is a
wiring bug and raises `MissingContext`.

**Content hash.** The event depends on more than the draft text (a meeting moved within its
day leaves a "shorten" draft unchanged, but the review event must move). So this sink's
content hash is `content_hash(draft, message_id)`: the hash of the whole event calbot would
write (title, description, start and end instants). The service must compare *that* — not
`draft_hash(draft)` — with the ledger's, or it would rewrite every event on every scan.

**Versions and edits.** A review event's version is its `etag`, which changes whenever the
user edits the event: calbot then never overwrites it (`user_edited`), and an event the user
deleted is `user_deleted`, like a Gmail draft. `find` reports `edited=True` when the event's
title, description or time no longer hash to the `calbot_hash` calbot stored.

**The calendar's id.** The scope `calendar.app.created` cannot list calendars, so a lost id
would mean a second "calbot review" calendar. The id lives in a file beside the token
(`<token folder>/review_calendar_id`, mode 0600: the source of truth) and in the state
store's meta (`review_calendar_id`, through the optional `load_id`/`save_id` callables). It
is read from the file first, then the store. The calendar is created (`calendars.insert`)
only by the first *write* — never by `observe` or `find`, so a dry run writes nothing, not
even the file — and both copies are brought up to date on the first write of each instance.
A calendar that answers 404 (the user deleted it) is created anew once, and the file and the
store are rewritten. A 404 on `observe` means every review event is gone with it (reported as
gone, like events the user deleted one by one). Only a crash between `calendars.insert` and
the file write can orphan a calendar.

An id that names one of the user's configured calendars, "primary" or the user's address is
refused (`ServiceError`): with `calendar.events` also granted, a bad id must never lead calbot
to write into a calendar that others can see.

Requests (all through `GoogleApi.call`):
- `observe`: one paged `events.list` (2500 a page, `fields=items(id,etag),nextPageToken`).
  No refs, or no calendar yet: no request.
- `find`: one `events.list` with `privateExtendedProperty=calbot_mid=<hash>`.
- `create`: `events.insert` (`sendUpdates=none`), after `calendars.insert` on first use.
- `update`: `events.get` (a deleted event is still readable, status "cancelled", and an
  update would bring it back), then `events.update` (`sendUpdates=none`); 404/410 or a
  cancelled event → `DraftGone`.
- `delete`: `events.delete` (`sendUpdates=none`); 404/410 is fine.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from calbot.adapters import files
from calbot.adapters.google.api import ApiError, GoogleApi
from calbot.core.headers import clean_header_text
from calbot.core.model import Decision, Draft, Meeting
from calbot.core.settings import Settings
from calbot.errors import ServiceError
from calbot.ports.sinks import DraftGone, Written

__all__ = [
    "CALENDAR_SUMMARY",
    "ID_FILE_NAME",
    "META_KEY",
    "MissingContext",
    "ReviewCalendar",
    "ReviewContext",
    "id_file_for",
]

CALENDAR_SUMMARY = "calbot review"
ID_FILE_NAME = "review_calendar_id"
META_KEY = "review_calendar_id"
PAGE_SIZE = 2500  # events.list's maximum
MAX_DESCRIPTION = 8000  # characters; Google truncates long descriptions
PROP_MID = "calbot_mid"
PROP_HASH = "calbot_hash"
_LIST_FIELDS = "items(id,etag,extendedProperties/private),nextPageToken"
_FIND_FIELDS = "items(id,etag,status,summary,description,start,end,extendedProperties)"
_WRITE_FIELDS = "id,etag"
_GONE = frozenset({404, 410})
_ID_SHAPE = re.compile(r"[^\s\x00-\x1f\x7f]{1,255}")

# Everything the review event says to the user, in `user.language`.
_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "why": "Why",
        "draft": "Draft reply — not sent, waiting for your review",
        "to": "To",
        "cc": "Cc",
        "subject": "Subject",
        "notes": "Private notes (only you see these)",
        "footer": "Only you see this calendar. calbot never sends anything.",
        "untitled": "(no title)",
        "calendar": (
            "calbot's proposals: one event per drafted reply, beside the meeting it is "
            "about. Only you see this calendar; calbot never sends anything."
        ),
    },
    "vi": {
        "why": "Lý do",
        "draft": "Bản nháp trả lời — chưa gửi, đang chờ bạn xem lại",
        "to": "Gửi tới",
        "cc": "Cc",
        "subject": "Tiêu đề",
        "notes": "Ghi chú riêng (chỉ bạn thấy)",
        "footer": "Chỉ bạn thấy lịch này. calbot không bao giờ tự gửi gì.",
        "untitled": "(không có tiêu đề)",
        "calendar": (
            "Đề xuất của calbot: mỗi bản nháp trả lời là một sự kiện, cạnh cuộc họp liên "
            "quan. Chỉ bạn thấy lịch này; calbot không bao giờ tự gửi gì."
        ),
    },
    "ms": {
        "why": "Sebab",
        "draft": "Draf balasan — belum dihantar, menunggu semakan anda",
        "to": "Kepada",
        "cc": "Sk",
        "subject": "Subjek",
        "notes": "Nota peribadi (hanya anda yang melihatnya)",
        "footer": "Hanya anda yang melihat kalendar ini. calbot tidak pernah menghantar apa-apa.",
        "untitled": "(tiada tajuk)",
        "calendar": (
            "Cadangan calbot: satu acara bagi setiap draf balasan, di sebelah mesyuarat "
            "berkaitan. Hanya anda yang melihat kalendar ini; calbot tidak pernah "
            "menghantar apa-apa."
        ),
    },
}


class MissingContext(RuntimeError):
    """A write for a Message-ID the service gave no meeting context for (a wiring bug)."""


@dataclass(frozen=True, slots=True)
class ReviewContext:
    """What the review event needs beyond the draft."""

    start: datetime
    end: datetime
    action: str
    title: str
    reasons: tuple[str, ...]  # human sentences, strongest first

    @classmethod
    def of(cls, meeting: Meeting, decision: Decision) -> ReviewContext:
        factors = sorted(
            (f for f in decision.factors if f.points > 0 and f.detail),
            key=lambda f: -f.points,
        )
        reasons = tuple(f.detail for f in factors) or ((decision.why,) if decision.why else ())
        event = meeting.event
        return cls(event.start, event.end, decision.action.value, event.summary, reasons)


def id_file_for(settings: Settings) -> Path:
    """Where the review calendar's id is kept: beside the token file."""
    return Path(settings.google.token_file).expanduser().parent / ID_FILE_NAME


class ReviewCalendar:
    """`DraftSink` keeping one private review event per draft on calbot's own calendar."""

    name = "review_calendar"

    def __init__(
        self,
        api: GoogleApi,
        settings: Settings,
        *,
        id_file: Path,
        load_id: Callable[[], str | None] | None = None,
        save_id: Callable[[str], None] | None = None,
    ) -> None:
        """`load_id`/`save_id`: the state store's copy of the id (`get_meta`/`put_meta` of
        `META_KEY`); `save_id` is called outside any transaction, so it opens its own."""
        self._api = api
        self._tz = settings.user.timezone
        self._labels = _LABELS.get(settings.user.language, _LABELS["en"])
        self._id_file = id_file
        self._load_id = load_id
        self._save_id = save_id
        self._forbidden = {
            "primary",
            settings.user.email.lower(),
            *(c.lower() for c in settings.source.calendars),
            *(c.lower() for c in settings.source.busy_calendars),
        }
        self._context: dict[str, ReviewContext] = {}
        self._calendar_id: str | None = None
        self._read = False  # the id was looked up (file, then store)
        self._gone = False  # the known calendar answered 404
        self._persisted = False  # file and store hold the id (checked on the first write)
        self.calendars_created = 0

    # -- context ---------------------------------------------------------------------------

    def set_context(self, items: Mapping[str, tuple[Meeting, Decision]]) -> None:
        """The meeting and decision behind each desired draft, by Message-ID. Replaces what
        was set before; call it before each sync."""
        self._context = {mid: ReviewContext.of(m, d) for mid, (m, d) in items.items()}

    def content_hash(self, draft: Draft, message_id: str) -> str:
        """The hash of the whole review event calbot would write for this draft: what the
        service must compare with the ledger's `content_hash` for this sink."""
        return _event_hash(self._body(draft, message_id))

    # -- DraftSink -------------------------------------------------------------------------

    def observe(self, refs: Sequence[str]) -> dict[str, str | None]:
        """Each event's etag, None for an event that is gone (or a calendar that is)."""
        if not refs:
            return {}
        cid = self._existing_id()
        if cid is None:
            return dict.fromkeys(refs)
        try:
            current = {event_id: etag for event_id, etag, _ in self._list_all(cid)}
        except ApiError as exc:
            if exc.status not in _GONE:
                raise
            self._gone = True
            return dict.fromkeys(refs)
        return {ref: current.get(ref) for ref in refs}

    def adoptable(self, known_refs: Collection[str], message_ids: Collection[str]) -> set[str]:
        """Every event on this calendar is calbot's and carries its Message-ID's hash: one
        paged list tells which new drafts already have an event the ledger does not know."""
        cid = self._existing_id() if message_ids else None
        if cid is None:
            return set()
        try:
            there = {mid for ref, _, mid in self._list_all(cid) if ref not in known_refs}
        except ApiError as exc:
            if exc.status not in _GONE:
                raise
            self._gone = True
            return set()
        return {m for m in message_ids if _mid_hash(m) in there}

    def find(self, message_id: str) -> Written | None:
        cid = self._existing_id()
        if cid is None:
            return None
        try:
            got = self._call(
                self._events().list(
                    calendarId=cid,
                    privateExtendedProperty=f"{PROP_MID}={_mid_hash(message_id)}",
                    maxResults=10,
                    fields=_FIND_FIELDS,
                ),
                "looking for a review event",
            )
        except ApiError as exc:
            if exc.status not in _GONE:
                raise
            self._gone = True
            return None
        for item in got.get("items") or ():
            ev = _dict(item)
            if ev.get("status") == "cancelled" or not ev.get("id"):
                continue
            props = _dict(_dict(ev.get("extendedProperties")).get("private"))
            stored = str(props.get(PROP_HASH) or "")
            return Written(
                ref=str(ev["id"]),
                version=str(ev.get("etag") or ""),
                content_hash=stored,
                edited=_event_hash(ev) != stored,
            )
        return None

    def create(self, draft: Draft, message_id: str) -> Written:
        """A new review event. Like a Gmail draft, not safe to repeat: after a failure that
        may hide an insert Google carried out, the event is looked up by its Message-ID's
        hash before any retry."""
        body = self._body(draft, message_id)

        def made_already() -> dict[str, Any] | None:
            found = self.find(message_id)
            return None if found is None else {"id": found.ref, "etag": found.version}

        for attempt in (1, 2):
            cid = self._ensure_calendar()
            try:
                got = _dict(
                    self._api.call(
                        self._events().insert(
                            calendarId=cid, sendUpdates="none", body=body, fields=_WRITE_FIELDS
                        ),
                        what="writing a review event",
                        recheck=made_already,
                    )
                )
            except ApiError as exc:
                if exc.status not in _GONE or attempt == 2:
                    raise
                self._gone = True  # the calendar itself is gone: make a new one, once
                continue
            return self._written(got, body)
        raise AssertionError("unreachable")  # pragma: no cover

    def update(self, ref: str, draft: Draft, message_id: str) -> Written:
        """Rewrite review event `ref`. Raises `DraftGone` when the user deleted it (or its
        calendar) since `observe`: never brought back."""
        body = self._body(draft, message_id)
        cid = self._existing_id()
        if cid is None:
            raise DraftGone(f"review event {ref}: no review calendar")
        self._persist(cid)
        try:
            now = self._call(
                self._events().get(calendarId=cid, eventId=ref, fields="id,status"),
                "reading a review event",
            )
            if now.get("status") == "cancelled":
                raise DraftGone(f"review event {ref} was deleted")
            got = self._call(
                self._events().update(
                    calendarId=cid,
                    eventId=ref,
                    sendUpdates="none",
                    body=body,
                    fields=_WRITE_FIELDS,
                ),
                "updating a review event",
            )
        except ApiError as exc:
            if exc.status in _GONE:
                raise DraftGone(f"review event {ref} is gone") from exc
            raise
        return self._written(got, body, ref)

    def delete(self, ref: str) -> None:
        cid = self._existing_id()
        if cid is None:
            return
        try:
            self._call(
                self._events().delete(calendarId=cid, eventId=ref, sendUpdates="none"),
                "removing a review event",
            )
        except ApiError as exc:
            if exc.status not in _GONE:  # already gone: what we wanted
                raise

    # -- the calendar's id -----------------------------------------------------------------

    @property
    def calendar_id(self) -> str | None:
        """The review calendar's id as known now (file, then store), None before it exists."""
        return self._existing_id()

    def _existing_id(self) -> str | None:
        if not self._read:  # a bad id raises here, and again on every later use
            found = _read_id_file(self._id_file)
            if found is None and self._load_id is not None:
                found = (self._load_id() or "").strip() or None
            if found is not None:
                self._check_id(found)
            self._calendar_id, self._read = found, True
        return None if self._gone else self._calendar_id

    def _check_id(self, cid: str) -> None:
        if not _ID_SHAPE.fullmatch(cid) or cid.lower() in self._forbidden:
            raise ServiceError(
                f"{self._id_file}: {cid[:80]!r} is not calbot's review calendar — delete the "
                "file (and keep the state store) to let calbot find or create its own"
            )

    def _ensure_calendar(self) -> str:
        cid = self._existing_id()
        if cid is None:
            return self._create_calendar()
        self._persist(cid)
        return cid

    def _create_calendar(self) -> str:
        body = {
            "summary": CALENDAR_SUMMARY,
            "description": self._labels["calendar"],
            "timeZone": self._tz,
        }
        got = self._call(
            self._api.calendar.calendars().insert(body=body, fields="id"),
            "creating the review calendar",
        )
        cid = str(got.get("id") or "")
        if not cid:
            raise ServiceError("Google answered calendars.insert without a calendar id")
        self.calendars_created += 1
        self._calendar_id, self._gone, self._persisted = cid, False, False
        self._persist(cid)
        return cid

    def _persist(self, cid: str) -> None:
        """Bring the file (the source of truth) and the store's copy up to date: on the
        first write of this instance, and after a new calendar was created."""
        if self._persisted:
            return
        if _read_id_file(self._id_file) != cid:
            _write_id_file(self._id_file, cid)
        if self._save_id is not None:
            current = self._load_id() if self._load_id is not None else None
            if current != cid:
                self._save_id(cid)
        self._persisted = True

    # -- internals -------------------------------------------------------------------------

    def _events(self) -> Any:
        return self._api.calendar.events()

    def _call(self, request: Any, what: str) -> dict[str, Any]:
        return _dict(self._api.call(request, what=what))

    def _list_all(self, cid: str) -> Iterator[tuple[str, str, str]]:
        """(event id, etag, the Message-ID hash it carries) of each event on the calendar."""
        token = ""
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {
                "calendarId": cid,
                "maxResults": PAGE_SIZE,
                "fields": _LIST_FIELDS,
            }
            if token:
                params["pageToken"] = token
            got = self._call(self._events().list(**params), "reading the review calendar")
            for item in got.get("items") or ():
                ev = _dict(item)
                if ev.get("id"):
                    props = _dict(_dict(ev.get("extendedProperties")).get("private"))
                    yield str(ev["id"]), str(ev.get("etag") or ""), str(props.get(PROP_MID) or "")
            token = str(got.get("nextPageToken") or "")
            if not token or token in seen:  # a repeated token would loop forever
                return
            seen.add(token)

    def _body(self, draft: Draft, message_id: str) -> dict[str, Any]:
        ctx = self._context.get(message_id)
        if ctx is None:
            raise MissingContext(
                f"review calendar: no meeting context for {message_id} "
                "(call set_context before syncing)"
            )
        tz = ZoneInfo(self._tz)
        title = clean_header_text(ctx.title) or self._labels["untitled"]
        body: dict[str, Any] = {
            "summary": clean_header_text(f"✎ {ctx.action}: {title}"),
            "description": self._description(ctx, draft),
            "start": {"dateTime": _iso(ctx.start.astimezone(tz)), "timeZone": self._tz},
            "end": {"dateTime": _iso(ctx.end.astimezone(tz)), "timeZone": self._tz},
            "visibility": "private",
            "transparency": "transparent",
            "reminders": {"useDefault": False, "overrides": []},
            "guestsCanInviteOthers": False,
            "guestsCanSeeOtherGuests": False,
            "extendedProperties": {"private": {PROP_MID: _mid_hash(message_id)}},
        }
        body["extendedProperties"]["private"][PROP_HASH] = _event_hash(body)
        return body

    def _description(self, ctx: ReviewContext, draft: Draft) -> str:
        lab = self._labels
        parts: list[str] = []
        if ctx.reasons:
            parts.append(
                f"{lab['why']}:\n"
                + "\n".join(f"- {clean_header_text(r, limit=None)}" for r in ctx.reasons)
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

    def _written(self, got: dict[str, Any], body: dict[str, Any], ref: str = "") -> Written:
        event_id = str(got.get("id") or ref)
        etag = str(got.get("etag") or "")
        if not event_id or not etag:
            raise ServiceError("Google answered a review event write without an id or etag")
        return Written(
            ref=event_id,
            version=etag,
            content_hash=str(body["extendedProperties"]["private"][PROP_HASH]),
        )


# --- helpers ---------------------------------------------------------------------------------


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _text(text: str) -> str:
    return text.replace("\r\n", "\n").strip("\n")


def _mid_hash(message_id: str) -> str:
    """What `find` searches by: a plain token, whatever characters the Message-ID holds."""
    return hashlib.sha256(message_id.strip().encode()).hexdigest()[:32]


def _instant(value: object) -> str:
    """An event time as a UTC instant ("" when unreadable): Google may hand back the same
    time written with another offset."""
    when = _dict(value).get("dateTime")
    if not isinstance(when, str):
        return str(_dict(value).get("date") or "")
    try:
        parsed = datetime.fromisoformat(when.replace("Z", "+00:00"))
    except ValueError:
        return when
    if parsed.tzinfo is None:
        return when
    return str(int(parsed.timestamp()))


def _event_hash(ev: Mapping[str, Any]) -> str:
    """The hash of what the user sees of a review event: title, description and time."""
    description = str(ev.get("description") or "").replace("\r\n", "\n").rstrip()
    parts = [
        str(ev.get("summary") or ""),
        description,
        _instant(ev.get("start")),
        _instant(ev.get("end")),
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def _read_id_file(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ServiceError(
            f"cannot read the review calendar's id from {path} ({type(exc).__name__}) — "
            "fix the file's permissions; calbot will not create a second calendar"
        ) from None
    return text or None


def _write_id_file(path: Path, cid: str) -> None:
    """Atomically replace `path` with the id, mode 0600 from the first byte."""
    files.write_private(path, (cid + "\n").encode("utf-8"))
