"""What the fault matrix (`tests/system/faults/`) shares: a Google account with an overloaded
Tuesday next week, the scans run against it, and the checks every case makes (no duplicate
draft, sound state, recovery once the fault is gone)."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from builders import google_time, google_toml, next_tuesday

from calbot.cli.main import main

TZ = ZoneInfo("Europe/Berlin")
SCOPES = ["calendar.events", "gmail.compose"]
FULL, INCREMENTAL = "full", "incremental"
KINDS = (FULL, INCREMENTAL)
DEADLINE = 30.0
HOURS = (9, 10, 11, 13, 14)  # five in-person client meetings: five `call` drafts
NEW_DRAFTS = {"full": len(HOURS), "incremental": 1}  # drafts.create a faulted scan needs


def guests() -> list[dict[str, Any]]:
    return [
        {"email": "ana@acme.example", "organizer": True, "responseStatus": "accepted"},
        {"email": "me@example.com", "self": True, "responseStatus": "accepted"},
    ]


@dataclass
class Run:
    code: int
    doc: dict[str, Any]
    err: str


class Account:
    """A Google user with an overloaded Tuesday next week: five one-hour in-person meetings
    with Acme, each answered with a `call` draft and a calendar note."""

    def __init__(self, google: Any, tmp: Path, capsys: Any) -> None:
        self.google, self.dir, self.capsys = google, tmp, capsys
        self.day = next_tuesday()
        self.state = tmp / "state"
        self.token = tmp / "token.json"
        self.config = tmp / "calbot.toml"
        google.user_email = "me@example.com"
        google.write_token(self.token, SCOPES)
        self.configure()
        self.ids = [self.add_meeting(hour) for hour in HOURS]

    def configure(self, *, budget: float = 3, timeout: float = 30) -> None:
        self.config.write_text(
            google_toml(self.google.root, self.token, self.dir / "client_secret.json")
            + f"""
[outputs]
gmail_drafts = true
calendar_notes = true
outbox = ""

[limits]
retry_budget_seconds = {budget}
http_timeout_seconds = {timeout}
lock_wait_seconds = 1

