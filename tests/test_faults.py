"""The fault matrix (issue 5, SPEC §2, §5, §6, §9): every fault Google can throw at a scan,
during a full scan (the first) and during an incremental scan (the second), against the
fake Google server with the real googleapiclient and google-auth over HTTP.

For each case the faulted scan either completes (exit 0) or stops with a one-line cause on
stderr and SPEC §2's exit code (3: access expired/revoked/lacking a scope, 4: Google still
failing after retries). Then, whatever happened: no duplicate draft (one Gmail draft per
Message-ID, every draft owned by the ledger), the state file passes `PRAGMA
integrity_check` and keeps its ledger rows, and the next scan with the fault gone recovers
by itself (exit 0, every meeting drafted once) — and the one after that writes nothing.

Each case adds a row (fault, scan kind, expected, outcome) to the table pytest prints at
the end (`fault_matrix` fixture, tests/fakes/plugin.py). Run: `pytest tests/test_faults.py
-rA`. docs/reliability.md explains the matrix.

Real sleeping is kept short: Retry-After 0.05-0.25 s, `[limits] retry_budget_seconds`
1-3 s, `http_timeout_seconds = 0.5` with 0.9 s slow answers, and the back-off's jitter
pinned to 0.1 of its cap (`connect(rand=...)`; the sleeps themselves are real).
"""

from __future__ import annotations

import contextlib
import io
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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from calbot.cli import main

TZ = ZoneInfo("Europe/Berlin")
SCOPES = ["calendar.events", "gmail.compose"]
FULL, INCREMENTAL = "full", "incremental"
KINDS = (FULL, INCREMENTAL)
ROUTES = (
    "calendar.events.list",
    "gmail.drafts.list",
    "gmail.drafts.create",
    "calendar.events.patch",
    "oauth.token",
)
API_ROUTES = ROUTES[:-1]
DEADLINE = 30.0
HOURS = (9, 10, 11, 13, 14)  # five in-person client meetings: five `call` drafts


# --- the account --------------------------------------------------------------------------


def next_tuesday() -> date:
    today = datetime.now(TZ).date()
    return today + timedelta(days=7 - today.weekday() + 1)


