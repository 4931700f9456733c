"""The fake Calendar v3: calendars, events (full and incremental sync, instances), patch,
freeBusy and calendarList. Mixed into FakeGoogle; all methods run under its lock."""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import discovery
from .errors import ApiError
from .timeutil import bounds, expand, make_instance, occurs_at, parse_rfc3339, rfc3339, ruleset

Query = dict[str, list[str]]

FORBIDDEN_WITH_SYNC = (
    "timeMin",
    "timeMax",
    "orderBy",
    "q",
    "iCalUID",
    "updatedMin",
    "privateExtendedProperty",
    "sharedExtendedProperty",
)
READ_ONLY = ("kind", "etag", "id", "htmlLink", "created", "updated", "iCalUID", "creator")
PATCHABLE = frozenset({"extendedProperties", "colorId"})
FREEBUSY_MAX_ITEMS = 50
FREEBUSY_MAX_DAYS = 90
# Page tokens answered, the oldest forgotten first: each holds its listing's copy of the
# events, so a server that kept them all would grow with every full sync (and its garbage
# collections slow a benchmark's every request down).
PAGES_KEPT = 64


@dataclass
class Cal:
    key: str
    summary: str
    access_role: str
    time_zone: str = "UTC"
    app_created: bool = False
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    ghosts: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    generation: int = 0


@dataclass(frozen=True)
class SyncState:
    cal: str
    seq: int
    single: bool
    generation: int
    lo: datetime | None
    hi: datetime | None


@dataclass
class Page:
    cal: str
    items: list[dict[str, Any]]
    offset: int
    sync_token: str | None
    extra: dict[str, Any]