[[clients]]
name = "Acme"
domains = ["acme.example"]
timezone = "Europe/London"
""",
            encoding="utf-8",
        )

    def add_meeting(self, hour: int, title: str = "Acme sync") -> str:
        return str(
            self.google.add_event(
                summary=f"{title} {hour}",
                description="Agenda: the plan.",
                location="Acme office, Room 1",
                start=google_time(self.day, hour),
                end=google_time(self.day, hour + 1),
                organizer={"email": "ana@acme.example", "displayName": "Ana"},
                attendees=guests(),
            )["id"]
        )

    # --- scans ---

    def scan(self) -> Run:
        """`calbot scan --json` in this process; stderr captured."""
        self.capsys.readouterr()
        out = io.StringIO()
        code = main(["scan", "--config", str(self.config), "--json"], out=out)
        doc = json.loads(out.getvalue()) if code == 0 else {}
        return Run(code, doc, self.capsys.readouterr().err)

    def env(self) -> dict[str, str]:
        env = dict(os.environ, CALBOT_STATE_DIR=str(self.state))
        env.pop("CALBOT_CONFIG", None)
        return env

    def start(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "calbot", "scan", "--config", str(self.config), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
            cwd=self.dir,
        )

    # --- what Google and the state hold ---

    def drafts(self) -> list[str]:
        with self.google._lock:
            return list(self.google.drafts)

    def message_ids(self) -> Counter[str]:
        return Counter(str(self.google.draft_message(d)["Message-ID"]) for d in self.drafts())

    def ledger(self) -> dict[str, str]:
        """key → Gmail draft id, as the state store records them."""
        path = self.state / "state.sqlite3"
        if not path.exists():
            return {}
        conn = sqlite3.connect(path)
        try:
            rows = conn.execute("SELECT key, ref FROM sink_records WHERE sink = 'gmail'")
            return dict(rows.fetchall())
        finally:
            conn.close()

    def integrity(self) -> str:
        path = self.state / "state.sqlite3"
        if not path.exists():
            return "ok (no state yet)"
        conn = sqlite3.connect(path)
        try:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
        finally:
            conn.close()

    def writes(self) -> int:
        routes = ("gmail.drafts.create", "gmail.drafts.update", "gmail.drafts.delete")
        return sum(self.google.count(r) for r in (*routes, "calendar.events.patch"))

    def heal(self) -> None:
        """The fault is gone: nothing scripted is left, and access is granted again."""
        self.google.clear_faults()
        with self.google._lock:
            revoked = bool(self.google._revoked)
        if revoked:  # the user ran `calbot auth`
            self.google.write_token(self.token, SCOPES)
        self.configure()


# --- the checks every case makes ------------------------------------------------------------


def drafted(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in doc.get("meetings", []) if m["draft"]]


def assert_no_duplicates(account: Account) -> None:
    dupes = {mid: n for mid, n in account.message_ids().items() if n > 1}
    assert not dupes, f"duplicate drafts: {dupes}"


def assert_sound(account: Account, ledger_before: dict[str, str], unrecorded: int = 0) -> None:
    """After the faulted scan: no duplicate, state intact, no row lost or repointed, no
    stray draft — but `unrecorded`: drafts Gmail made whose answer calbot never had (the
    next scan must adopt them)."""
    assert_no_duplicates(account)
    assert account.integrity().startswith("ok")
    ledger = account.ledger()
    lost = {k: (v, ledger.get(k)) for k, v in ledger_before.items() if ledger.get(k) != v}
    assert not lost, f"ledger rows lost or pointing elsewhere (before, after): {lost}"
    stray = set(account.drafts()) - set(ledger.values())
    assert len(stray) == unrecorded, f"Gmail drafts the ledger does not know: {stray}"


def assert_recovers(
    account: Account, meetings: int, *, completed: bool = False, creates: int | None = None
) -> Run:
    """The fault gone, the next scan finishes the job alone; the one after writes nothing.
    `completed`: the faulted scan finished its work, so the next one must write nothing.
    `creates`: how many drafts.create the next scan may send (the rest are adopted)."""
    account.heal()
    account.google.clear_log()
    run = account.scan()
    assert run.code == 0, run.err
    if creates is not None:
        assert account.google.count("gmail.drafts.create") == creates
    acted = drafted(run.doc)
    assert len(acted) == meetings, [m["summary"] for m in acted]
    ids = sorted(m["draft"]["gmail_draft_id"] for m in acted)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(account.drafts()), "a Gmail draft no meeting owns"
    assert ids == sorted(account.ledger().values())
    assert_no_duplicates(account)
    assert account.integrity() == "ok"
    for m in acted:  # every note is on the calendar, pointing at its draft
        note = account.google.event("primary", m["event_id"])["extendedProperties"]["private"]
        assert note["calbot_draft"] == m["draft"]["gmail_draft_id"]
    if not completed:
        account.google.clear_log()
        again = account.scan()
        assert again.code == 0, again.err
    assert account.writes() == 0
    return run


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    return lines[0]


def prepare(account: Account, kind: str) -> tuple[int, dict[str, str]]:
    """Bring the account to the scan the fault will hit. Full: nothing yet. Incremental: a
    clean first scan, then a change that needs writes (a sixth meeting: a new draft and a
    note; a moved meeting: an updated draft and note). Returns (meetings that end up drafted,
    the ledger before the faulted scan)."""
    if kind == FULL:
        return len(HOURS), {}
    first = account.scan()
    assert first.code == 0, first.err
    assert len(drafted(first.doc)) == len(HOURS)
    account.add_meeting(15, "Acme extra")
    account.google.update_event(
        "primary",
        account.ids[1],
        start=google_time(account.day, 10, 30),
        end=google_time(account.day, 11, 30),
    )
    return len(HOURS) + 1, account.ledger()


def needs_refresh(account: Account, route: str) -> None:
    """A fault on the token endpoint needs a refresh in that scan: every access token
    issued so far stops working (the API answers 401, google-auth refreshes)."""
    if route == "oauth.token":
        account.google.expire_access_tokens()


def outcome_of(run: Run, note: str = "") -> str:
    if run.code == 0:
        text = f"exit 0, {len(drafted(run.doc))} drafts"
        if run.doc.get("warnings"):
            text += f", {len(run.doc['warnings'])} warning(s)"
    else:
        first = run.err.strip().splitlines()[0] if run.err.strip() else ""
        text = f"exit {run.code}: {first[:70].rstrip('; ')}"
    return text + (f"; {note}" if note else "")
