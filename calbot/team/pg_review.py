"""`RunLog`, `ReviewLog`, `Holds` and `Meta` in PostgreSQL, per user: the runs, reviews,
week_load, holds and meta tables. `runs.id` (an identity) orders runs that finished at the
same instant."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from calbot.core.records import (
    DayLoadRecord,
    HoldRecord,
    ReviewItem,
    RunRecord,
    check_holds,
    check_review,
    check_run,
    merge_review,
)
from calbot.core.vocab import DraftStatus, RunOutcome
from calbot.ports.store import RUNS_KEPT
from calbot.team.pg_tables import PgTables, dt_out, json_text

_REVIEW_COLUMNS = (
    'key, client, summary, start, "end", action, reason, event_link, drafts, saved_minutes,'
    " status, drafted_at, reported_at"
)
_SELECT_REVIEWS = f"SELECT {_REVIEW_COLUMNS} FROM reviews WHERE user_id = %s"  # noqa: S608
_UPSERT_REVIEW = (
    f"INSERT INTO reviews (user_id, {_REVIEW_COLUMNS}) VALUES ({', '.join(['%s'] * 14)})"  # noqa: S608
    " ON CONFLICT (user_id, key) DO UPDATE SET client = excluded.client,"
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
        str(item.status),
        dt_out(item.drafted_at, "drafted_at"),
        None if item.reported_at is None else dt_out(item.reported_at, "reported_at"),
    )


def _review_of(row: Sequence[Any]) -> ReviewItem:
    return ReviewItem(
        key=row[0],
        client=row[1],
        summary=row[2],
        start=row[3],
        end=row[4],
        action=row[5],
        reason=row[6],
        event_link=row[7],
        drafts={str(k): str(v) for k, v in json.loads(row[8]).items()},
        saved_minutes=int(row[9]),
        status=DraftStatus(row[10]),
        drafted_at=row[11],
        reported_at=row[12],
    )


class PgReviewTables(PgTables):
    def add_run(self, run: RunRecord) -> None:
        """Log a run; runs that finished more than `RUNS_KEPT` before it are forgotten."""
        run = check_run(run)
        self._write(
            "DELETE FROM runs WHERE user_id = %s AND finished_at < %s",
            (dt_out(run.finished_at - RUNS_KEPT, "finished_at"),),
        )
        self._write(
            "INSERT INTO runs (user_id, started_at, finished_at, outcome, error, counts,"
            " warnings) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                dt_out(run.started_at, "started_at"),
                dt_out(run.finished_at, "finished_at"),
                str(run.outcome),
                run.error,
                json_text(dict(run.counts)),
                json_text(list(run.warnings)),
            ),
        )

    def runs(self, since: datetime) -> list[RunRecord]:
        rows = self._rows(
            "SELECT started_at, finished_at, outcome, error, counts, warnings FROM runs"
            " WHERE user_id = %s AND finished_at >= %s ORDER BY finished_at, id",
            (dt_out(since, "since"),),
        )
        return [
            RunRecord(
                started_at=started,
                finished_at=finished,
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
        row = self._one(_SELECT_REVIEWS + " AND key = %s", (item.key,))
        item = merge_review(None if row is None else _review_of(row), item)
        self._write(_UPSERT_REVIEW, _review_row(item))

    def delete_review(self, key: str) -> None:
        self._write("DELETE FROM reviews WHERE user_id = %s AND key = %s", (key,))

    def reviews(self) -> list[ReviewItem]:
        return [_review_of(row) for row in self._rows(_SELECT_REVIEWS + " ORDER BY start, key")]

    def mark_reported(self, keys: Sequence[str], at: datetime) -> None:
        when = dt_out(at, "at")
        self._check_write()
        # user_id comes first in `_write`'s parameters, so this one is spelled out
        self._conn.execute(
            "UPDATE reviews SET reported_at = %s WHERE user_id = %s AND key = ANY(%s)",
            (when, self._user, list(keys)),
        )

    def put_week_load(self, days: Sequence[DayLoadRecord]) -> None:
        self._write("DELETE FROM week_load WHERE user_id = %s")
        self._write_many(
            "INSERT INTO week_load (user_id, day, meeting_minutes, meeting_count)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (user_id, day) DO UPDATE SET"
            " meeting_minutes = excluded.meeting_minutes,"
            " meeting_count = excluded.meeting_count",
            [(d.day, float(d.meeting_minutes), d.meeting_count) for d in days],
        )

    def week_load(self) -> list[DayLoadRecord]:
        rows = self._rows(
            "SELECT day, meeting_minutes, meeting_count FROM week_load WHERE user_id = %s"
            " ORDER BY day"
        )
        return [DayLoadRecord(day, float(minutes), int(count)) for day, minutes, count in rows]

    def holds(self) -> list[HoldRecord]:
        rows = self._rows(
            'SELECT key, event_id, client, start, "end" FROM holds WHERE user_id = %s'
            " ORDER BY start, key"
        )
        return [HoldRecord(*row) for row in rows]

    def put_holds(self, key: str, holds: Sequence[HoldRecord]) -> None:
        self._check_write()
        checked = check_holds(key, holds)
        self._write("DELETE FROM holds WHERE user_id = %s AND key = %s", (key,))
        self._write_many(
            'INSERT INTO holds (user_id, key, start, "end", event_id, client)'
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [(key, h.start, h.end, h.event_id, h.client) for h in checked],
        )

    def get_meta(self, name: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE user_id = %s AND name = %s", (name,))
        return None if row is None else str(row[0])

    def put_meta(self, name: str, value: str) -> None:
        self._write(
            "INSERT INTO meta (user_id, name, value) VALUES (%s, %s, %s)"
            " ON CONFLICT (user_id, name) DO UPDATE SET value = excluded.value",
            (name, value),
        )


def _outcome(text: str) -> RunOutcome:
    """A stored outcome this version does not know (a newer calbot wrote it) is a failed
    run, so the digest still reports it with a fix."""
    try:
        return RunOutcome(text)
    except ValueError:
        return RunOutcome.FAILED