def stamp(day: date, hh: int, mm: int = 0) -> dict[str, str]:
    return {
        "dateTime": datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ).isoformat(),
        "timeZone": "Europe/Berlin",
    }


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
            f"""
[user]
email = "me@example.com"
name = "Me Myself"
timezone = "Europe/Berlin"
own_domains = ["example.com"]

[source]
kind = "google"
calendars = ["primary"]

[google]
api_root = "{self.google.root}"
token_file = "{self.token}"
client_secret_file = "{self.dir / "client_secret.json"}"

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
                start=stamp(self.day, hour),
                end=stamp(self.day, hour + 1),
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
        with self.google._lock:
            self.google._faults.clear()
            self.google._delays.clear()
            self.google._resets.clear()
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


def assert_sound(account: Account, ledger_before: dict[str, str]) -> None:
    """After the faulted scan: no duplicate, state intact, no row lost, no stray draft."""
    assert_no_duplicates(account)
    assert account.integrity().startswith("ok")
    ledger = account.ledger()
    lost = {k: v for k, v in ledger_before.items() if k not in ledger}
    assert not lost, f"ledger rows lost: {lost}"
    stray = set(account.drafts()) - set(ledger.values())
    assert not stray, f"Gmail drafts the ledger does not know: {stray}"


def assert_recovers(account: Account, meetings: int, *, completed: bool = False) -> Run:
    """The fault gone, the next scan finishes the job alone; the one after writes nothing.
    `completed`: the faulted scan finished its work, so the next one must write nothing."""
    account.heal()
    account.google.clear_log()
    run = account.scan()
    assert run.code == 0, run.err
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
        start=stamp(account.day, 10, 30),
        end=stamp(account.day, 11, 30),
    )
    return len(HOURS) + 1, account.ledger()


def needs_refresh(account: Account, route: str) -> None:
    """A fault on the token endpoint needs a refresh in that scan: every access token
    issued so far stops working (the API answers 401, google-auth refreshes)."""
    if route == "oauth.token":
        account.google.expire_access_tokens()


@pytest.fixture
def account(google, tmp_path, monkeypatch, capsys) -> Account:
    from calbot.adapters import google_api

    real_connect = google_api.connect
    monkeypatch.setattr(  # jitter pinned low: back-off sleeps stay short and repeatable
        google_api, "connect", lambda settings: real_connect(settings, rand=lambda: 0.1)
    )
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("CALBOT_CONFIG", raising=False)
    return Account(google, tmp_path, capsys)


def outcome_of(run: Run, note: str = "") -> str:
    if run.code == 0:
        text = f"exit 0, {len(drafted(run.doc))} drafts"
        if run.doc.get("warnings"):
            text += f", {len(run.doc['warnings'])} warning(s)"
    else:
        first = run.err.strip().splitlines()[0] if run.err.strip() else ""
        text = f"exit {run.code}: {first[:70]}"
    return text + (f"; {note}" if note else "")


# --- transient faults: retried and survived, or given up on with exit 4 ---------------------


@dataclass(frozen=True)
class Fault:
    name: str
    expected: str
    code: int
    inject: Callable[[Any, str], None]
    routes: tuple[str, ...] = ROUTES
    budget: float = 3
    timeout: float = 30


FAULTS = [
    Fault(
        "429 with Retry-After",
        "retried after Retry-After; exit 0",
        0,
        lambda g, r: g.fail(r, *((429,) if r == "oauth.token" else (429, 429)), retry_after=0.1),
    ),
    Fault(
        "429 without Retry-After",
        "retried with jittered back-off; exit 0",
        0,
        lambda g, r: g.fail(r, 429),
        routes=("calendar.events.list", "gmail.drafts.create", "oauth.token"),
    ),
    Fault(
        "500/502/503 within the budget",
        "retried; exit 0",
        0,
        lambda g, r: g.fail(
            r, *((503,) if r == "oauth.token" else (500, 502, 503)), retry_after=0.05
        ),
    ),
    Fault(
        "503 beyond the budget",
        "exit 4, one line",
        4,
        lambda g, r: g.fail(r, *([503] * 40), retry_after=0.25),
        budget=1,
    ),
    Fault(
        "403 rateLimitExceeded",
        "retried; exit 0",
        0,
        lambda g, r: g.fail(r, 403, reason="rateLimitExceeded"),
        routes=("calendar.events.list", "gmail.drafts.create", "calendar.events.patch"),
    ),
    Fault(
        "403 insufficientPermissions",
        "exit 3, one line naming the scope and `calbot auth`",
        3,
        lambda g, r: g.fail(r, 403, reason="insufficientPermissions"),
        routes=API_ROUTES,
    ),
    Fault(
        "connection reset (twice)",
        "retried; exit 0",
        0,
        lambda g, r: g.reset_connection(r, times=2),
        routes=("calendar.events.list", "gmail.drafts.create", "oauth.token"),
    ),
    Fault(
        "answer slower than the timeout",
        "timed out, retried; exit 0",
        0,
        lambda g, r: g.delay(r, 0.9),
        routes=(
            "calendar.events.list",
            "gmail.drafts.create",
            "calendar.events.patch",
            "oauth.token",
        ),
        timeout=0.5,
    ),
]

CASES = [
    pytest.param(f, kind, route, id=f"{f.name}-{kind}-{route}")
    for f in FAULTS
    for kind in KINDS
    for route in f.routes
]


@pytest.mark.parametrize(("fault", "kind", "route"), CASES)
def test_transient_and_refused(account, fault_matrix, fault, kind, route):
    meetings, ledger_before = prepare(account, kind)
    account.configure(budget=fault.budget, timeout=fault.timeout)
    needs_refresh(account, route)
    account.google.clear_log()
    fault.inject(account.google, route)
    run = account.scan()
    account.google.wait_idle()  # a late answer at Google lands before anything is judged
    hit = account.google.count(route)
    fault_matrix(f"{fault.name} on {route}", kind, fault.expected, outcome_of(run))

    assert hit >= 1, f"the scan never reached {route}: the case tests nothing"
    assert run.code == fault.code, run.err
    if fault.code == 0:
        assert len(drafted(run.doc)) == meetings
    else:
        line = one_line(run.err)
        assert line.startswith("calbot: ")
        if fault.code == 4:
            assert "Google still failing" in line and "try again later" in line
        if fault.code == 3:
            scope = "gmail.compose" if route.startswith("gmail.") else "calendar.events"
            assert f"https://www.googleapis.com/auth/{scope}" in line
            assert "`calbot auth`" in line
    assert_sound(account, ledger_before)
    assert_recovers(account, meetings, completed=run.code == 0)


# --- faults with their own shape --------------------------------------------------------------


def test_410_on_the_sync_token(account, fault_matrix):
    meetings, ledger_before = prepare(account, INCREMENTAL)
    account.google.expire_sync_tokens("primary")
    account.google.clear_log()
    run = account.scan()
    lists = [r.status for r in account.google.requests if r.route == "calendar.events.list"]
    fault_matrix(
        "410 fullSyncRequired on the sync token",
        INCREMENTAL,
        "one fresh full sync; exit 0",
        outcome_of(run, f"events.list {lists}"),
    )
    assert run.code == 0, run.err
    assert lists == [410, 200]
    assert len(drafted(run.doc)) == meetings
    assert account.google.count("gmail.drafts.create") == 1  # the new meeting only
    assert_sound(account, ledger_before)
    assert_recovers(account, meetings, completed=True)


def test_410_has_no_full_scan_case(fault_matrix):
    fault_matrix("410 fullSyncRequired on the sync token", FULL, "n/a (no sync token yet)", "n/a")


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_grant_on_refresh(account, fault_matrix, kind):
    meetings, ledger_before = prepare(account, kind)
    if kind == FULL:
        account.google.write_token(account.token, SCOPES, expired=True)
    account.google.revoke()
    account.google.clear_log()
    run = account.scan()
    fault_matrix(
        "invalid_grant on refresh (revoked)",
        kind,
        "exit 3, one line: run `calbot auth`",
        outcome_of(run, "recovers after `calbot auth`"),
    )
    assert run.code == 3
    assert one_line(run.err) == ("calbot: Google access expired or was revoked — run `calbot auth`")
    assert account.google.count("oauth.token") >= 1
    assert_sound(account, ledger_before)
    assert_recovers(account, meetings)


@pytest.mark.parametrize("kind", KINDS)
def test_event_gone_before_its_note(account, fault_matrix, kind):
    """The event vanished between the list and the patch: Google answers 404 to the patch."""
    meetings, ledger_before = prepare(account, kind)
    account.google.clear_log()
    account.google.fail("calendar.events.patch", 404, reason="notFound")
    run = account.scan()
    fault_matrix(
        "404 on events.patch (event gone)",
        kind,
        "a warning naming the event; exit 0",
        outcome_of(run),
    )
    assert run.code == 0, run.err
    assert len(drafted(run.doc)) == meetings
    warnings = run.doc["warnings"]
    assert len(warnings) == 1 and "no longer exists" in warnings[0] and "(404)" in warnings[0]
    assert_sound(account, ledger_before)
    assert_recovers(account, meetings)


def test_draft_deleted_between_scans(account, fault_matrix):
    first = account.scan()
    assert first.code == 0, first.err
    gone = drafted(first.doc)[0]
    account.google.user_deletes_draft(gone["draft"]["gmail_draft_id"])
    ledger_before = account.ledger()
    account.google.clear_log()
    run = account.scan()
    status = next(m for m in run.doc["meetings"] if m["event_id"] == gone["event_id"])
    status = status["draft"]["status"] if status["draft"] else None
    fault_matrix(
        "draft deleted by the user between scans",
        INCREMENTAL,
        "user_deleted, never re-created; exit 0",
        outcome_of(run, f"status {status}"),
    )
    assert run.code == 0, run.err
    assert status == "user_deleted"
    assert account.google.count("gmail.drafts.create") == 0
    assert_no_duplicates(account)
    assert account.integrity() == "ok"
    assert account.ledger().keys() == ledger_before.keys()
    account.google.clear_log()
    again = account.scan()
    assert again.code == 0 and account.writes() == 0
    assert len(account.drafts()) == len(HOURS) - 1


def test_draft_deleted_has_no_full_scan_case(fault_matrix):
    fault_matrix("draft deleted by the user between scans", FULL, "n/a (no draft yet)", "n/a")


# --- SIGKILL mid-scan -------------------------------------------------------------------------


class Hold:
    """Hold the fake's answer to the `nth` drafts.create after Google carried it out: the
    draft exists, calbot has not heard back. Released by `release()` (or after 60 s)."""

    def __init__(self, google: Any, nth: int) -> None:
        self.reached = threading.Event()
        self._release = threading.Event()
        self._seen = 0
        self._lock = threading.Lock()
        handle = google._handle

        def held(method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Any:
            reply = handle(method, raw_path, headers, raw)
            if method == "POST" and urlsplit(raw_path).path.endswith("/users/me/drafts"):
                with self._lock:
                    self._seen += 1
                    mine = self._seen == nth
                if mine:
                    self.reached.set()
                    self._release.wait(60)
            return reply

        google._handle = held

    def release(self) -> None:
        self._release.set()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_mid_scan(account, fault_matrix, kind):
    meetings, ledger_before = prepare(account, kind)
    nth = 3 if kind == FULL else 1  # full: the third of five drafts; incremental: the new one
    hold = Hold(account.google, nth)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, f"drafts.create #{nth}")
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=DEADLINE)
    finally:
        hold.release()
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert account.integrity() == "ok"
    if kind == FULL:  # drafts 1..nth-1 recorded; the nth exists at Google, unrecorded
        assert len(account.ledger()) == nth - 1
    assert not {k for k in ledger_before if k not in account.ledger()}
    assert_no_duplicates(account)
    account.google.clear_log()
    run = assert_recovers(account, meetings)
    statuses = Counter(m["draft"]["status"] for m in drafted(run.doc))
    fault_matrix(
        "SIGKILL mid-scan (draft created, answer not heard)",
        kind,
        "killed; next scan adopts the draft, no duplicate",
        f"killed; next scan exit 0, {len(drafted(run.doc))} drafts {dict(statuses)}",
    )
