"""The OAuth scopes calbot asks Google for: exactly those a config needs, why each one,
and which one a refused method would have needed.

The discovery documents shipped in `googleapiclient` say which scopes each method accepts;
they are read only when a method is refused (`calbot --help` does not load
`googleapiclient`)."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calbot.config.settings import Settings

__all__ = [
    "CALBOT_SCOPES",
    "CALENDAR_APP_CREATED",
    "CALENDAR_EVENTS",
    "CALENDAR_FREEBUSY",
    "GMAIL_COMPOSE",
    "SCOPE_PREFIX",
    "missing_scope",
    "scope_reasons",
    "scopes_for",
]

SCOPE_PREFIX = "https://www.googleapis.com/auth/"
CALENDAR_EVENTS = SCOPE_PREFIX + "calendar.events"
GMAIL_COMPOSE = SCOPE_PREFIX + "gmail.compose"
CALENDAR_FREEBUSY = SCOPE_PREFIX + "calendar.freebusy"
CALENDAR_APP_CREATED = SCOPE_PREFIX + "calendar.app.created"

# Every scope some calbot config asks for, narrowest first: a missing-scope error names the
# first of these that the refused method accepts; `calbot doctor` fails any other on a token.
CALBOT_SCOPES = (CALENDAR_EVENTS, GMAIL_COMPOSE, CALENDAR_FREEBUSY, CALENDAR_APP_CREATED)


def scopes_for(settings: Settings) -> list[str]:
    """Exactly the scopes this config needs, never more: `calendar.events` always,
    `gmail.compose` for Gmail drafts, `calendar.freebusy` for busy-only calendars,
    `calendar.app.created` for the review calendar; none with an ICS source, which leaves
    every Google output off (`calbot.usecases.wiring.make_ports`)."""
    if settings.source.kind != "google":
        return []
    scopes = [CALENDAR_EVENTS]
    if settings.outputs.gmail_drafts:
        scopes.append(GMAIL_COMPOSE)
    if settings.source.busy_calendars:
        scopes.append(CALENDAR_FREEBUSY)
    if settings.outputs.review_calendar:
        scopes.append(CALENDAR_APP_CREATED)
    return scopes


def scope_reasons(settings: Settings) -> dict[str, str]:
    """Why calbot asks for each scope, in words for `calbot auth` and `calbot doctor`."""
    why = {
        CALENDAR_EVENTS: "read your events and add private notes to your own copy of them",
        GMAIL_COMPOSE: "leave drafts in Gmail for you to review (calbot never sends)",
        CALENDAR_FREEBUSY: "see when your busy-only calendars are busy (no event details)",
        CALENDAR_APP_CREATED: 'keep the private "calbot review" calendar that calbot creates',
    }
    return {scope: why[scope] for scope in scopes_for(settings)}


@cache
def _method_scopes(api: str, version: str) -> dict[str, tuple[str, ...]]:
    """methodId → accepted scopes, from the discovery document shipped in googleapiclient."""
    from googleapiclient.discovery_cache import get_static_doc  # here: `calbot --help` is fast

    doc = get_static_doc(api, version)
    out: dict[str, tuple[str, ...]] = {}

    def walk(node: dict[str, Any]) -> None:
        for method in node.get("methods", {}).values():
            out[method["id"]] = tuple(method.get("scopes", ()))
        for child in node.get("resources", {}).values():
            walk(child)

    if doc:
        walk(json.loads(doc))
    return out


def missing_scope(method: str) -> str:
    """The calbot scope that would cover `method` (the narrowest calbot asks for)."""
    api = method.split(".", 1)[0]
    version = {"calendar": "v3", "gmail": "v1"}.get(api)
    accepted = _method_scopes(api, version).get(method, ()) if version else ()
    for scope in CALBOT_SCOPES:
        if scope in accepted:
            return scope
    return accepted[0] if accepted else "(unknown)"