def q1(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def qbool(query: Query, name: str) -> bool:
    return (q1(query, name) or "false").lower() == "true"


def stub(ev: dict[str, Any]) -> dict[str, Any]:
    out = {"kind": "calendar#event", "etag": ev.get("etag", '"0"'), "id": ev["id"]}
    out["status"] = "cancelled"
    for key in ("recurringEventId", "originalStartTime"):
        if key in ev:
            out[key] = copy.deepcopy(ev[key])
    return out


class CalendarMixin:
    # provided by FakeGoogle
    _lock: threading.RLock
    user_email: str
    now: datetime | None
    violation: Callable[[str], None]
    _met: threading.local  # .fault: the scripted fault the current request met

    def _calendar_init(self) -> None:
        self._cals: dict[str, Cal] = {"primary": Cal("primary", "", "owner")}
        self._seq = 0
        self._ids = itertools.count(1)
        self._tokens = itertools.count(1)
        self._sync_tokens: dict[str, SyncState] = {}
        self._pages: dict[str, Page] = {}
        self._last_updated = datetime(2000, 1, 1, tzinfo=UTC)
        self._vanish = 0  # events.patch requests whose event is deleted as they arrive
        self.vanished: list[tuple[str, str]] = []  # (calendar key, event id) deleted so far

    def vanish_on_patch(self, times: int = 1) -> None:
        """The event of each of the next `times` events.patch requests is deleted by its
        organizer just before the patch lands: the patch answers 404 notFound (and so does
        any later patch of it), the event comes back cancelled to the next incremental
        sync."""
        with self._lock:
            self._vanish += times

    # --- helpers ----------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)

    def _stamp(self) -> str:
        t = max(datetime.now(UTC), self._last_updated + timedelta(milliseconds=1))
        self._last_updated = t
        return rfc3339(t)

    def _cal(self, calendar_id: str) -> Cal:
        key = "primary" if calendar_id in ("primary", self.user_email) else calendar_id
        cal = self._cals.get(key)
        if cal is None:
            raise ApiError(404, "notFound", "Not Found")
        return cal

    def _public_id(self, cal: Cal) -> str:
        return self.user_email if cal.key == "primary" else cal.key

    def _touch(self, cal: Cal, ev: dict[str, Any], *, sequence: bool = False) -> None:
        self._seq += 1
        ev["updated"] = self._stamp()
        ev["etag"] = f'"{3_000_000_000_000_000 + self._seq}"'
        if sequence:
            ev["sequence"] = ev.get("sequence", 0) + 1
        cal.changed[ev["id"]] = self._seq

    def _lookup(self, cal: Cal, event_id: str, *, store: bool) -> dict[str, Any]:
        """A stored event, or an instance generated from its master (stored as an exception
        when `store`)."""
        if event_id in cal.events:
            return cal.events[event_id]
        master_id, _, stamp = event_id.rpartition("_")
        master = cal.events.get(master_id)
        if master and master.get("recurrence"):
            original = occurs_at(master, stamp)
            if original is not None:
                inst = make_instance(master, original, "date" in master["start"])
                if store:
                    cal.events[inst["id"]] = inst
                return inst
        raise ApiError(404, "notFound", "Not Found")

    def _exceptions(self, cal: Cal) -> dict[str, list[dict[str, Any]]]:
        index: dict[str, list[dict[str, Any]]] = {}
        for ev in cal.events.values():
            if ev.get("recurringEventId"):
                index.setdefault(ev["recurringEventId"], []).append(ev)
        return index

    def _instances(
        self,
        cal: Cal,
        master: dict[str, Any],
        excs: list[dict[str, Any]],
        lo: datetime | None,
        hi: datetime | None,
    ) -> list[dict[str, Any]]:
        found = {i["id"]: i for i in expand(master, cal.time_zone, lo, hi, self._now())}
        for exc in excs:
            found[exc["id"]] = exc
        return list(found.values())

    # --- test-side API ----------------------------------------------------------------

    def add_calendar(
        self,
        calendar_id: str,
        summary: str = "",
        access_role: str = "owner",
        *,
        time_zone: str = "UTC",
        app_created: bool = False,
    ) -> None:
        with self._lock:
            self._cals[calendar_id] = Cal(
                calendar_id, summary or calendar_id, access_role, time_zone, app_created
            )

    def set_time_zone(self, calendar_id: str, time_zone: str) -> None:
        with self._lock:
            self._cal(calendar_id).time_zone = time_zone

    def add_event(self, calendar_id: str = "primary", **fields: Any) -> dict[str, Any]:
        unknown = set(fields) - discovery.schema_properties("calendar", "Event")
        if unknown:
            raise ValueError(f"not Event fields (Google's JSON names): {sorted(unknown)}")
        errors = discovery.shape_errors("calendar", "Event", fields, "event")
        if errors:
            raise ValueError("; ".join(errors))
        if "start" not in fields:
            raise ValueError("an event needs start (and end)")
        with self._lock:
            cal = self._cal(calendar_id)
            eid = fields.pop("id", None) or f"evt{next(self._ids):05d}"
            if eid in cal.events:
                raise ValueError(f"event {eid} exists")
            owner = self._public_id(cal)
            ev: dict[str, Any] = {
                "kind": "calendar#event",
                "id": eid,
                "status": "confirmed",
                "htmlLink": f"https://www.google.com/calendar/event?eid={eid}",
                "created": self._stamp(),
                "summary": "",
                "creator": {"email": owner, **({"self": True} if cal.key == "primary" else {})},
                "organizer": {
                    "email": owner,
                    **({"self": True} if cal.key == "primary" else {}),
                },
                "iCalUID": f"{eid}@google.com",
                "sequence": 0,
                "reminders": {"useDefault": True},
                "eventType": "default",
            }
            ev.update(copy.deepcopy(fields))
            ev.setdefault("end", copy.deepcopy(ev["start"]))
            self._mark_self(ev)
            if ev.get("recurrence"):
                ruleset(ev)  # fail now on a bad rule
            bounds(ev, cal.time_zone)
            cal.events[eid] = ev
            self._touch(cal, ev)
            return copy.deepcopy(ev)

    def _mark_self(self, ev: dict[str, Any]) -> None:
        for person in [*ev.get("attendees", []), ev.get("organizer") or {}]:
            if person.get("email", "").lower() == self.user_email.lower():
                person.setdefault("self", True)

    def update_event(self, calendar_id: str, event_id: str, **fields: Any) -> dict[str, Any]:
        """An organizer's change (None removes a field): bumps updated/etag/sequence."""
        unknown = set(fields) - discovery.schema_properties("calendar", "Event")
        if unknown:
            raise ValueError(f"not Event fields: {sorted(unknown)}")
        with self._lock:
            cal = self._cal(calendar_id)
            ev = self._lookup(cal, event_id, store=True)
            old = None
            if ev.get("recurrence") and ({"start", "end", "recurrence"} & set(fields)):
                old = {i["id"]: i for i in expand(ev, cal.time_zone, None, None, self._now())}
            for key, value in fields.items():
                if value is None:
                    ev.pop(key, None)
                else:
                    ev[key] = copy.deepcopy(value)
            self._mark_self(ev)
            self._touch(cal, ev, sequence=True)
            if old is not None:
                new = {i["id"] for i in expand(ev, cal.time_zone, None, None, self._now())}
                for iid, inst in old.items():
                    if iid not in new and iid not in cal.events:
                        cal.ghosts[iid] = (self._seq, stub(inst))
            return copy.deepcopy(ev)

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        with self._lock:
            cal = self._cal(calendar_id)
            ev = self._lookup(cal, event_id, store=True)
            ev["status"] = "cancelled"
            self._touch(cal, ev, sequence=True)

    def event(self, calendar_id: str, event_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._lookup(self._cal(calendar_id), event_id, store=False))

    def expire_sync_tokens(self, calendar_id: str = "primary") -> None:
        with self._lock:
            self._cal(calendar_id).generation += 1

    # --- routes -----------------------------------------------------------------------

    def _events_list(self, cal: Cal, query: Query) -> dict[str, Any]:
        try:
            max_results = int(q1(query, "maxResults") or 250)
        except ValueError as exc:
            raise ApiError(400, "invalid", "Invalid value for maxResults") from exc
        if max_results < 1:
            raise ApiError(400, "invalid", "Invalid value for maxResults")
        max_results = min(max_results, 2500)
        sync = q1(query, "syncToken")
        if sync is not None:
            bad = [p for p in FORBIDDEN_WITH_SYNC if p in query]
            if bad:
                self.violation(f"events.list: syncToken combined with {', '.join(bad)}")
                raise ApiError(
                    400,
                    "invalid",
                    f"Sync token cannot be used together with {', '.join(bad)}.",
                )
        page_token = q1(query, "pageToken")
        if page_token is not None:
            page = self._pages.get(page_token)
            if page is None or page.cal != cal.key:
                raise ApiError(400, "invalid", "Invalid page token value.")
            return self._page(cal, page, max_results)
        if sync is not None:
            st = self._sync_tokens.get(sync)
            if st is None:
                raise ApiError(410, "fullSyncRequired", "Sync token is no longer valid.")
            if st.cal != cal.key:
                self.violation(f"events.list: sync token of {st.cal!r} used for {cal.key!r}")
                raise ApiError(400, "invalid", "Invalid sync token value.")
            if st.generation != cal.generation:
                raise ApiError(
                    410,
                    "fullSyncRequired",
                    "Sync token is no longer valid, a full sync is required.",
                )
            if "singleEvents" in query and qbool(query, "singleEvents") != st.single:
                self.violation(
                    "events.list: singleEvents differs from the request that made the syncToken"
                )
            items = self._changes(cal, st)
            single, lo, hi = st.single, st.lo, st.hi
        else:
            single = qbool(query, "singleEvents")
            lo = self._time_param(query, "timeMin")
            hi = self._time_param(query, "timeMax")
            if lo is not None and hi is not None and lo >= hi:
                raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.")
            order = q1(query, "orderBy")
            if order == "startTime" and not single:
                raise ApiError(
                    400,
                    "badRequest",
                    "The requested ordering is not available for the particular query.",
                )
            items = self._full(cal, query, single, lo, hi)
            if order == "updated":
                items.sort(key=lambda e: e.get("updated", ""))
        token = f"sync-{next(self._tokens):06d}"
        self._sync_tokens[token] = SyncState(cal.key, self._seq, single, cal.generation, lo, hi)
        extra = {
            "kind": "calendar#events",
            "etag": f'"p{self._seq}"',
            "summary": self._public_id(cal) if cal.key == "primary" else cal.summary,
            "updated": rfc3339(self._last_updated),
            "timeZone": cal.time_zone,
            "accessRole": cal.access_role,
            "defaultReminders": [],
        }
        page = Page(cal.key, [copy.deepcopy(i) for i in items], 0, token, extra)
        return self._page(cal, page, max_results)

    def _page(self, cal: Cal, page: Page, max_results: int) -> dict[str, Any]:
        chunk = page.items[page.offset : page.offset + max_results]
        out = dict(page.extra)
        rest = page.offset + max_results
        if rest < len(page.items):
            token = f"page-{next(self._tokens):06d}"
            self._pages[token] = Page(cal.key, page.items, rest, page.sync_token, page.extra)
            while len(self._pages) > PAGES_KEPT:  # Google's page tokens expire too
                del self._pages[next(iter(self._pages))]
            out["nextPageToken"] = token
        elif page.sync_token:
            out["nextSyncToken"] = page.sync_token
        out["items"] = chunk
        return out

    def _time_param(self, query: Query, name: str) -> datetime | None:
        text = q1(query, name)
        if text is None:
            return None
        try:
            return parse_rfc3339(text)
        except ValueError as exc:
            raise ApiError(400, "badRequest", f"Bad Request: {name}={text!r}") from exc

    def _full(
        self,
        cal: Cal,
        query: Query,
        single: bool,
        lo: datetime | None,
        hi: datetime | None,
    ) -> list[dict[str, Any]]:
        show_deleted = qbool(query, "showDeleted")
        excs = self._exceptions(cal)
        tz = cal.time_zone
        found: list[dict[str, Any]] = []
        for ev in cal.events.values():
            if ev.get("recurrence"):
                if single:
                    if ev["status"] == "cancelled":
                        continue
                    found.extend(self._instances(cal, ev, excs.get(ev["id"], []), lo, hi))
                    continue
                if (lo is not None or hi is not None) and not expand(ev, tz, lo, hi, self._now()):
                    continue
                if ev["status"] == "cancelled" and not show_deleted:
                    continue
                found.append(ev)
            elif ev.get("recurringEventId"):
                if single:
                    continue  # served with its master
                if ev["status"] == "cancelled":
                    # cancelled instances come back even without showDeleted (Google's docs)
                    original = {"start": ev["originalStartTime"], "end": ev["originalStartTime"]}
                    if _in_window(original, tz, lo, hi):
                        found.append(stub(ev))
                    continue
                if _in_window(ev, tz, lo, hi):
                    found.append(ev)
            else:
                if ev["status"] == "cancelled" and not show_deleted:
                    continue
                if _in_window(ev, tz, lo, hi):
                    found.append(ev)
        if single:
            found = [
                e
                for e in found
                if (show_deleted or e["status"] != "cancelled") and _in_window(e, tz, lo, hi)
            ]
        return sorted((e for e in found if _matches(e, query)), key=lambda e: _start_key(e, tz))

    def _changes(self, cal: Cal, st: SyncState) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        excs = self._exceptions(cal)
        for eid, seq in sorted(cal.changed.items(), key=lambda kv: kv[1]):
            if seq <= st.seq:
                continue
            ev = cal.events[eid]
            if st.single and ev.get("recurrence"):
                insts = self._instances(cal, ev, excs.get(eid, []), st.lo, st.hi)
                if ev["status"] == "cancelled":
                    out[eid] = stub(ev)
                for inst in insts:
                    gone = ev["status"] == "cancelled" or inst["status"] == "cancelled"
                    out[inst["id"]] = stub(inst) if gone else inst
                continue
            out[eid] = stub(ev) if ev["status"] == "cancelled" else ev
        for gid, (seq, ghost) in cal.ghosts.items():
            if st.single and seq > st.seq and gid not in out:
                out[gid] = ghost
        return list(out.values())

    def _events_get(self, cal: Cal, event_id: str) -> dict[str, Any]:
        return self._lookup(cal, event_id, store=False)

    def _events_patch(
        self, cal: Cal, event_id: str, query: Query, body: dict[str, Any]
    ) -> dict[str, Any]:
        send = q1(query, "sendUpdates")
        if send != "none":
            self.violation(f"events.patch {event_id}: sendUpdates={send!r} (must be 'none')")
        if "sendNotifications" in query:
            self.violation(f"events.patch {event_id}: sendNotifications is deprecated")
        extra = set(body) - PATCHABLE
        if extra:
            self.violation(f"events.patch {event_id}: body touches {sorted(extra)}")
        ext = body.get("extendedProperties") or {}
        if "shared" in ext:
            self.violation(f"events.patch {event_id}: extendedProperties.shared is seen by all")
        if cal.access_role not in ("owner", "writer"):
            raise ApiError(403, "requiredAccessLevel", "You need to have writer access.")
        if self._vanish > 0 and (cal.key, event_id) not in self.vanished:
            self._vanish -= 1
            gone = self._lookup(cal, event_id, store=True)
            gone["status"] = "cancelled"
            self._touch(cal, gone, sequence=True)
            self.vanished.append((cal.key, event_id))
            self._met.fault = "vanished"
        if (cal.key, event_id) in self.vanished:
            raise ApiError(404, "notFound", "Not Found")
        ev = self._lookup(cal, event_id, store=True)
        for key, value in body.items():
            if key == "extendedProperties":
                if value is None:
                    ev.pop(key, None)
                    continue
                props = ev.setdefault("extendedProperties", {})
                for scope, kv in value.items():
                    if scope not in ("private", "shared"):
                        continue
                    if kv is None:
                        props.pop(scope, None)
                        continue
                    target = props.setdefault(scope, {})
                    for k, v in kv.items():
                        if v is None:
                            target.pop(k, None)
                        else:
                            target[k] = v
            elif key not in discovery.schema_properties("calendar", "Event"):
                continue
            elif value is None:
                ev.pop(key, None)
            else:
                ev[key] = copy.deepcopy(value)
        self._touch(cal, ev)
        return ev

    def _freebusy(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            lo = parse_rfc3339(body["timeMin"])
            hi = parse_rfc3339(body["timeMax"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError(400, "badRequest", "timeMin and timeMax are required.") from exc
        if hi <= lo:
            raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.")
        if hi - lo > timedelta(days=FREEBUSY_MAX_DAYS):
            raise ApiError(400, "timeRangeTooLong", "The requested time range is too long.")
        items = body.get("items") or []
        if len(items) > FREEBUSY_MAX_ITEMS:
            raise ApiError(
                400, "tooManyCalendarsRequested", "The number of calendars requested is too large."
            )
        cals: dict[str, Any] = {}
        for item in items:
            cid = item.get("id", "")
            try:
                cal = self._cal(cid)
            except ApiError:
                cals[cid] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                continue
            spans = []
            for ev in self._full(cal, {"singleEvents": ["true"]}, True, lo, hi):
                if ev.get("transparency") == "transparent":
                    continue
                me = [a for a in ev.get("attendees", []) if a.get("self")]
                if me and me[0].get("responseStatus") == "declined":
                    continue
                s, e = bounds(ev, cal.time_zone)
                spans.append((max(s, lo), min(e, hi)))
            busy: list[list[datetime]] = []
            for s, e in sorted(spans):
                if busy and s <= busy[-1][1]:
                    busy[-1][1] = max(busy[-1][1], e)
                else:
                    busy.append([s, e])
            cals[cid] = {"busy": [{"start": _z(s), "end": _z(e)} for s, e in busy]}
        return {
            "kind": "calendar#freeBusy",
            "timeMin": _z(lo),
            "timeMax": _z(hi),
            "calendars": cals,
        }

    # --- the review calendar: calendars.insert/get/delete, events.insert/update/delete ---

    def _calendar_resource(self, cal: Cal) -> dict[str, Any]:
        return {
            "kind": "calendar#calendar",
            "etag": f'"k{len(cal.key)}"',
            "id": self._public_id(cal),
            "summary": self._public_id(cal) if cal.key == "primary" else cal.summary,
            "timeZone": cal.time_zone,
        }

    def _calendars_insert(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("summary"):
            raise ApiError(400, "required", "Missing summary.")
        cid = f"c_{next(self._ids):016x}@group.calendar.google.com"
        self.add_calendar(
            cid, body["summary"], "owner", time_zone=body.get("timeZone") or "UTC", app_created=True
        )
        return self._calendar_resource(self._cals[cid])

    def _calendars_delete(self, cal: Cal) -> None:
        if cal.key == "primary":
            raise ApiError(400, "cannotDeletePrimaryCalendar", "Cannot delete primary calendar.")
        del self._cals[cal.key]

    def _check_invites(self, route: str, query: Query, body: dict[str, Any]) -> None:
        if body.get("attendees"):
            self.violation(f"{route}: the event carries attendees (they would be invited)")
        if q1(query, "sendUpdates") not in (None, "none"):
            self.violation(f"{route}: sendUpdates={q1(query, 'sendUpdates')!r}")

    def _events_insert(self, cal: Cal, query: Query, body: dict[str, Any]) -> dict[str, Any]:
        self._check_invites("events.insert", query, body)
        if "start" not in body or "end" not in body:
            raise ApiError(
                400, "required", "Missing end time." if "start" in body else "Missing start."
            )
        fields = {k: v for k, v in body.items() if k not in READ_ONLY}
        try:
            ev = self.add_event(cal.key, **fields)
        except ValueError as exc:
            raise ApiError(400, "invalid", str(exc)) from exc
        return cal.events[ev["id"]]

    def _events_update(
        self, cal: Cal, event_id: str, query: Query, body: dict[str, Any]
    ) -> dict[str, Any]:
        self._check_invites("events.update", query, body)
        ev = self._lookup(cal, event_id, store=True)
        if "start" not in body or "end" not in body:
            raise ApiError(400, "required", "Missing start or end.")
        keep = {k: ev[k] for k in (*READ_ONLY, "organizer", "recurringEventId") if k in ev}
        known = discovery.schema_properties("calendar", "Event")
        ev.clear()
        ev.update({k: copy.deepcopy(v) for k, v in body.items() if k in known and v is not None})
        ev.update(keep)
        ev.setdefault("status", "confirmed")
        self._touch(cal, ev, sequence=True)
        return ev

    def _events_delete(self, cal: Cal, event_id: str, query: Query) -> None:
        self._check_invites("events.delete", query, {})
        ev = self._lookup(cal, event_id, store=True)
        if ev["status"] == "cancelled":
            raise ApiError(410, "deleted", "Resource has been deleted")
        ev["status"] = "cancelled"
        self._touch(cal, ev, sequence=True)

    def _calendar_entry(self, cal: Cal) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "kind": "calendar#calendarListEntry",
            "etag": f'"c{len(cal.key)}"',
            "id": self._public_id(cal),
            "summary": self._public_id(cal) if cal.key == "primary" else cal.summary,
            "timeZone": cal.time_zone,
            "accessRole": cal.access_role,
            "defaultReminders": [],
            "selected": True,
        }
        if cal.key == "primary":
            entry["primary"] = True
        return entry

    def _calendar_list(self, query: Query) -> dict[str, Any]:
        items = [self._calendar_entry(c) for c in self._cals.values()]
        return {"kind": "calendar#calendarList", "etag": '"cl"', "items": items}


def _z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _in_window(ev: dict[str, Any], tz: str, lo: datetime | None, hi: datetime | None) -> bool:
    if "start" not in ev:
        return True
    start, end = bounds(ev, tz)
    if lo is not None and not (end > lo or (start == end and start >= lo)):
        return False
    return hi is None or start < hi


def _start_key(ev: dict[str, Any], tz: str) -> tuple[datetime, str]:
    when = ev.get("start") or ev.get("originalStartTime")
    if not when:
        return datetime.min.replace(tzinfo=UTC), ev["id"]
    return bounds({"start": when}, tz)[0].astimezone(UTC), ev["id"]


def _matches(ev: dict[str, Any], query: Query) -> bool:
    props = ev.get("extendedProperties") or {}
    for scope, param in (
        ("private", "privateExtendedProperty"),
        ("shared", "sharedExtendedProperty"),
    ):
        for cond in query.get(param, []):
            key, _, value = cond.partition("=")
            if (props.get(scope) or {}).get(key) != value:
                return False
    uid = q1(query, "iCalUID")
    if uid is not None and ev.get("iCalUID") != uid:
        return False
    updated_min = q1(query, "updatedMin")
    if updated_min is not None and ev.get("updated", "") < rfc3339(parse_rfc3339(updated_min)):
        return False
    types = query.get("eventTypes")
    if types and ev.get("eventType", "default") not in types:
        return False
    text = q1(query, "q")
    if text:
        people = [*ev.get("attendees", []), ev.get("organizer") or {}]
        hay = " ".join(
            [ev.get("summary", ""), ev.get("description", ""), ev.get("location", "")]
            + [f"{p.get('email', '')} {p.get('displayName', '')}" for p in people]
        ).lower()
        if not all(word in hay for word in text.lower().split()):
            return False
    return True
