"""A Calendar API event item as Google sends it, and its conversion: what the serializer
tests (`tests/unit/adapters/test_google_events.py`, `test_google_compact.py`) build on."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from calbot.adapters.google.events import to_event
from calbot.core.model import Event

BERLIN = ZoneInfo("Europe/Berlin")
ME = "me@example.com"


def item(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "evt1",
        "status": "confirmed",
        "summary": "Acme roadmap",
        "start": {"dateTime": "2025-03-04T10:00:00+01:00"},
        "end": {"dateTime": "2025-03-04T11:00:00+01:00"},
    }
    base.update(kw)
    return base


def convert(raw: dict[str, Any], tz: Any = BERLIN) -> Event:
    event = to_event(raw, "primary", ME, tz)
    assert event is not None
    return event
