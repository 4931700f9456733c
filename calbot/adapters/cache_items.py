"""The event cache's items as every store keeps them: compact JSON text, one per event id."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]

CACHE_BATCH = 1000  # cached items parsed per `json.loads` when streamed


def load_items(texts: Iterable[str]) -> list[dict[str, object]]:
    """Cached items back from their JSON texts, parsed in one go: the decoder then shares
    one string object per key name across all items (a third less memory for a big cache,
    and faster than one `json.loads` per item)."""
    items: list[dict[str, object]] = json.loads("[" + ",".join(texts) + "]")
    return items


# Built once: json.dumps with options builds an encoder per call, and a full sync writes
# every event of the calendar. Items are decoded JSON, so they hold no cycle to look for
# (which halves the time per item).
_ITEM_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
# The C encoder that `_ITEM_ENCODER.encode` makes anew for every item, made once (a seventh
# of the time per item), with the same settings: no markers (no cycle check), no indent.
_C_ENCODE = (
    None
    if c_make_encoder is None
    else c_make_encoder(
        None, _ITEM_ENCODER.default, encode_basestring, None, ":", ",", False, False, True
    )
)


def item_json(item: dict[str, object]) -> tuple[str, str | None]:
    """(event id, compact JSON or None for a cancelled item)."""
    event_id = _item_id(item)
    if item.get("status") == "cancelled":
        return event_id, None
    if _C_ENCODE is None:
        return event_id, _ITEM_ENCODER.encode(item)
    return event_id, "".join(_C_ENCODE(item, 0))


def cache_rows(
    items: Sequence[dict[str, object]], texts: Sequence[str | None] | None = None
) -> tuple[dict[str, tuple[str, str, str]], set[str]]:
    """What `put_events` leaves: (event id → (JSON text, start, end bounds)) to upsert, and
    the ids to delete, the items applied in order (the last one wins; a cancelled item
    deletes). `texts`, one per item when given: an item's JSON as the API sent it (its
    value is the item), kept instead of encoding the item again. Checked before any row
    is written."""
    if texts is not None and len(texts) != len(items):
        raise ValueError(f"{len(texts)} texts for {len(items)} cached events")
    upserts: dict[str, tuple[str, str, str]] = {}
    deletes: set[str] = set()
    for n, item in enumerate(items):
        given = texts[n] if texts is not None else None
        text: str | None
        if given is not None and item.get("status") != "cancelled":
            event_id, text = _item_id(item), given
        else:
            event_id, text = item_json(item)
        if text is None:
            upserts.pop(event_id, None)
            deletes.add(event_id)
        else:
            deletes.discard(event_id)
            upserts[event_id] = (text, *item_bounds(item))
    return upserts, deletes


def _item_id(item: dict[str, object]) -> str:
    event_id = item.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise ValueError(f"a cached event needs a non-empty string id, got {event_id!r}")
    return event_id


# --- Window bounds (issue 12): what a store keeps beside each item to select a window ----
# UTC text "YYYY-MM-DDTHH:MM:SSZ" sorts as time. Bounds are a superset of the event's own
# time: an all-day date is widened by a day each side (it is midnight in the user's zone,
# which may change between scans), and an item whose times cannot be read gets the widest
# bounds, so it is in every window and the reader decides about it as before.
NO_START = ""  # before every time
NO_END = "~"  # after every time


def utc_text(moment: datetime) -> str:
    """An aware datetime as the bounds' UTC text (isoformat: strftime is 3x slower, and a
    full sync writes every event of the calendar)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")[:-6] + "Z"  # "+00:00" off


def item_bounds(item: Mapping[str, object]) -> tuple[str, str]:
    """(start, end) UTC text bracketing when a cached item (Google's shape) takes place."""
    start = _moment(item.get("start"), -1)
    end = _moment(item.get("end"), +1)
    try:
        if start is None:
            return NO_START, NO_END
        if end is None or end < start:  # an end Google would not send: in every later window
            return utc_text(start), NO_END
        return utc_text(start), utc_text(end)
    except (ValueError, OverflowError):  # at the edges of the calendar
        return NO_START, NO_END


def _moment(raw: object, side: int) -> datetime | None:
    """A Google time ({"dateTime": ...} or {"date": ...}) widened to the `side` (-1
    earlier, +1 later) where it is not exact; None when unreadable."""
    if type(raw) is not dict and not isinstance(raw, Mapping):
        return None
    try:
        if type(value := raw.get("dateTime")) is str and value:
            moment = datetime.fromisoformat(value)  # reads "Z" too (Python 3.11)
            if moment.tzinfo is None:  # a local time in some zone: ±1 day covers any zone
                return moment.replace(tzinfo=UTC) + timedelta(days=side)
            return moment
        if isinstance(value := raw.get("date"), str) and value:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=side)
    except (ValueError, OverflowError):
        return None
    return None
