"""The fault matrix: every fault Google can throw at a scan,
during a full scan (the first) and during an incremental scan (the second), against the
fake Google server with the real googleapiclient and google-auth over HTTP.

For each case the faulted scan either completes (exit 0) or stops with a one-line cause on
stderr and the exit code (3: access expired/revoked/lacking a scope, 4: Google still
failing after retries). Then, whatever happened: no duplicate draft (one Gmail draft per
Message-ID, every draft owned by the ledger), the state file passes `PRAGMA
integrity_check` and keeps its ledger rows, and the next scan with the fault gone recovers
by itself (exit 0, every meeting drafted once) — and the one after that writes nothing.

Each case adds a row (fault, scan kind, expected, outcome) to the table pytest prints at
the end (`fault_matrix` fixture, tests/fakes/plugin.py). Run: `pytest tests/system/test_faults.py
-rA`. docs/reliability.md explains the matrix.

Real sleeping is kept short: Retry-After 0.05-0.3 s, `[limits] retry_budget_seconds`
1-3 s, `http_timeout_seconds = 0.5` against answers held 1.2 s, and the back-off's jitter
pinned to 0.1 of its cap (`connect(rand=...)`; the sleeps themselves are real). Nothing
waits by a fixed sleep: a late answer is awaited with the fake's `wait_idle()`, a child
process with `wait_for` (a deadline, and it stops when the child died).
"""

from __future__ import annotations

import contextlib
import io
import itertools
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
from builders import google_toml

from calbot.cli.main import main

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
UPDATE = "gmail.drafts.update"  # only the incremental scan updates a draft
DEADLINE = 30.0
HOURS = (9, 10, 11, 13, 14)  # five in-person client meetings: five `call` drafts
NEW_DRAFTS = {"full": len(HOURS), "incremental": 1}  # drafts.create a faulted scan needs


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
    from calbot.adapters.google import api as google_api

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
        text = f"exit {run.code}: {first[:70].rstrip('; ')}"
    return text + (f"; {note}" if note else "")


# --- transient faults: retried and survived, or given up on with exit 4 ---------------------

RETRY_AFTER = 0.3  # distinct from the pinned jitter's first back-off (0.1 s)
JITTER_FIRST = 0.1  # first back-off: rand (pinned 0.1) x cap (1 s)
SLACK = 0.02  # seconds: clocks and scheduling


def gaps_after(account: Account, route: str, status: int) -> list[float]:
    """Seconds from each `status` answer on `route` to the next request on that route."""
    with account.google._lock:
        log = sorted((r for r in account.google.requests if r.route == route), key=lambda r: r.at)
    return [b.at - a.at for a, b in itertools.pairwise(log) if a.status == status]


def honours_retry_after(account: Account, route: str) -> None:
    gaps = gaps_after(account, route, 429)
    assert gaps, f"no retry after a 429 on {route}"
    # oauth.token: google-auth retries the token endpoint itself (1 s, then 2 s, +-10%),
    # ignoring Retry-After; calbot's own loop honours it on every API route.
    assert all(g >= RETRY_AFTER - SLACK for g in gaps), f"retried before Retry-After: {gaps}"


def backs_off_with_jitter(account: Account, route: str) -> None:
    gaps = gaps_after(account, route, 429)
    assert gaps, f"no retry after a 429 on {route}"
    if route == "oauth.token":  # google-auth's own back-off: 1 s +-10%
        assert all(0.9 - SLACK <= g < 2.0 for g in gaps), gaps
    else:  # the pinned jitter: 0.1 x the 1 s cap; unjittered it would be the full second
        assert all(JITTER_FIRST - SLACK <= g < 0.9 for g in gaps), gaps


def gives_up_in_time(account: Account, route: str, run: Run, elapsed: float) -> None:
    """With a 1 s budget. The token endpoint is retried by google-auth first: three tries,
    1 s and 2 s apart (+-10%), before calbot sees one failure ("after 1 try")."""
    if route == "oauth.token":
        assert "after 1 try (token endpoint unavailable)" in run.err, run.err
        assert elapsed < 6.0, f"{elapsed:.1f} s"
    else:
        assert elapsed < 3.0, f"{elapsed:.1f} s"


def creates_once(account: Account, route: str, run: Run, kind: str) -> None:
    """The lost answer's draft was adopted by the recheck, not made again."""
    if route == "gmail.drafts.create":
        assert account.google.count(route) == NEW_DRAFTS[kind], "drafts.create sent again"
        assert account.google.count("gmail.drafts.list") >= 1  # the recheck looked it up


@dataclass(frozen=True)
class Fault:
    name: str
    expected: str
    code: int
    inject: Callable[[Any, str], None]
    routes: tuple[str, ...] = ROUTES
    budget: float = 3
    timeout: float = 30
    spent: bool = True  # every scripted fault is met (False: more were queued than needed)
    unrecorded: int = 0  # drafts Gmail made that the faulted scan never heard of
    check: Callable[..., None] | None = None  # (account, route, run, elapsed, kind)


