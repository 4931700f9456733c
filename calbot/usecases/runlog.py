"""The run log: one row per scan (ok or failed) for the digest and `doctor`. Every row goes
in through `record_run`; the other functions only find a store to give it."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from calbot.adapters.lock import StateLock
from calbot.adapters.sqlite import DB_NAME, SqliteStore
from calbot.core.records import RunRecord
from calbot.core.untrusted import one_line
from calbot.core.vocab import RunOutcome
from calbot.errors import LockedError
from calbot.ports.store import StateStore

# present.logs and failures are imported by the paths that fail: a scan that goes well
# never loads them (start-up time, issue 12)

if TYPE_CHECKING:
    from calbot.usecases.scan import ScanResult

__all__ = [
    "failed_run",
    "ok_run",
    "record_if_free",
    "record_quietly",
    "record_run",
    "record_unlocked",
    "run_counts",
]

log = logging.getLogger("calbot.runlog")


def run_counts(result: ScanResult) -> dict[str, int]:
    """What a scan did, as the run log and the worker's `scan.done` line count it."""
    return {
        "events": result.events_seen,
        "meetings": len(result.outcomes),
        "drafted": result.drafted,
        "deleted": result.deleted,
        "api_requests": result.api_requests,
    }


def ok_run(result: ScanResult, started: datetime) -> RunRecord:
    return RunRecord(
        started,
        datetime.now(started.tzinfo),
        RunOutcome.OK,
        counts=run_counts(result),
        warnings=tuple(result.warnings),
    )


def failed_run(exc: BaseException, started: datetime) -> RunRecord:
    from calbot.usecases.failures import failure_of

    failure = failure_of(exc)
    return RunRecord(started, datetime.now(started.tzinfo), failure.outcome, error=failure.error)


def record_run(store: StateStore, run: RunRecord) -> None:
    """Add `run` to the store's run log, in a transaction of its own."""
    with store.transaction():
        store.add_run(run)


def record_quietly(store: StateStore, run: RunRecord) -> bool:
    """`record_run` for a failed scan: never raises (the scan's own error is what the user
    must see); a row that could not be written is logged. Returns whether it was written."""
    try:
        record_run(store, run)
    except Exception as exc:
        _not_recorded(exc)
        return False
    return True


def record_unlocked(state_dir: Path, run: RunRecord) -> bool:
    """Another calbot holds the lock: the one small row still goes in (SQLite serialises
    writers), unless there is no state store yet. Never raises."""
    if not (state_dir / DB_NAME).exists():
        return False
    return _record_in(state_dir, run, lock=False)


def record_if_free(state_dir: Path, run: RunRecord) -> bool:
    """The worker's scan could not open the store: try once more for the row, without
    waiting for the lock; when another calbot holds it, the row is skipped. Never raises."""
    return _record_in(state_dir, run, lock=True)


def _record_in(state_dir: Path, run: RunRecord, *, lock: bool) -> bool:
    with contextlib.ExitStack() as stack:
        try:
            if lock:
                stack.enter_context(StateLock(state_dir, wait_seconds=0))
            store = SqliteStore.open(state_dir)
        except LockedError:
            from calbot.present.logs import emit

            emit(log, "run.not_recorded", logging.DEBUG, reason="state store busy")
            return False
        except Exception as exc:
            _not_recorded(exc)
            return False
        stack.callback(store.close)
        return record_quietly(store, run)


def _not_recorded(exc: Exception) -> None:
    from calbot.present.logs import emit

    emit(
        log,
        "run.not_recorded",
        logging.WARNING,
        error=f"{type(exc).__name__}: {one_line(str(exc))}",
    )
