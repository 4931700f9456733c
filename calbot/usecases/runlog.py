"""The run log: one row per scan (ok or failed) for the digest and `doctor`."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from calbot.core.records import RunRecord
from calbot.errors import (
    AuthError,
    CalbotError,
    LockedError,
    OpenSecretFileError,
    ServiceError,
)
from calbot.ports.store import StateStore

if TYPE_CHECKING:
    from calbot.usecases.scan import ScanResult


RUN_OUTCOMES: dict[type[CalbotError], str] = {  # the first match wins
    OpenSecretFileError: "failed",  # its fix is chmod, not `calbot auth`
    AuthError: "auth",
    ServiceError: "google_down",
    LockedError: "locked",
}


def ok_run(result: ScanResult, started: datetime) -> RunRecord:
    counts = {
        "events": result.events_seen,
        "meetings": len(result.outcomes),
        "drafted": result.drafted,
        "deleted": result.deleted,
        "api_requests": result.api_requests,
    }
    return RunRecord(
        started, datetime.now(started.tzinfo), "ok", counts=counts, warnings=tuple(result.warnings)
    )


def failed_run(exc: Exception, started: datetime) -> RunRecord:
    outcome = next((o for t, o in RUN_OUTCOMES.items() if isinstance(exc, t)), "failed")
    error = str(exc) if isinstance(exc, CalbotError) else f"{type(exc).__name__}: {exc}"
    return RunRecord(started, datetime.now(started.tzinfo), outcome, error=" ".join(error.split()))


def record_run(store: StateStore, run: RunRecord) -> None:
    with store.transaction():
        store.add_run(run)


def record_quietly(store: StateStore, run: RunRecord) -> None:
    """Log a failed scan for the digest; never raises (the scan's own error is what the
    user must see)."""
    with contextlib.suppress(Exception):
        record_run(store, run)


def record_unlocked(state_dir: Path, run: RunRecord) -> None:
    """Another calbot holds the lock: the one small row still goes in (SQLite serialises
    writers), unless there is no state store yet."""
    from calbot.adapters.sqlite import DB_NAME, SqliteStore

    if not (state_dir / DB_NAME).exists():
        return
    try:
        store = SqliteStore.open(state_dir)
    except Exception:  # best effort, as above
        return
    try:
        record_quietly(store, run)
    finally:
        store.close()
