"""The words calbot's records and outputs use, one enum each (their values are what the
state store, `--json` and the logs carry, so they never change)."""

from __future__ import annotations

from enum import StrEnum


class DraftStatus(StrEnum):
    """A draft's state in one sink, as `--json`, the digest and the ledger show it."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    USER_DELETED = "user_deleted"
    USER_EDITED = "user_edited"
    SENT = "sent"
    DRY_RUN = "dry_run"
    DELETED = "deleted"  # calbot removed its own untouched draft
    DELETING = "deleting"  # written before a delete, so a crash is not read as the user's


class RunOutcome(StrEnum):
    """How one scan ended, in the run log, the worker's log lines and the digest."""

    OK = "ok"
    FAILED = "failed"
    AUTH = "auth"
    LOCKED = "locked"
    GOOGLE_DOWN = "google_down"
