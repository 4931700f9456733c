"""What the durability tests (`tests/system/durability/`) share: `calbot scan` subprocesses
and the waits, the state file as a fresh process reads it, a Google account with an overloaded
Tuesday next week, a hold on the fake's answer, and the changes made to a meeting."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from builders import google_time, google_toml, next_weekday

TZ = ZoneInfo("Europe/Berlin")
SCOPES = ["calendar.events", "gmail.compose"]
DEADLINE = 30.0  # seconds any one wait may take before the test fails


# --- processes ----------------------------------------------------------------------------


def start(config: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "calbot", "scan", "--config", str(config), "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=config.parent,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, dict[str, Any], str]:
    out, err = proc.communicate(timeout=DEADLINE)
    doc = json.loads(out) if proc.returncode == 0 else {}
    return proc.returncode, doc, err


def scan(config: Path, env: dict[str, str]) -> dict[str, Any]:
    code, doc, err = finish(start(config, env))
    assert code == 0, err
    return doc


def kill(proc: subprocess.Popen[str]) -> int:
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=DEADLINE)
    return proc.returncode


def wait_for(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.005)


def integrity(state_dir: Path) -> str:
    """`PRAGMA integrity_check` of the state file, as a fresh process would open it after a
    crash (the WAL is replayed)."""
    conn = sqlite3.connect(state_dir / "state.sqlite3")
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def sink_records(state_dir: Path, sink: str) -> dict[str, str]:
    """key → ref of the state's draft ledger for one sink."""
    conn = sqlite3.connect(state_dir / "state.sqlite3")
    try:
        rows = conn.execute("SELECT key, ref FROM sink_records WHERE sink = ?", (sink,))
        return dict(rows.fetchall())
    finally:
        conn.close()


def drafted(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in doc["meetings"] if m["draft"]]


# --- the fake Google account --------------------------------------------------------------


def people(*emails: str) -> list[dict[str, Any]]:
    guests: list[dict[str, Any]] = [
        {"email": emails[0], "organizer": True, "responseStatus": "accepted"}
    ]
    guests += [{"email": e, "responseStatus": "accepted"} for e in emails[1:]]
    guests.append({"email": "me@example.com", "self": True, "responseStatus": "accepted"})
    return guests


class Account:
    """A Google user with an overloaded Tuesday next week: five one-hour in-person meetings
    with Acme, each answered with a draft."""

    def __init__(self, google: Any, tmp: Path, *, lock_wait: float = 1) -> None:
        self.google = google
        self.dir = tmp
        self.day = next_weekday(1)
        self.state = tmp / "state"
        self.config = tmp / "calbot.toml"
        token = tmp / "token.json"
        google.user_email = "me@example.com"
        google.write_token(token, SCOPES)
        self.config.write_text(
            google_toml(google.root, token, tmp / "client_secret.json")
            + f"""
[outputs]
gmail_drafts = true
calendar_notes = true
outbox = ""

[limits]
retry_budget_seconds = 20
lock_wait_seconds = {lock_wait}

[[clients]]
name = "Acme"
domains = ["acme.example"]
timezone = "Europe/London"
""",
            encoding="utf-8",
        )
        self.env = dict(os.environ, CALBOT_STATE_DIR=str(self.state))
        self.env.pop("CALBOT_CONFIG", None)
        self.ids = [
            google.add_event(
                summary=f"Acme sync {hour}",
                description="Agenda: the plan.",
                location="Acme office, Room 1",
                start=google_time(self.day, hour),
                end=google_time(self.day, hour + 1),
                organizer={"email": "ana@acme.example", "displayName": "Ana"},
                attendees=people("ana@acme.example"),
            )["id"]
            for hour in (9, 10, 11, 13, 14)
        ]

    def scan(self) -> dict[str, Any]:
        return scan(self.config, self.env)

    def start(self) -> subprocess.Popen[str]:
        return start(self.config, self.env)

    def message_ids(self) -> Counter[str]:
        """How many Gmail drafts carry each Message-ID."""
        return Counter(str(self.google.draft_message(d)["Message-ID"]) for d in self.drafts())

    def drafts(self) -> list[str]:
        with self.google._lock:
            return list(self.google.drafts)

    def writes(self) -> Counter[str]:
        routes = (
            "gmail.drafts.create",
            "gmail.drafts.update",
            "gmail.drafts.delete",
            "calendar.events.patch",
        )
        return Counter({r: self.google.count(r) for r in routes if self.google.count(r)})

    def assert_one_draft_per_meeting(self, doc: dict[str, Any]) -> None:
        acted = drafted(doc)
        assert acted, "nothing drafted: the scenario lost its point"
        ids = [m["draft"]["gmail_draft_id"] for m in acted]
        assert len(set(ids)) == len(ids)
        assert sorted(ids) == sorted(self.drafts()), "a Gmail draft no meeting owns"
        dupes = {mid: n for mid, n in self.message_ids().items() if n > 1}
        assert not dupes, f"duplicate drafts: {dupes}"
        assert integrity(self.state) == "ok"
        assert sorted(sink_records(self.state, "gmail").values()) == sorted(ids)


class Hold:
    """Hold the fake server's answer to the `nth` request matching (method, path suffix)
    *after* the server has carried it out: the draft exists at "Google", but calbot has not
    heard back, so it cannot have recorded it. Released by `release()` (or after 60 s)."""

    def __init__(self, google: Any, method: str, suffix: str, nth: int) -> None:
        self.reached = threading.Event()
        self._release = threading.Event()
        self._seen = 0
        self._lock = threading.Lock()
        handle = google._handle

        def held(method_: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Any:
            reply = handle(method_, raw_path, headers, raw)
            if method_ == method and urlsplit(raw_path).path.endswith(suffix):
                with self._lock:
                    self._seen += 1
                    mine = self._seen == nth
                if mine:
                    self.reached.set()
                    self._release.wait(60)
            return reply

        google._handle = held  # the instance attribute wins over the method

    def release(self) -> None:
        self._release.set()


def status_of(doc: dict[str, Any], event_id: str) -> dict[str, Any]:
    meeting = next(m for m in doc["meetings"] if m["event_id"] == event_id)
    assert meeting["draft"], f"{event_id}: no draft ({meeting['action']})"
    return meeting["draft"]


def shorten(a: Any, eid: str) -> None:
    """End the meeting 15 minutes after its own start."""
    start = datetime.fromisoformat(a.google.event("primary", eid)["start"]["dateTime"])
    end = (start + timedelta(minutes=15)).isoformat()
    a.google.update_event("primary", eid, end={"dateTime": end, "timeZone": "Europe/Berlin"})


CHANGES: dict[str, Callable[[Account, str], None]] = {
    "moved": lambda a, eid: a.google.update_event(
        "primary", eid, start=google_time(a.day, 8, 30), end=google_time(a.day, 9, 30)
    ),
    "shortened": lambda a, eid: shorten(a, eid),
    "relocated": lambda a, eid: a.google.update_event("primary", eid, location="Cafe Einstein"),
    "attendees changed": lambda a, eid: a.google.update_event(
        "primary", eid, attendees=people("ana@acme.example", "bo@acme.example")
    ),
}