def _checked(fn: Callable[[Account, str], None]) -> Callable[..., None]:
    return lambda account, route, run, elapsed, kind: fn(account, route)


def beyond(status: int, routes: tuple[str, ...] = ROUTES) -> Fault:
    return Fault(
        f"{status} beyond the budget",
        "exit 4, one line",
        4,
        lambda g, r: g.fail(r, *([status] * 40), retry_after=0.25),
        routes=routes,
        budget=1,
        spent=False,
        check=lambda account, route, run, elapsed, kind: gives_up_in_time(
            account, route, run, elapsed
        ),
    )


FAULTS = [
    Fault(
        "429 with Retry-After",
        "retried after Retry-After; exit 0",
        0,
        lambda g, r: g.fail(
            r, *((429,) if r == "oauth.token" else (429, 429)), retry_after=RETRY_AFTER
        ),
        check=_checked(honours_retry_after),
    ),
    Fault(
        "429 without Retry-After",
        "retried with jittered back-off; exit 0",
        0,
        lambda g, r: g.fail(r, 429),
        routes=("calendar.events.list", "gmail.drafts.create", "oauth.token"),
        check=_checked(backs_off_with_jitter),
    ),
    Fault(
        "500/502/503 within the budget",
        "retried; exit 0",
        0,
        lambda g, r: g.fail(
            r, *((503,) if r == "oauth.token" else (500, 502, 503)), retry_after=0.05
        ),
        routes=(*ROUTES, UPDATE),
    ),
    beyond(503),
    beyond(500, ("calendar.events.list", "gmail.drafts.create")),
    beyond(502, ("calendar.events.list", "gmail.drafts.create")),
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
        routes=("calendar.events.list", "gmail.drafts.create", "oauth.token", UPDATE),
    ),
    Fault(
        "answer slower than the timeout",
        "timed out, retried; exit 0",
        0,
        # carried out at once, the answer held past the 0.5 s timeout: a create is found
        # by the recheck ~0.5 s after the timeout, not made twice
        lambda g, r: g.delay(r, 1.2, carried_out=True),
        routes=(
            "calendar.events.list",
            "gmail.drafts.create",
            "calendar.events.patch",
            "oauth.token",
            UPDATE,
        ),
        timeout=0.5,
        check=lambda account, route, run, elapsed, kind: creates_once(account, route, run, kind),
    ),
    Fault(
        "answer slower than the timeout and the budget",
        "exit 4; the next scan adopts the draft",
        4,
        # timed out at 0.6 s; the recheck would need one more timeout, which the 1 s budget
        # has not got left: exit 4 although Gmail made the draft
        lambda g, r: g.delay(r, 1.5, carried_out=True),
        routes=("gmail.drafts.create",),
        budget=1,
        timeout=0.6,
        unrecorded=1,
    ),
    Fault(
        "carried out, connection dropped before the answer",
        "a create adopted by the recheck, no repeat; exit 0",
        0,
        lambda g, r: g.lose_answer(r),
        routes=("calendar.events.list", "gmail.drafts.create", "calendar.events.patch", UPDATE),
        check=lambda account, route, run, elapsed, kind: creates_once(account, route, run, kind),
    ),
    Fault(
        "carried out, answered 503",
        "a create adopted by the recheck, no repeat; exit 0",
        0,
        lambda g, r: g.lose_answer(r, status=503),
        routes=("calendar.events.list", "gmail.drafts.create", "calendar.events.patch", UPDATE),
        check=lambda account, route, run, elapsed, kind: creates_once(account, route, run, kind),
    ),
]

CASES = [
    pytest.param(f, kind, route, id=f"{f.name}-{kind}-{route}")
    for f in FAULTS
    for kind in KINDS
    for route in f.routes
    if not (route == UPDATE and kind == FULL)  # a first scan updates no draft
]


def synced_with_token(account: Account) -> bool:
    """The faulted scan's events.list carried the sync token (an incremental scan)."""
    with account.google._lock:
        lists = [r for r in account.google.requests if r.route == "calendar.events.list"]
    return any("syncToken" in r.query for r in lists)


