"""The `sync_tokens` row of a Google calendar: Google's sync token, and the lower edge of
what the cache covers (the full sync's `timeMin`), stored together as
`{"from": ISO, "token": ..., "fields": tag, "stamp": ...}` (the row is calbot's, the token
inside is Google's).

The stamp names the cached rows as they are: a new random one is written with every write
that changes a row (in the same transaction), the old one kept when a sync changed none.
So one stamp always stands for the same rows, which lets the converted window be kept
between scans (`converted`). A row without one (an older calbot) reads as None."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

from calbot.adapters.google.events import EVENT_FIELDS

SYNC_MARGIN = timedelta(days=30)  # a full sync reaches this far before the window start
PRUNE_STEP = timedelta(days=7)  # prune the cache once the window moved this far

# The cache holds items as `EVENT_FIELDS` asked for them: a sync token stored with other
# fields (an older calbot) starts one full sync, so no cached item lacks a field read now.
FIELDS_TAG = hashlib.sha256(EVENT_FIELDS.encode("ascii")).hexdigest()[:12]


def new_stamp() -> str:
    return uuid.uuid4().hex


def pack_state(covered_from: datetime, token: str | None, stamp: str) -> str | None:
    if token is None:
        return None
    covered = covered_from.astimezone(UTC).isoformat()
    return json.dumps({"from": covered, "token": token, "fields": FIELDS_TAG, "stamp": stamp})


def unpack_state(stored: str | None) -> tuple[datetime | None, str | None]:
    """(the cache's timeMin, Google's token); (None, None) when absent or unreadable."""
    covered_from, token, _ = read_state(stored)
    return covered_from, token


def read_state(stored: str | None) -> tuple[datetime | None, str | None, str | None]:
    """`unpack_state` and the rows' stamp (None when absent or unreadable)."""
    if not stored:
        return None, None, None
    try:
        data = json.loads(stored)
        covered_from = datetime.fromisoformat(data["from"])
        token = data["token"]
    except (ValueError, TypeError, KeyError):
        return None, None, None
    if not isinstance(token, str) or not token or covered_from.tzinfo is None:
        return None, None, None
    if data.get("fields") != FIELDS_TAG:
        return None, None, None
    stamp = data.get("stamp")
    return covered_from, token, stamp if isinstance(stamp, str) and stamp else None


def time_min_for(start: datetime, now: datetime) -> str:
    """The `timeMin` of a full sync for a window from `start`."""
    covered_from = min(start, now) - SYNC_MARGIN
    return covered_from.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def prune_from(covered_from: datetime, start: datetime) -> datetime | None:
    """The new lower edge of the cache when it is time to prune, else None."""
    wanted = start - SYNC_MARGIN
    return wanted if wanted - covered_from >= PRUNE_STEP else None
