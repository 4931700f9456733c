"""Which calendars to read: the principal and its calendar home found from `[caldav] url`
(by the `caldav` library, which knows the servers' quirks), the home's calendars listed in
one PROPFIND, then chosen by `[source] calendars` (display names or URLs; by default every
calendar holding events except calbot's own "calbot review").

The choice is cached in the store (`Meta`, under `META_KEY`, with the config it was made
for), so an unchanged rescan costs no discovery at all; the source calls `discover(...,
fresh=True)` again when a cached calendar answers 404 or 410."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict

from calbot.adapters.caldav.connection import Dav
from calbot.adapters.caldav.webdav import CALENDARS_PROPFIND, Calendar, calendars_of
from calbot.errors import ServiceError, SourceError
from calbot.ports.store import Meta

__all__ = ["META_KEY", "REVIEW_NAME", "cached", "discover", "list_calendars", "remember"]

META_KEY = "caldav.calendars"
REVIEW_NAME = "calbot review"


def list_calendars(dav: Dav) -> list[Calendar]:
    """Every calendar in the user's calendar home (discovery + one PROPFIND)."""

    def home() -> str:
        principal = dav.client.principal()  # type: ignore[no-untyped-call]
        return str(principal.calendar_home_set.url)

    home_url = dav.call(home, what="discovering the calendar home")
    reply = dav.request(home_url, "PROPFIND", CALENDARS_PROPFIND, {"Depth": "1"})
    if reply.status != 207:
        raise ServiceError(f"{dav.url}: listing calendars at {home_url}: HTTP {reply.status}")
    try:
        return calendars_of(reply.body, home_url)
    except ValueError as exc:
        raise ServiceError(f"{dav.url}: listing calendars: {exc}") from None


def choose(found: Sequence[Calendar], wanted: Sequence[str], where: str) -> list[Calendar]:
    """`wanted` by display name (case-insensitive) or URL; none = every calendar holding
    events except "calbot review". A name or URL that matches nothing is a config error
    listing what there is."""
    if not wanted:
        return [c for c in found if c.events and c.name.casefold() != REVIEW_NAME]
    chosen: list[Calendar] = []
    for want in wanted:
        key = want.strip()
        match = [
            c
            for c in found
            if c.url.rstrip("/") == key.rstrip("/") or c.name.casefold() == key.casefold()
        ]
        if not match:
            names = ", ".join(repr(c.name or c.url) for c in found) or "none"
            raise SourceError(
                f"{where}: source.calendars: no CalDAV calendar named {key!r} "
                f"(the server has: {names})"
            )
        chosen.extend(c for c in match if c not in chosen)
    return chosen


def _fingerprint(dav: Dav, username: str, wanted: Sequence[str]) -> str:
    return json.dumps([dav.url, username, list(wanted)])


def cached(meta: Meta, dav: Dav, username: str, wanted: Sequence[str]) -> list[Calendar] | None:
    raw = meta.get_meta(META_KEY)
    if not raw:
        return None
    try:
        data = json.loads(raw)
        if data.get("for") != _fingerprint(dav, username, wanted):
            return None
        return [Calendar(**c) for c in data["calendars"]]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # an old or damaged entry: discover again


def remember(
    meta: Meta, dav: Dav, username: str, wanted: Sequence[str], calendars: Sequence[Calendar]
) -> None:
    value = {
        "for": _fingerprint(dav, username, wanted),
        "calendars": [asdict(c) for c in calendars],
    }
    meta.put_meta(META_KEY, json.dumps(value))


def discover(
    dav: Dav,
    meta: Meta,
    username: str,
    wanted: Sequence[str],
    where: str,
    *,
    fresh: bool = False,
    save: Callable[[list[Calendar]], None] | None = None,
) -> list[Calendar]:
    """The chosen calendars: from the store unless `fresh`, else from the server (and
    handed to `save` to be kept)."""
    if not fresh:
        known = cached(meta, dav, username, wanted)
        if known is not None:
            return known
    chosen = choose(list_calendars(dav), wanted, where)
    if save is not None:
        save(chosen)
    return chosen
