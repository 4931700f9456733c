"""`RunLog`, `ReviewLog` and `Meta` in SQLite: the runs, reviews, week_load and meta tables
the morning digest reads. `runs.id` orders runs that finished at the same instant
(PostgreSQL: an identity column)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from calbot.adapters.sqlite.tables import Tables, dt_in, dt_out, json_text
from calbot.core.records import (
    DayLoadRecord,
    ReviewItem,
    RunRecord,
    check_review,
    check_run,
    merge_review,
)
from calbot.core.vocab import DraftStatus, RunOutcome
from calbot.ports.store import RUNS_KEPT

_REVIEW_COLUMNS = (
    'key, client, summary, start, "end", action, reason, event_link, drafts, saved_minutes,'
    " status, drafted_at, reported_at"
)
_SELECT_REVIEWS = f"SELECT {_REVIEW_COLUMNS} FROM reviews"  # noqa: S608 (constants only)
_MARKS = ", ".join("?" * 13)
_INSERT_REVIEW = f"INSERT INTO reviews ({_REVIEW_COLUMNS}) VALUES ({_MARKS})"  # noqa: S608
_UPSERT_REVIEW = _INSERT_REVIEW + (
    " ON CONFLICT (key) DO UPDATE SET client = excluded.client,"
    ' summary = excluded.summary, start = excluded.start, "end" = excluded."end",'
    " action = excluded.action, reason = excluded.reason, event_link = excluded.event_link,"
    " drafts = excluded.drafts, saved_minutes = excluded.saved_minutes,"
    " status = excluded.status, drafted_at = excluded.drafted_at,"
    " reported_at = excluded.reported_at"
)


def _review_row(item: ReviewItem) -> tuple[object, ...]:
    return (
        item.key,
        item.client,
        item.summary,
        dt_out(item.start, "start"),
        dt_out(item.end, "end"),
        item.action,
        item.reason,
        item.event_link,
        json_text(dict(item.drafts)),
        item.saved_minutes,
        item.status,
        dt_out(item.drafted_at, "drafted_at"),
        None if item.reported_at is None else dt_out(item.reported_at, "reported_at"),
    )


def _review_of(row: Sequence[Any]) -> ReviewItem:
    reported = row[12]
    return ReviewItem(
        key=row[0],
        client=row[1],
        summary=row[2],
        start=dt_in(row[3]),
        end=dt_in(row[4]),
        action=row[5],
        reason=row[6],
        event_link=row[7],
        drafts={str(k): str(v) for k, v in json.loads(row[8]).items()},
        saved_minutes=int(row[9]),
        status=DraftStatus(row[10]),
        drafted_at=dt_in(row[11]),
        reported_at=None if reported is None else dt_in(reported),
    )


class ReviewTables(Tables):
    def add_run(self, run: RunRecord) -> None:
        """Log a run; runs that finished more than `RUNS_KEPT` before it are forgotten."""
        self._check_write()
        run = check_run(run)
        self._conn.execute(
            "DELETE FROM runs WHERE finished_at < ?",
            (dt_out(run.finished_at - RUNS_KEPT, "finished_at"),),
        )
        self._conn.execute(
            "INSERT INTO runs (started_at, finished_at, outcome, error, counts, warnings)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                dt_out(run.started_at, "started_at"),
                dt_out(run.finished_at, "finished_at"),
                run.outcome,
                run.error,
                json_text(dict(run.counts)),
                json_text(list(run.warnings)),
            ),
        )

    def runs(self, since: datetime) -> list[RunRecord]:
        rows = self._conn.execute(
            "SELECT started_at, finished_at, outcome, error, counts, warnings FROM runs"
            " WHERE finished_at >= ? ORDER BY finished_at, id",
            (dt_out(since, "since"),),
        )
        return [
            RunRecord(
                started_at=dt_in(started),
                finished_at=dt_in(finished),
                outcome=_outcome(outcome),
                error=error,
                counts={str(k): int(v) for k, v in json.loads(counts).items()},
                warnings=tuple(str(w) for w in json.loads(warnings)),
            )
            for started, finished, outcome, error, counts, warnings in rows
        ]

    def put_review(self, item: ReviewItem) -> None:
        """Upsert; news again (see `records.review_is_news`) loses `reported_at`."""
        self._check_write()
        item = check_review(item)
        row = self._conn.execute(_SELECT_REVIEWS + " WHERE key = ?", (item.key,)).fetchone()
        item = merge_review(None if row is None else _review_of(row), item)
        self._conn.execute(_UPSERT_REVIEW, _review_row(item))

    def delete_review(self, key: str) -> None:
        self._check_write()
        self._conn.execute("DELETE FROM reviews WHERE key = ?", (key,))

    def reviews(self) -> list[ReviewItem]:
        rows = self._conn.execute(_SELECT_REVIEWS + " ORDER BY start, key")
        return [_review_of(row) for row in rows]

    def mark_reported(self, keys: Sequence[str], at: datetime) -> None:
        self._check_write()
        when = dt_out(at, "at")
        self._conn.executemany(
            "UPDATE reviews SET reported_at = ? WHERE key = ?", ((when, key) for key in keys)
        )

    def put_week_load(self, days: Sequence[DayLoadRecord]) -> None:
        self._check_write()
        self._conn.execute("DELETE FROM week_load")
        self._conn.executemany(
            "INSERT INTO week_load (day, meeting_minutes, meeting_count) VALUES (?, ?, ?)"
            " ON CONFLICT (day) DO UPDATE SET meeting_minutes = excluded.meeting_minutes,"
            " meeting_count = excluded.meeting_count",
            ((d.day.isoformat(), float(d.meeting_minutes), d.meeting_count) for d in days),
        )

    def week_load(self) -> list[DayLoadRecord]:
        rows = self._conn.execute(
            "SELECT day, meeting_minutes, meeting_count FROM week_load ORDER BY day"
        )
        return [
            DayLoadRecord(date.fromisoformat(day), float(minutes), int(count))
            for day, minutes, count in rows
        ]

    def get_meta(self, name: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def put_meta(self, name: str, value: str) -> None:
        self._check_write()
        self._conn.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )


def _outcome(text: str) -> RunOutcome:
    """A stored outcome; one this version does not know (a newer calbot wrote it) is a
    failed run, so the digest still reports it with a fix."""
    try:
        return RunOutcome(text)
    except ValueError:
        return RunOutcome.FAILED