@pytest.mark.parametrize(("fault", "kind", "route"), CASES)
def test_transient_and_refused(account, fault_matrix, fault, kind, route):
    meetings, ledger_before = prepare(account, kind)
    account.configure(budget=fault.budget, timeout=fault.timeout)
    needs_refresh(account, route)
    account.google.clear_log()
    fault.inject(account.google, route)
    began = time.monotonic()
    run = account.scan()
    elapsed = time.monotonic() - began
    account.google.wait_idle()  # a late answer at Google lands before anything is judged
    note = f"after {elapsed:.1f} s" if run.code == 4 else ""
    fault_matrix(f"{fault.name} on {route}", kind, fault.expected, outcome_of(run, note))

    assert account.google.count(route) >= 1, f"the scan never reached {route}: it tests nothing"
    assert account.google.faulted(route), f"no request on {route} met the fault"
    if fault.spent:
        assert account.google.pending(route) == 0, "a scripted fault was never met"
    if kind == INCREMENTAL:
        assert synced_with_token(account), "the incremental scan did not send its sync token"
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
    if fault.check is not None:
        fault.check(account, route, run, elapsed, kind)
    assert_sound(account, ledger_before, fault.unrecorded)
    creates = NEW_DRAFTS[kind] - fault.unrecorded if fault.unrecorded else None
    assert_recovers(account, meetings, completed=run.code == 0, creates=creates)


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
    """The event vanished between the list and the patch: its organizer deletes it as the
    first patch arrives, and Google answers 404 to the patch. (Six meetings in both kinds:
    with one gone, five still overload the day, so the others keep their drafts.)"""
    meetings, ledger_before = prepare(account, kind)
    if kind == FULL:
        account.add_meeting(15, "Acme extra")
        meetings += 1
    account.google.clear_log()
    account.google.vanish_on_patch()
    run = account.scan()
    fault_matrix(
        "404 on events.patch (event deleted meanwhile)",
        kind,
        "a warning naming the event; exit 0; next scan drops its draft",
        outcome_of(run),
    )
    assert account.google.pending() == 0 and len(account.google.vanished) == 1
    _, gone = account.google.vanished[0]
    assert account.google.faulted("calendar.events.patch")
    assert run.code == 0, run.err
    assert len(drafted(run.doc)) == meetings
    warnings = run.doc["warnings"]
    assert len(warnings) == 1, warnings
    assert f"primary/{gone}" in warnings[0]
    assert "no longer exists" in warnings[0] and "(404)" in warnings[0]
    assert_sound(account, ledger_before)
    # the next scan hears of the cancellation: the gone meeting's draft is removed, not
    # reported as wanted; every other meeting is drafted and noted; the scan after writes
    # nothing
    after = assert_recovers(account, meetings - 1)
    assert gone not in {m["event_id"] for m in drafted(after.doc)}
    assert not after.doc.get("warnings"), after.doc.get("warnings")
    fault_matrix(
        "404 on events.patch (event deleted meanwhile)",
        kind,
        "a warning naming the event; exit 0; next scan drops its draft",
        outcome_of(run, f"next scan {len(drafted(after.doc))} drafts"),
    )


def test_draft_deleted_between_scans(account, fault_matrix):
    first = account.scan()
    assert first.code == 0, first.err
    gone = drafted(first.doc)[0]
    account.google.user_deletes_draft(gone["draft"]["gmail_draft_id"])
    ledger_before = account.ledger()
    account.google.clear_log()
    run = account.scan()
    row = (
        "draft deleted by the user between scans",
        INCREMENTAL,
        "user_deleted, never re-created; exit 0",
    )
    fault_matrix(*row, outcome_of(run))
    assert run.code == 0, run.err
    status = next(m for m in run.doc["meetings"] if m["event_id"] == gone["event_id"])
    status = status["draft"]["status"] if status["draft"] else None
    fault_matrix(*row, outcome_of(run, f"status {status}"))
    assert status == "user_deleted"
    assert account.google.count("gmail.drafts.create") == 0
    assert_no_duplicates(account)
    assert account.integrity() == "ok"
    assert account.ledger() == ledger_before  # keys and draft ids
    account.google.clear_log()
    again = account.scan()
    assert again.code == 0 and account.writes() == 0
    assert len(account.drafts()) == len(HOURS) - 1


def test_draft_deleted_has_no_full_scan_case(fault_matrix):
    fault_matrix("draft deleted by the user between scans", FULL, "n/a (no draft yet)", "n/a")


# --- a later page of a long calendar ----------------------------------------------------------

FILLERS = 2600  # > 2500, events.list's page: the full sync reads two pages


