"""Where events come from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from calbot.core.messages import Message
from calbot.core.model import Event, Slot


class CalendarSource(Protocol):
    """Where events come from."""

    def events(self, start: datetime, end: datetime) -> Iterable[Event]:
        """Every occurrence overlapping [start, end), recurring series expanded.

        Cancelled occurrences may be returned (status="cancelled"); the core drops them.
        """
        ...

    def extra_busy(self, start: datetime, end: datetime) -> Sequence[Slot]:
        """Busy time from calendars whose events are not read (at most one request)."""
        ...

    @property
    def warnings(self) -> Sequence[Message]:
        """Events (and calendars) skipped so far as unreadable, one message each, for the
        scan to show in the user's language (the scan goes on)."""
        ...

    @property
    def requests(self) -> int:
        """API requests made so far (0 for local files)."""
        ...
