"""An incremental sync's answer, read once into what it changes in the event cache: the
items it adds or replaces, those it removes, the series it cancels (with the instances
re-sent after the cancel) and the new lower edge when the cache is pruned. A writable sync
writes it into the cache; a dry run streams the cache through it (`CalendarSync`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from calbot.adapters.google.event_times import item_end
from calbot.adapters.google.events import event_label
from calbot.core.messages import Message, message


@dataclass(slots=True)
class Overlay:
    """A sync's changes on top of the cache."""

    prune_before: datetime | None
    upserts: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    cancelled_series: dict[str, set[str]] = field(default_factory=dict)  # → re-sent instances

    @classmethod
    def of(
        cls,
        changes: Iterable[dict[str, Any]],
        prune_before: datetime | None,
        warn: Callable[[Message], None],
    ) -> Overlay:
        overlay = cls(prune_before)
        for item in changes:
            event_id = item.get("id")
            if not isinstance(event_id, str) or not event_id:
                warn(message("warn.item_without_id", item=event_label(item)))
                continue
            if item.get("status") == "cancelled":
                # A cancelled series may come back as its parent id alone: its instances go
                # (those cached are dropped while the cache is streamed).
                overlay.cancelled_series[event_id] = set()
                gone = [event_id] + [
                    i for i, it in overlay.upserts.items() if it.get("recurringEventId") == event_id
                ]
                for i in gone:
                    overlay.upserts.pop(i, None)
                    overlay.removed.add(i)
            else:
                overlay.upserts[event_id] = item
                overlay.removed.discard(event_id)
                series = item.get("recurringEventId")
                if isinstance(series, str) and series in overlay.cancelled_series:
                    overlay.cancelled_series[series].add(event_id)
        return overlay

    @property
    def unchanged(self) -> bool:
        """No change in the answer and nothing to prune: the rows stay as they are."""
        return not (self.upserts or self.removed or self.cancelled_series) and (
            self.prune_before is None
        )

    def doomed(self, item: dict[str, Any], zone: ZoneInfo) -> bool:
        """An instance of a series cancelled in this sync (and not re-sent after it), or an
        item that ended before the cache's new lower edge."""
        series = item.get("recurringEventId")
        if isinstance(series, str):
            kept = self.cancelled_series.get(series)
            if kept is not None and item.get("id") not in kept:
                return True
        if self.prune_before is not None:
            ended = item_end(item, zone)
            if ended is not None and ended <= self.prune_before:
                return True
        return False
