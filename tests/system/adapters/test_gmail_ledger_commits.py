"""One ledger commit a Gmail draft (issue 12): a draft's rows (its pending create resolved,
its sink record) commit together with the next draft's pending create, still before that
draft's `drafts.create` goes out; the last draft's rows commit alone. Fails if the rows go
back to a commit of their own, or if any create goes out before the commit of all before
it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from builders import google_toml

from calbot.adapters.sqlite import SqliteStore
from calbot.cli.main import main

TZ = ZoneInfo("Europe/Berlin")


def test_each_draft_costs_one_commit_and_creates_follow_their_commits(
    google: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    google.user_email = "me@example.com"
    token = tmp_path / "token.json"
    google.write_token(token, ["calendar.events", "gmail.compose"])
    config = tmp_path / "calbot.toml"
    config.write_text(
        google_toml(google.root, token, tmp_path / "client_secret.json")
        + """
[outputs]
gmail_drafts = true
calendar_notes = false
outbox = ""

[thresholds]
act_at = 1

[[clients]]
name = "Acme"
domains = ["acme.example"]
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "state"))
    day = datetime.now(TZ).date() + timedelta(days=2)
    for n in range(4):
        start = datetime(day.year, day.month, day.day, 9 + 2 * n, tzinfo=TZ)
        google.add_event(
            summary=f"Acme sync {n}",
            start={"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
            end={"dateTime": (start + timedelta(minutes=90)).isoformat()},
            organizer={"email": "ana@acme.example"},
            attendees=[
                {"email": "ana@acme.example", "organizer": True, "responseStatus": "accepted"},
                {"email": "me@example.com", "self": True, "responseStatus": "accepted"},
            ],
        )

    # each ledger commit: (drafts.create sent before it, pending creates put, records put)
    commits: list[tuple[int, int, int]] = []
    writes = {"pending": 0, "records": 0}
    put_pending, put_record = SqliteStore.put_pending_create, SqliteStore.put_sink_record
    transaction = SqliteStore.transaction

    def counting_pending(self: SqliteStore, *args: Any) -> None:
        writes["pending"] += 1
        put_pending(self, *args)

    def counting_record(self: SqliteStore, *args: Any) -> None:
        writes["records"] += 1
        put_record(self, *args)

    @contextmanager
    def watched(self: SqliteStore) -> Iterator[None]:
        writes.update(pending=0, records=0)
        with transaction(self):
            yield
        if writes["pending"] or writes["records"]:
            made = google.count("gmail.drafts.create")
            commits.append((made, writes["pending"], writes["records"]))

    monkeypatch.setattr(SqliteStore, "put_pending_create", counting_pending)
    monkeypatch.setattr(SqliteStore, "put_sink_record", counting_record)
    monkeypatch.setattr(SqliteStore, "transaction", watched)

    out = io.StringIO()
    assert main(["scan", "--config", str(config), "--json"], out=out) == 0
    drafted = [m for m in json.loads(out.getvalue())["meetings"] if m["draft"]]
    n = len(drafted)
    assert n >= 3 and google.count("gmail.drafts.create") == n
    # the first intent alone; each later one with the rows of the draft before; the last
    # draft's rows alone: n + 1 commits, each before the create it announces
    assert commits == [(0, 1, 0)] + [(i, 1, 1) for i in range(1, n)] + [(n, 0, 1)]
