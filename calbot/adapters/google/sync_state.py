"""The `sync_tokens` row of a Google calendar: Google's sync token, and the lower edge of
what the cache covers (the full sync's `timeMin`), stored together as
`{"from": ISO, "token": ..., "fields": tag}` (the row is calbot's, the token inside is
Google's)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from calbot.adapters.google.events import EVENT_FIELDS

SYNC_MARGIN = timedelta(days=30)  # a full sync reaches this far before the window start
PRUNE_STEP = timedelta(days=7)  # prune the cache once the window moved this far

# The cache holds items as `EVENT_FIELDS` asked for them: a sync token stored with other
# fields (an older calbot) starts one full sync, so no cached item lacks a field read now.
FIELDS_TAG = hashlib.sha256(EVENT_FIELDS.encode("ascii")).hexdigest()[:12]


def pack_state(covered_from: datetime, token: str | None) -> str | None:
    if token is None:
        return None
    covered = covered_from.astimezone(UTC).isoformat()
    return json.dumps({"from": covered, "token": token, "fields": FIELDS_TAG})


def unpack_state(stored: str | None) -> tuple[datetime | None, str | None]:
    """(the cache's timeMin, Google's token); (None, None) when absent or unreadable."""
    if not stored:
        return None, None
    try:
        data = json.loads(stored)
        covered_from = datetime.fromisoformat(data["from"])
        token = data["token"]
    except (ValueError, TypeError, KeyError):
        return None, None
    if not isinstance(token, str) or not token or covered_from.tzinfo is None:
        return None, None
    if data.get("fields") != FIELDS_TAG:
        return None, None
    return covered_from, token


def time_min_for(start: datetime, now: datetime) -> str:
    """The `timeMin` of a full sync for a window from `start`."""
    covered_from = min(start, now) - SYNC_MARGIN
    return covered_from.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def prune_from(covered_from: datetime, start: datetime) -> datetime | None:
    """The new lower edge of the cache when it is time to prune, else None."""
    wanted = start - SYNC_MARGIN
    return wanted if wanted - covered_from >= PRUNE_STEP else None
