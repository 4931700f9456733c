"""What the digest tests share (`tests/unit/test_digest_model.py`, `test_digest_command.py`,
`test_digest_gmail.py`): review items and run records on Tuesday 2 December 2025 in Berlin, the
digest built from them, `calbot digest` through its own parser, and a state store filled with
them."""

from __future__ import annotations

import argparse
import io
import stat
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from calbot.adapters.sqlite import SqliteStore
from calbot.cli.digest import add_digest_command
from calbot.config.settings import Settings
from calbot.core.digest import Digest, build_digest
from calbot.core.records import DayLoadRecord, ReviewItem, RunRecord
from calbot.core.settings import Thresholds, UserSettings
from calbot.core.vocab import RunOutcome

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 12, 2, 7, 30, tzinfo=TZ)  # a Tuesday
LAST = NOW - timedelta(days=1)
ME = "me@example.com"


def settings(lang: str = "en", **kw: Any) -> Settings:
    return Settings(
        user=UserSettings(email=ME, name="Me Myself", timezone="Europe/Berlin", language=lang),
        thresholds=Thresholds(max_meeting_hours_per_day=4, max_meetings_per_day=4),
        **kw,
    )


def review(key: str, start: datetime, **kw: Any) -> ReviewItem:
    fields: dict[str, Any] = {
        "key": key,
        "client": "Acme",
        "summary": f"Acme sync {key}",
        "start": start,
        "end": start + timedelta(hours=1),
        "action": "reschedule",
        "reason": "Tue has 6.5 h of meetings, limit 4 h",
        "event_link": f"https://www.google.com/calendar/event?eid={key}",
        "drafts": {"outbox": f"calbot-{key}.eml"},
        "saved_minutes": 60,
        "status": "new",
        "drafted_at": NOW - timedelta(hours=3),
        "reported_at": None,
    }
    fields.update(kw)
    return ReviewItem(**fields)


def run(hours_ago: float, outcome: str = "ok", **kw: Any) -> RunRecord:
    end = NOW - timedelta(hours=hours_ago)
    return RunRecord(
        started_at=end - timedelta(seconds=5), finished_at=end, outcome=RunOutcome(outcome), **kw
    )


def digest(
    reviews: list[ReviewItem] = (),  # type: ignore[assignment]
    runs: list[RunRecord] = (),  # type: ignore[assignment]
    load: list[DayLoadRecord] = (),  # type: ignore[assignment]
    lang: str = "en",
    **kw: Any,
) -> Digest:
    kw.setdefault("since", LAST)
    return build_digest(reviews, runs, load, settings(lang), NOW, **kw)


def digest_cli(config: Path, *extra: str) -> str:
    """`calbot digest ...` through the command's own parser (what `cli.main` wires in)."""
    parser = argparse.ArgumentParser(prog="calbot")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config")
    add_digest_command(parser.add_subparsers(dest="command", required=True), common)
    args = parser.parse_args(["digest", "--config", str(config), *extra])
    out = io.StringIO()
    assert args.run(args, out) == 0
    return out.getvalue()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def fill_store(state: Path, reviews: list[ReviewItem], runs: list[RunRecord] = ()) -> None:  # type: ignore[assignment]
    store = SqliteStore.open(state)
    with store.transaction():
        for r in reviews:
            store.put_review(r)
        for logged in runs:
            store.add_run(logged)
        store.put_week_load([DayLoadRecord(datetime.now(TZ).date(), 390, 6)])
    store.close()


def soon(hours: float) -> datetime:
    return datetime.now(TZ) + timedelta(hours=hours)
