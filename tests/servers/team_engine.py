"""The team engine's test rig: users on the many-user fake Google, a team config, real
`celery -A calbot.team worker` / `beat` processes (`celery_procs`), and what they did (rows
in PostgreSQL, JSON lines in their logs, messages in Redis)."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import redis
from builders import next_tuesday
from fakes.team import TeamFakeGoogle

from calbot.cli.main import main
from calbot.team.pg_store import connect
from calbot.team.pg_users import add_user
from servers.celery_procs import CeleryProcess, wait_for

TZ = ZoneInfo("Europe/Berlin")
WRITES = ("gmail.drafts.create", "gmail.drafts.update", "gmail.drafts.delete")
ROUND_SECONDS = 150.0


def team_defaults(retry_budget_seconds: int = 20) -> str:
    """The team config's `[defaults]` every team rig uses: Google, Gmail drafts, Acme as the
    client; only how long a scan retries differs between them."""
    return f"""
[defaults.user]
timezone = "Europe/Berlin"
own_domains = ["agency.example"]

[defaults.source]
kind = "google"
calendars = ["primary"]

[defaults.outputs]
gmail_drafts = true
outbox = ""

[defaults.limits]
retry_budget_seconds = {retry_budget_seconds}
lock_wait_seconds = 1

[[defaults.clients]]
name = "Acme"
domains = ["acme.example"]
"""


DEFAULTS = team_defaults()


def overload(
    fake: TeamFakeGoogle,
    email: str,
    *,
    organizer: tuple[str, str] = ("ana@acme.example", "Ana Acme"),
    title: str = "Acme sync",
) -> None:
    """Five one-hour meetings next Tuesday organized by `organizer` (address, name): an
    overloaded day (over the defaults' max_meetings_per_day of 4), drafts to make."""
    day = next_tuesday()
    who, name = organizer
    with fake.as_user(email):
        for hour in (9, 10, 11, 13, 14):
            start = datetime(day.year, day.month, day.day, hour, tzinfo=TZ)
            fake.add_event(
                summary=f"{title} {hour}",
                description="Agenda: the plan.",
                start={"dateTime": start.isoformat()},
                end={"dateTime": (start + timedelta(hours=1)).isoformat()},
                organizer={"email": who, "displayName": name},
                attendees=[
                    {"email": who, "organizer": True, "responseStatus": "accepted"},
                    {"email": email, "self": True, "responseStatus": "accepted"},
                ],
            )


@dataclass
class Engine:
    fake: TeamFakeGoogle
    folder: Path
    config: Path
    url: str
    redis_url: str
    env: dict[str, str]
    secrets: tuple[str, ...]
    users: list[str] = field(default_factory=list)
    procs: list[CeleryProcess] = field(default_factory=list)

    def tune(self, visibility_timeout: float = 15, extra: str = "") -> None:
        """Change the team config before the processes start (they read it at start)."""
        text = self.config.read_text(encoding="utf-8")
        text = re.sub(
            r"visibility_timeout_seconds = \S+",
            f"visibility_timeout_seconds = {visibility_timeout}",
            text,
        )
        self.config.write_text(text + extra, encoding="utf-8")

    def add_users(self, count: int, extra: str = "") -> None:
        conn = connect(self.url)
        try:
            for i in range(len(self.users), len(self.users) + count):
                email = f"u{i:03d}@agency.example"
                overload(self.fake, email)
                add_user(conn, email, f'[user]\nemail = "{email}"\nname = "U {i}"\n{extra}')
                self.users.append(email)
        finally:
            conn.close()

    def worker(self, name: str, concurrency: int = 2) -> CeleryProcess:
        args = ["worker", "--pool=prefork", "-c", str(concurrency), "-n", f"{name}@%h"]
        args += ["--loglevel=INFO", "--without-gossip", "--without-mingle"]
        proc = CeleryProcess(name, args, self.folder / name, self.env).start()
        self.procs.append(proc)
        wait_for(f"{name} ready", proc.ready, 60)
        return proc

    def beat(self, name: str = "beat") -> CeleryProcess:
        args = ["beat", "--loglevel=INFO", "--schedule", str(self.folder / f"{name}-schedule")]
        proc = CeleryProcess(name, args, self.folder / name, self.env).start()
        self.procs.append(proc)
        return proc

    def rows(self) -> dict[str, dict[str, Any]]:
        conn = connect(self.url)
        try:
            rows = conn.execute(
                "SELECT email, last_scan_at, last_outcome, next_scan_at, next_digest_at FROM users"
            ).fetchall()
        finally:
            conn.close()
        return {
            r[0]: {"last": r[1], "outcome": r[2], "next_scan": r[3], "next_digest": r[4]}
            for r in rows
        }

    def due_now(self) -> datetime:
        """Start a round: every user due now (the time the round starts)."""
        conn = connect(self.url)
        try:
            now = conn.execute("SELECT now()").fetchone()[0]
            conn.execute("UPDATE users SET next_scan_at = now()")
        finally:
            conn.close()
        return now  # type: ignore[no-any-return]

    def pending_creates(self) -> dict[str, int]:
        """Users with draft creates whose outcome calbot never heard (a kill between its
        intent and Gmail's answer): how many each."""
        conn = connect(self.url)
        try:
            rows = conn.execute(
                "SELECT u.email, count(*) FROM pending_creates p JOIN users u ON u.id = p.user_id"
                " GROUP BY u.email"
            ).fetchall()
        finally:
            conn.close()
        return {r[0]: r[1] for r in rows}

    def age_pending_creates(self, by: timedelta) -> None:
        """Move every pending create `by` into the past (as if that much time went by)."""
        conn = connect(self.url)
        try:
            conn.execute("UPDATE pending_creates SET started_at = started_at - %s", (by,))
        finally:
            conn.close()

    def round_done(self, since: datetime, users: list[str] | None = None) -> bool:
        rows = self.rows()
        return all(
            rows[u]["last"] is not None and rows[u]["last"] >= since for u in users or self.users
        )

    def scans(self) -> list[dict[str, Any]]:
        return [d for p in self.procs for d in p.task_lines() if d.get("kind") == "scan"]

    def queued(self) -> list[tuple[str, dict[str, Any]]]:
        """Every task message in Redis (queued, or taken and not yet acknowledged): its raw
        text and its decoded body ([args, kwargs, embed])."""
        client = redis.Redis.from_url(self.redis_url, decode_responses=True)
        raw: list[str] = []
        try:
            for key in client.keys("*"):
                kind = client.type(key)
                if kind == "list":
                    raw += [str(v) for v in client.lrange(key, 0, -1)]
                elif kind == "hash":
                    raw += [str(v) for v in client.hvals(key)]
        finally:
            client.close()
        found = []
        for text in raw:
            try:
                doc = json.loads(text)
            except ValueError:
                continue
            message = doc[0] if isinstance(doc, list) else doc  # unacked: [message, ex, rk]
            if not isinstance(message, dict) or "body" not in message:
                continue
            body = message["body"]
            if message.get("properties", {}).get("body_encoding") == "base64":
                body = base64.b64decode(body).decode()
            found.append((text + body, {"task": message["headers"]["task"], "body": body}))
        return found

    def check_no_secrets(self) -> None:
        with self.fake._lock:
            issued = [*self.fake.token_subjects, *self.fake.refresh_owners]
        texts = [p.text() for p in self.procs] + [text for text, _ in self.queued()]
        for text in texts:
            for secret in (*self.secrets, *issued):
                assert secret not in text


def single_user_drafts(engine: Engine, email: str, tmp_path: Path) -> int:
    """How many drafts `calbot scan` (SQLite, the user's own token) would make for `email`
    with the same merged config (a dry run: nothing written)."""
    token = tmp_path / "single-token.json"
    engine.fake.write_user_token(email, token, ["calendar.events", "gmail.compose"])
    user_defaults, rest = DEFAULTS.split("[defaults.source]")
    config = tmp_path / "single.toml"
    config.write_text(
        user_defaults.replace("[defaults.user]", f'[user]\nemail = "{email}"\nname = "U"')
        + ("[source]" + rest).replace("[defaults.", "[").replace("[[defaults.", "[[")
        + f'\n[google]\napi_root = "{engine.fake.root}"\ntoken_file = "{token}"\n',
        encoding="utf-8",
    )
    out = io.StringIO()
    old = os.environ.get("CALBOT_STATE_DIR")
    os.environ["CALBOT_STATE_DIR"] = str(tmp_path / "single-state")
    try:
        assert main(["scan", "--config", str(config), "--json", "--dry-run"], out=out) == 0
    finally:
        if old is None:
            del os.environ["CALBOT_STATE_DIR"]
        else:
            os.environ["CALBOT_STATE_DIR"] = old
    return sum(1 for m in json.loads(out.getvalue())["meetings"] if m["draft"])


def drafts_per_user(engine: Engine) -> dict[str, int]:
    return {u: len(engine.fake.drafts_of(u)) for u in engine.users}


def digest_drafts(fake: TeamFakeGoogle, email: str) -> list[str]:
    """The user's Gmail drafts that are a digest (by their per-day Message-ID)."""
    with fake.as_user(email):
        ids = list(fake.drafts)
        return [d for d in ids if fake.draft_message(d)["Message-ID"].startswith("<calbot.digest.")]