def add_fillers(account: Account) -> None:
    """A long calendar: 2600 internal half-hours six to ten weeks ahead, past the scan's
    window (so no decision changes), but within the full sync's `timeMin`-only listing."""
    start = account.day + timedelta(days=42)
    for n in range(FILLERS):
        day, slot = start + timedelta(days=n // 20), n % 20
        hh, mm = 8 + slot // 2, 30 * (slot % 2)
        account.google.add_event(
            summary=f"Focus {n}",
            start=stamp(day, hh, mm),
            end=stamp(day, hh, mm + 29),
            organizer={"email": "me@example.com", "self": True},
        )


PAGE_FAULTS = [
    pytest.param(0, (503, 503), "retried; exit 0", id="503 within the budget"),
    pytest.param(4, (503,) * 40, "exit 4, one line", id="503 beyond the budget"),
]


@pytest.mark.parametrize(("code", "statuses", "expected"), PAGE_FAULTS)
def test_second_events_page_fails(account, fault_matrix, code, statuses, expected):
    """The full sync of a calendar with more than one page: the second page, fetched in a
    background thread while the first is converted, fails; the first went through."""
    add_fillers(account)
    account.configure(budget=1)
    account.google.clear_log()
    account.google.fail("calendar.events.list", 200, *statuses, retry_after=0.05)
    run = account.scan()
    account.google.wait_idle()
    lists = [r for r in account.google.requests if r.route == "calendar.events.list"]
    fault_matrix(
        f"{statuses[0]} on the second events.list page ({FILLERS + len(HOURS)} events)",
        FULL,
        expected,
        outcome_of(run, f"{len(lists)} events.list"),
    )
    assert lists[0].status == 200 and "pageToken" not in lists[0].query
    assert all("pageToken" in r.query for r in lists[1:])
    assert [r.status for r in lists[1:]][:2] == [503, 503]
    assert run.code == code, run.err
    if code == 0:
        assert account.google.pending() == 0
        assert len(drafted(run.doc)) == len(HOURS)
    else:
        line = one_line(run.err)
        assert "Google still failing" in line and "reading calendar primary" in line
    assert_sound(account, {})
    assert_recovers(account, len(HOURS), completed=code == 0)


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


def wait_for(
    condition: Callable[[], bool], what: str, proc: subprocess.Popen[str] | None = None
) -> None:
    """Poll until `condition` holds; fail at the deadline, or at once if `proc` died."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if proc is not None and proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"the scan exited ({proc.returncode}) before {what}: {err!r}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_mid_scan(account, fault_matrix, kind):
    meetings, ledger_before = prepare(account, kind)
    nth = 3 if kind == FULL else 1  # full: the third of five drafts; incremental: the new one
    row = (
        "SIGKILL mid-scan (draft created, answer not heard)",
        kind,
        "killed; next scan adopts the draft, no duplicate",
    )
    fault_matrix(*row, "not killed")
    hold = Hold(account.google, nth)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, f"drafts.create #{nth}", proc)
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=DEADLINE)
    finally:
        hold.release()
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    fault_matrix(*row, f"exit {proc.returncode}")
    assert proc.returncode == -signal.SIGKILL
    assert account.integrity() == "ok"
    if kind == FULL:  # drafts 1..nth-1 recorded; the nth exists at Google, unrecorded
        assert len(account.ledger()) == nth - 1
    ledger = account.ledger()
    assert not {k for k, v in ledger_before.items() if ledger.get(k) != v}
    assert_no_duplicates(account)
    account.google.clear_log()
    run = assert_recovers(account, meetings)
    statuses = Counter(m["draft"]["status"] for m in drafted(run.doc))
    fault_matrix(*row, f"killed; next scan exit 0, {len(drafted(run.doc))} drafts {dict(statuses)}")


# --- a real `calbot scan` process: its stderr is the one line ---------------------------------


STDERR_CASES = [
    pytest.param(4, id="503 beyond the budget on gmail.drafts.create"),
    pytest.param(3, id="invalid_grant on refresh"),
]


@pytest.mark.parametrize("code", STDERR_CASES)
def test_real_process_prints_one_line(account, fault_matrix, code):
    """In-process scans have their logging captured by pytest; a real `python -m calbot
    scan` shows what a user sees: with retries logged on the way ("retrying in ..."), stderr
    still holds exactly the one line (`_logs_off_stderr` in calbot/cli.py)."""
    if code == 4:
        account.configure(budget=1)
        account.google.fail("gmail.drafts.create", *([503] * 40), retry_after=0.25)
        fault = "503 beyond the budget on gmail.drafts.create"
    else:
        account.google.write_token(account.token, SCOPES, expired=True)
        account.google.revoke()
        fault = "invalid_grant on refresh (revoked)"
    proc = account.start()
    try:
        out, err = proc.communicate(timeout=DEADLINE)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    account.google.wait_idle()
    run = Run(proc.returncode, {}, err)
    fault_matrix(f"{fault} (real process, stderr)", FULL, f"exit {code}, one line", outcome_of(run))
    assert proc.returncode == code, err
    line = one_line(err)
    assert err == line + "\n", f"stderr is more than the one line: {err!r}"
    assert out == ""
    if code == 4:
        assert line.startswith("calbot: Google still failing after ")
        assert account.google.faulted("gmail.drafts.create")
    else:
        assert line == "calbot: Google access expired or was revoked — run `calbot auth`"
    assert_sound(account, {})
    assert_recovers(account, len(HOURS))
