"""The review calendar (opt-in): a private "calbot review" calendar beside the
user's own, with one event per drafted reply at the meeting's time, so every proposal shows
in the Calendar UI next to the meeting it is about — and nobody else sees it.

A `DraftSink` of kind `REVIEW`, named "review_calendar". Each review event is:

- titled "✎ <action>: <meeting title>" ("✎ shorten: Acme roadmap review"), at the meeting's
  start and end (for a recurring series: the occurrence the draft answers);
- described with the reasons (the decision's factors, strongest first, as the `Reply`
  brings them), the draft (To, Cc, Subject, body) and its private notes, labelled with the
  words it is given in `user.language`;
- private to the user: no attendees, `sendUpdates="none"` on every write, visibility
  "private", transparency "transparent" (never shown as busy, so calbot's own free/busy
  reading is not affected either), reminders off;
- tagged with private extended properties: `calbot_mid` (a hash of the draft's Message-ID,
  what `find` searches by) and `calbot_hash` (the hash of what calbot wrote).

**What it writes.** `create`/`update` receive a `Reply`: the draft with the meeting and the
decision it answers, which give the event its time, title, action and reasons. The event is
built, and hashed, in `calbot.adapters.google.review_event`; this sink's `content_hash` is
that of the whole event, and that is what the ledger keeps for it.

**Held slots.** Each slot the decision offers (`decision.proposal.slots`) gets a hold
event, written and removed with the review event: `create` and `update` first bring the
draft's holds in line (`_sync_holds`), then write the review event, so a failure in between
leaves a review event whose stored hash still asks for the next scan's retry. `update`
lists the holds only when the new reply has slots or the old event had holds
(`calbot_content`); `delete` reads the event's properties first to find its holds.

**Versions and edits.** A review event's version is its `etag`, which changes whenever the
user edits the event: calbot then never overwrites it (`user_edited`), and an event the user
deleted is `user_deleted`, like a Gmail draft. `find` reports `edited=True` when the event's
title, description or time no longer hash to the `calbot_hash` calbot stored.

**The calendar's id** is kept by a `ReviewIdKeeper` (a file beside the token; in team mode
the user's PostgreSQL row) and in the state store; the calendar is made only by the first
write (see `calbot.adapters.google.review_id`). A 404 on `observe` means every review event
is gone with the calendar (reported as gone, like events the user deleted one by one).

Requests (all through `GoogleApi.call`):
- `observe`: one paged `events.list` (2500 a page, only ids, etags and calbot's properties).
  No refs, or no calendar yet: no request.
- `adoptable`: the same paged `events.list`; no calendar yet: no request.
- `find`: one `events.list` with `privateExtendedProperty=calbot_mid=<hash>`.
- `create`: `events.insert` (`sendUpdates=none`), after `calendars.insert` on first use.
- `update`: `events.get` (a deleted event is still readable, status "cancelled", and an
  update would bring it back), then `events.update`; 404/410 or cancelled → `DraftGone`.
- `delete`: `events.get` (its holds?), then `events.delete` of its holds and of it.
- holds: one `events.list` by `calbot_hold`, then `events.update` per moved slot, `insert`
  per new one, `delete` per dropped one, nothing for a slot that stayed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

from calbot.adapters.google.api import ApiError, GoogleApi
from calbot.adapters.google.review_event import (
    LABELS,
    PROP_CONTENT,
    PROP_HASH,
    PROP_HOLD,
    PROP_MID,
    content_of,
    event_body,
    event_hash,
    hold_bodies,
    mid_hash,
)
from calbot.adapters.google.review_id import ReviewCalendarId
from calbot.config.settings import Settings
from calbot.core.messages import Message
from calbot.errors import ServiceError
from calbot.ports.review_id import ReviewIdKeeper
from calbot.ports.sinks import DraftGone, Reply, SinkKind, Written

PAGE_SIZE = 2500  # events.list's maximum
_LIST_FIELDS = "items(id,etag,extendedProperties/private),nextPageToken"
_FIND_FIELDS = "items(id,etag,status,summary,description,start,end,extendedProperties)"
_WRITE_FIELDS = "id,etag"
_HOLD_FIELDS = "items(id,status,start,extendedProperties/private)"
MAX_HOLDS = 250  # one page of a draft's hold events (it offers two or three)
_GONE = frozenset({404, 410})


class ReviewCalendar:
    """`DraftSink` keeping one private review event per draft on calbot's own calendar."""

    name = "review_calendar"
    kind = SinkKind.REVIEW
    tells_sent = False  # a draft gone from it may have been sent

    def __init__(
        self,
        api: GoogleApi,
        settings: Settings,
        *,
        labels: Mapping[str, str],
        keeper: ReviewIdKeeper,
        load_id: Callable[[], str | None] | None = None,
        save_id: Callable[[str], None] | None = None,
    ) -> None:
        """`labels`: the fixed words of the events and the calendar, in `user.language`
        (`LABELS` names them; the use case renders them from the message catalogue).
        `keeper`: where the calendar's id is kept (`review_id.IdFile` for a single user).
        `load_id`/`save_id`: the state store's copy of the id (`get_meta`/`put_meta` of
        `review_id.META_KEY`); `save_id` is called outside any transaction, so it opens its
        own."""
        missing = LABELS - labels.keys()
        if missing:
            raise ValueError(f"review calendar labels missing: {', '.join(sorted(missing))}")
        self._api = api
        self._tz = settings.user.timezone
        self._labels = dict(labels)
        self._ids = ReviewCalendarId(
            api,
            settings,
            keeper=keeper,
            description=self._labels["calendar"],
            load_id=load_id,
            save_id=save_id,
        )
        self.warnings: list[Message] = []

    # -- DraftSink -------------------------------------------------------------------------

    def content_hash(self, reply: Reply) -> str:
        """The hash of the whole review event calbot would write for `reply`."""
        return content_of(self._body(reply))

    def observe(self, refs: Sequence[str]) -> dict[str, str | None]:
        """Each event's etag, None for an event that is gone (or a calendar that is)."""
        if not refs:
            return {}
        cid = self._ids.known()
        if cid is None:
            return dict.fromkeys(refs)
        try:
            current = {event_id: etag for event_id, etag, _ in self._list_all(cid)}
        except ApiError as exc:
            if exc.status not in _GONE:
                raise
            self._ids.gone()
            return dict.fromkeys(refs)
        return {ref: current.get(ref) for ref in refs}

    def adoptable(self, known_refs: Collection[str], message_ids: Collection[str]) -> set[str]:
        """Every event on this calendar is calbot's and carries its Message-ID's hash: one
        paged list tells which new drafts already have an event the ledger does not know."""
        cid = self._ids.known() if message_ids else None
        if cid is None:
            return set()
        try:
            there = {mid for ref, _, mid in self._list_all(cid) if ref not in known_refs}
        except ApiError as exc:
            if exc.status not in _GONE:
                raise
            self._ids.gone()
            return set()
        return {m for m in message_ids if mid_hash(m) in there}

    def find(self, message_id: str) -> Written | None:
        cid = self._ids.known()
        if cid is None:
            return None
        try:
            got = self._call(
                self._events().list(
                    calendarId=cid,
                    privateExtendedProperty=f"{PROP_MID}={mid_hash(message_id)}",
                    maxResults=10,
                    fields=_FIND_FIELDS,
                ),
                "looking for a review event",
            )
        except ApiError as exc:
            if exc.status not in _GONE:
                raise
            self._ids.gone()
            return None
        for item in got.get("items") or ():
            ev = _dict(item)
            if ev.get("status") == "cancelled" or not ev.get("id"):
                continue
            props = _props(ev)
            stored = str(props.get(PROP_HASH) or "")
            return Written(
                ref=str(ev["id"]),
                version=str(ev.get("etag") or ""),
                content_hash=str(props.get(PROP_CONTENT) or stored),
                edited=event_hash(ev) != stored,
            )
        return None

    def create(self, reply: Reply) -> Written:
        """A new review event. Like a Gmail draft, not safe to repeat: after a failure that
        may hide an insert Google carried out, the event is looked up by its Message-ID's
        hash before any retry."""
        body = self._body(reply)
        holds = self._holds(reply)

        def made_already() -> dict[str, Any] | None:
            found = self.find(reply.message_id)
            return None if found is None else {"id": found.ref, "etag": found.version}

        for attempt in (1, 2):
            cid = self._ids.for_writing()
            try:
                if holds:
                    self._sync_holds(cid, mid_hash(reply.message_id), holds)
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
                self._ids.gone()  # the calendar itself is gone: make a new one, once
                continue
            return self._written(got, body)
        raise AssertionError("unreachable")  # pragma: no cover

    def update(self, ref: str, reply: Reply) -> Written:
        """Rewrite review event `ref`. Raises `DraftGone` when the user deleted it (or its
        calendar) since `observe`: never brought back."""
        body = self._body(reply)
        cid = self._ids.known()
        if cid is None:
            raise DraftGone(f"review event {ref}: no review calendar")
        self._ids.persist(cid)
        try:
            now = self._call(
                self._events().get(
                    calendarId=cid, eventId=ref, fields="id,status,extendedProperties/private"
                ),
                "reading a review event",
            )
            had_holds = bool(_props(now).get(PROP_CONTENT))
            holds = self._holds(reply)
            mid = mid_hash(reply.message_id)
            if now.get("status") == "cancelled":
                if had_holds:  # the user deleted the review event: its holds go with it
                    self._sync_holds(cid, mid, [])
                raise DraftGone(f"review event {ref} was deleted")
            if holds or had_holds:
                self._sync_holds(cid, mid, holds)
            got = self._put(cid, body, "updating a review event", ref)
        except ApiError as exc:
            if exc.status in _GONE:
                raise DraftGone(f"review event {ref} is gone") from exc
            raise
        return self._written(got, body, ref)

    def delete(self, ref: str) -> None:
        cid = self._ids.known()
        if cid is None:
            return
        try:
            ev = self._call(
                self._events().get(
                    calendarId=cid, eventId=ref, fields="extendedProperties/private"
                ),
                "reading a review event",
            )
        except ApiError as exc:
            if exc.status not in _GONE:
                raise
            ev = {}
        props = _props(ev)
        if props.get(PROP_CONTENT) and props.get(PROP_MID):
            self._sync_holds(cid, str(props[PROP_MID]), [])
        self._delete_event(cid, ref, "removing a review event")

    def path_of(self, ref: str) -> None:
        return None  # review events live on Google's side, not in local files

    def sent(self, refs: Sequence[str]) -> set[str]:
        return set()  # it cannot tell a sent draft from a deleted one

    # -- the calendar's id -----------------------------------------------------------------

    @property
    def calendar_id(self) -> str | None:
        """The review calendar's id as known now (keeper, then store), None before it exists."""
        return self._ids.known()

    # -- internals -------------------------------------------------------------------------

    def _events(self) -> Any:
        return self._api.events()

    def _call(self, request: Any, what: str) -> dict[str, Any]:
        return _dict(self._api.call(request, what=what))

    def _list_all(self, cid: str) -> Iterator[tuple[str, str, str]]:
        """(event id, etag, the Message-ID hash it carries) of each event on the calendar."""
        token = ""
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"calendarId": cid, "maxResults": PAGE_SIZE}
            params["fields"] = _LIST_FIELDS
            if token:
                params["pageToken"] = token
            got = self._call(self._events().list(**params), "reading the review calendar")
            for item in got.get("items") or ():
                ev = _dict(item)
                if ev.get("id"):
                    mid = str(_props(ev).get(PROP_MID) or "")
                    yield str(ev["id"]), str(ev.get("etag") or ""), mid
            token = str(got.get("nextPageToken") or "")
            if not token or token in seen:  # a repeated token would loop forever
                return
            seen.add(token)

    def _body(self, reply: Reply) -> dict[str, Any]:
        return event_body(reply, self._labels, self._tz)

    def _holds(self, reply: Reply) -> list[dict[str, Any]]:
        return hold_bodies(reply, self._labels, self._tz)

    def _put(self, cid: str, body: dict[str, Any], what: str, ref: str = "") -> dict[str, Any]:
        """Write `body` as event `ref` (update), or as a new event (insert) without one."""
        kw: dict[str, Any] = {"calendarId": cid, "sendUpdates": "none", "body": body}
        if ref:
            return self._call(self._events().update(eventId=ref, fields=_WRITE_FIELDS, **kw), what)
        return self._call(self._events().insert(fields=_WRITE_FIELDS, **kw), what)

    def _delete_event(self, cid: str, ref: str, what: str) -> None:
        try:
            self._call(self._events().delete(calendarId=cid, eventId=ref, sendUpdates="none"), what)
        except ApiError as exc:
            if exc.status not in _GONE:  # already gone: what we wanted
                raise

    def _sync_holds(self, cid: str, mid: str, wanted: Sequence[dict[str, Any]]) -> None:
        """Bring the hold events tagged `mid` in line with `wanted` (by start): a hold that
        is already as wanted stays untouched, others are moved (updated) before any is
        inserted, and the surplus is deleted — duplicates left by a retried insert too."""
        got = self._call(
            self._events().list(
                calendarId=cid,
                privateExtendedProperty=f"{PROP_HOLD}={mid}",
                maxResults=MAX_HOLDS,
                fields=_HOLD_FIELDS,
            ),
            "reading the held slots",
        )
        there = [
            ev
            for ev in map(_dict, got.get("items") or ())
            if ev.get("id") and ev.get("status") != "cancelled"
        ]
        todo = []
        for body in wanted:
            same = next(
                (ev for ev in there if _props(ev).get(PROP_HASH) == _props(body)[PROP_HASH]), None
            )
            if same is None:
                todo.append(body)
            else:
                there.remove(same)
        for body in todo:
            if there:
                self._put(cid, body, "moving a held slot", str(there.pop(0)["id"]))
            else:
                self._put(cid, body, "holding a slot")
        for ev in there:
            self._delete_event(cid, str(ev["id"]), "releasing a held slot")

    def _written(self, got: dict[str, Any], body: dict[str, Any], ref: str = "") -> Written:
        event_id = str(got.get("id") or ref)
        etag = str(got.get("etag") or "")
        if not event_id or not etag:
            raise ServiceError("Google answered a review event write without an id or etag")
        return Written(ref=event_id, version=etag, content_hash=content_of(body))


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _props(ev: dict[str, Any]) -> dict[str, Any]:
    """An event's private extended properties."""
    return _dict(_dict(ev.get("extendedProperties")).get("private"))
