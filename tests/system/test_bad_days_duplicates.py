"""Bad days (issue 11), the duplicate cases: Gmail's search index lagging behind writes,
Gmail rewriting a draft's Message-ID, a glitched `drafts.list`, two machines with two state
stores on one account, and a lost store whose calendar notes still name a deleted draft.
Real CLI (in this process, or a real `python -m calbot` process where a kill or an overlap
is the point) against the fake Google server. docs/reliability.md, "Bad days: duplicates".
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from builders import GOOGLE_USER, google_time, google_toml, next_tuesday

from calbot.cli.main import main

TZ = ZoneInfo("Europe/Berlin")
SCOPES = ["calendar.events", "gmail.compose"]
HOURS = (9, 10, 11, 13, 14)  # five in-person client meetings: five `call` drafts
DEADLINE = 30.0


class Account:
    """A Google user with five one-hour in-person meetings with Acme next Tuesday; its state
    dir is `state` unless a scan names another (a second machine)."""

    def __init__(self, google: Any, tmp: Path, capsys: Any, monkeypatch: Any) -> None:
        self.google, self.dir, self.capsys, self.mp = google, tmp, capsys, monkeypatch
        self.day = next_tuesday()
        self.state = tmp / "state"
        self.token = tmp / "token.json"
        self.config = tmp / "calbot.toml"
        monkeypatch.delenv("CALBOT_CONFIG", raising=False)
        google.user_email = GOOGLE_USER
        google.write_token(self.token, SCOPES)
        self.configure()
        self.ids = [self.add_meeting(h) for h in HOURS]

    def configure(self, *, timeout: float = 30, budget: float = 3) -> None:
        self.config.write_text(
            google_toml(self.google.root, self.token)
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
""",
            encoding="utf-8",
        )

    def add_meeting(self, hour: int) -> str:
        return str(
            self.google.add_event(
                summary=f"Acme sync {hour}",
                description="Agenda: the plan.",
                location="Acme office, Room 1",
                start=google_time(self.day, hour),
                end=google_time(self.day, hour + 1),
                organizer={"email": "ana@acme.example"},
                attendees=[
                    {"email": "ana@acme.example", "organizer": True, "responseStatus": "accepted"},
                    {"email": GOOGLE_USER, "self": True, "responseStatus": "accepted"},
                ],
            )["id"]
        )

    def scan(self, state: Path | None = None) -> tuple[int, dict[str, Any], str]:
        """`calbot scan --json` in this process, with `state` as the state dir."""
        self.mp.setenv("CALBOT_STATE_DIR", str(state or self.state))
        self.capsys.readouterr()
        out = io.StringIO()
        code = main(["scan", "--config", str(self.config), "--json"], out=out)
        doc = json.loads(out.getvalue()) if code == 0 else {}
        return code, doc, self.capsys.readouterr().err

    def start(self, state: Path | None = None) -> subprocess.Popen[str]:
        env = dict(os.environ, CALBOT_STATE_DIR=str(state or self.state))
        env.pop("CALBOT_CONFIG", None)
        return subprocess.Popen(
            [sys.executable, "-m", "calbot", "scan", "--config", str(self.config), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=self.dir,
        )

    def own_ids(self) -> Counter[str]:
        """How many drafts carry each of calbot's ids (`X-Calbot-Id`, as Gmail may have
        rewritten the Message-ID; the Message-ID for drafts written before that header)."""
        with self.google._lock:
            refs = list(self.google.drafts)
        msgs = [self.google.draft_message(r) for r in refs]
        return Counter(str(m["X-Calbot-Id"] or m["Message-ID"]) for m in msgs)

    def ledger(self, state: Path | None = None) -> dict[str, tuple[str, str]]:
        conn = sqlite3.connect((state or self.state) / "state.sqlite3")
        try:
            rows = conn.execute("SELECT key, ref, status FROM sink_records WHERE sink = 'gmail'")
            return {k: (r, s) for k, r, s in rows.fetchall()}
        finally:
            conn.close()


@pytest.fixture
def account(google, tmp_path, capsys, monkeypatch) -> Account:
    from calbot.adapters.google import api as google_api

    real_connect = google_api.connect
    monkeypatch.setattr(  # jitter pinned low: back-off sleeps stay short and repeatable
        google_api, "connect", lambda settings: real_connect(settings, rand=lambda: 0.1)
    )
    return Account(google, tmp_path, capsys, monkeypatch)


def one_per_meeting(account: Account) -> None:
    ids = account.own_ids()
    assert len(ids) == len(HOURS), ids
    assert set(ids.values()) == {1}, f"duplicates: {ids}"


def wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen[str]) -> None:
    """Poll until `condition` holds; fail at the deadline, or at once if `proc` died."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"the scan exited ({proc.returncode}) before {what}: {err!r}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


class Gate:
    """Holds the first drafts.create at the fake *before* Gmail carries it out, until
    `release()` (or 60 s): the scan that sent it waits, others go on."""

    def __init__(self, google: Any) -> None:
        self.reached = threading.Event()
        self._release = threading.Event()
        self._taken = False
        self._lock = threading.Lock()
        handle = google._handle

        def gated(method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Any:
            if method == "POST" and urlsplit(raw_path).path.endswith("/users/me/drafts"):
                with self._lock:
                    first, self._taken = not self._taken, True
                if first:
                    self.reached.set()
                    self._release.wait(60)
            return handle(method, raw_path, headers, raw)

        google._handle = gated

    def release(self) -> None:
        self._release.set()


def stop(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.communicate(timeout=DEADLINE)


# --- #1: Gmail's search index lags; Gmail may rewrite the Message-ID ---------------------


@pytest.mark.parametrize("rewrite", [False, True], ids=["lagging index", "Message-ID rewritten"])
def test_a_lost_state_store_adopts_every_draft_while_the_search_index_lags(account, rewrite):
    account.google.lag_search()  # nothing written from now on is found by search
    account.google.rewrite_message_ids(rewrite)
    code, _, err = account.scan()
    assert code == 0, err
    assert account.google.searches_missed() == len(HOURS)
    shutil.rmtree(account.state)  # the state store is lost

    account.google.clear_log()
    code, doc, err = account.scan()

    assert code == 0, err
    assert account.google.count("gmail.drafts.create") == 0
    one_per_meeting(account)
    assert {m["draft"]["status"] for m in doc["meetings"] if m["draft"]} == {"unchanged"}


def test_a_sigkill_while_gmail_carries_out_a_create_leaves_no_duplicate(account):
    account.google.lag_search()
    gate = Gate(account.google)
    proc = account.start()
    try:
        wait_for(gate.reached.is_set, "the first drafts.create", proc)
        proc.send_signal(signal.SIGKILL)  # while Gmail is still making the draft
        proc.communicate(timeout=DEADLINE)
    finally:
        gate.release()
        stop(proc)
    account.google.wait_idle()  # ... which it then does
    assert proc.returncode == -signal.SIGKILL
    assert len(account.own_ids()) == 1 and account.ledger() == {}

    code, _, err = account.scan()

    assert code == 0, err
    one_per_meeting(account)
    assert account.google.count("gmail.drafts.create") == len(HOURS)


def test_a_create_that_lands_after_the_client_timed_out_is_adopted_not_repeated(account):
    account.configure(timeout=0.5)
    account.google.lag_search()
    # made 0.8 s after it arrived: after the 0.5 s timeout, before the recheck at ~1 s
    account.google.delay("gmail.drafts.create", 0.8)

    code, _, err = account.scan()

    assert code == 0, err
    account.google.wait_idle()
    one_per_meeting(account)
    assert account.google.count("gmail.drafts.create") == len(HOURS)


def test_a_create_that_lands_after_the_recheck_is_resolved_by_the_next_scan(account):
    account.configure(timeout=0.5)
    account.google.lag_search()
    account.google.delay("gmail.drafts.create", 2.5)  # long after the recheck looked

    code, _, err = account.scan()
    account.google.wait_idle()  # it lands

    assert code == 4, err
    assert "next scan looks for it" in err
    assert len(account.own_ids()) == 1
    code, _, err = account.scan()
    assert code == 0, err
    one_per_meeting(account)
    assert account.google.count("gmail.drafts.create") == len(HOURS)


# --- #2: a glitched drafts.list is an error, never "no drafts" ---------------------------


@pytest.mark.parametrize(
    ("kind", "times", "code"),
    [("empty", 1, 0), ("not_json", 1, 0), ("empty", 2, 4), ("not_json", 2, 4)],
    ids=["no drafts key, once", "not JSON, once", "no drafts key, twice", "not JSON, twice"],
)
def test_a_glitched_drafts_list_never_reads_as_every_draft_deleted(account, kind, times, code):
    assert account.scan()[0] == 0
    before = account.ledger()
    moved = account.ids[0]  # a material change: its draft is rewritten, not re-opened
    account.google.update_event(
        "primary", moved, start=google_time(account.day, 16), end=google_time(account.day, 17)
    )
    account.google.glitch("gmail.drafts.list", kind, times)

    got, doc, err = account.scan()

    assert got == code, err
    one_per_meeting(account)
    assert account.google.count("gmail.drafts.create") == len(HOURS)
    after = account.ledger()
    assert {ref for ref, _ in after.values()} == {ref for ref, _ in before.values()}
    assert "user_deleted" not in {status for _, status in after.values()}
    if code == 0:  # asked again, trusted: the moved meeting's draft rewritten in place
        statuses = Counter(m["draft"]["status"] for m in doc["meetings"] if m["draft"])
        assert set(statuses) <= {"updated", "unchanged"} and statuses["updated"], statuses
    if code == 4:
        assert "could not trust" in err
        assert account.scan()[0] == 0  # the next scan does the work
        one_per_meeting(account)


# --- #3: two machines, one account, two state stores --------------------------------------


def test_two_machines_scanning_at_once_converge_to_one_draft_per_meeting(account):
    other = account.dir / "other-machine"
    gate = Gate(account.google)
    proc = account.start()  # machine A: listed Drafts (empty), its first create held
    try:
        wait_for(gate.reached.is_set, "machine A's first drafts.create", proc)
        code, _, err = account.scan(other)  # machine B scans meanwhile: five drafts
        assert code == 0, err
    finally:
        gate.release()
    _, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 0, err
    assert set(account.own_ids().values()) == {2}  # the race: two drafts per meeting
    b_refs = {ref for ref, _ in account.ledger(other).values()}  # the older ones

    code, _, err = account.scan()  # either machine's next scan converges

    assert code == 0, err
    one_per_meeting(account)
    assert set(account.google.drafts) == b_refs  # the older of each pair kept
    assert {ref for ref, _ in account.ledger().values()} == b_refs
    code, doc, err = account.scan(other)
    assert code == 0, err
    one_per_meeting(account)
    assert {m["draft"]["status"] for m in doc["meetings"] if m["draft"]} == {"unchanged"}


# --- #13 (first half): a lost store re-learns "drafted and gone" from calbot's notes -----


def test_a_lost_store_does_not_re_create_a_draft_the_user_deleted_that_a_note_names(account):
    code, doc, err = account.scan()
    assert code == 0, err
    private = account.google.event("primary", account.ids[0])["extendedProperties"]["private"]
    deleted = private["calbot_draft"]  # the note names the first meeting's draft
    assert deleted in {ref for ref, _ in account.ledger().values()}
    account.google.user_deletes_draft(deleted)
    shutil.rmtree(account.state)  # the state store is lost; the notes are not

    account.google.clear_log()
    code, doc, err = account.scan()

    assert code == 0, err
    assert account.google.count("gmail.drafts.create") == 0
    assert len(account.own_ids()) == len(HOURS) - 1
    statuses = Counter(m["draft"]["status"] for m in doc["meetings"] if m["draft"])
    assert statuses == {"user_deleted": 1, "unchanged": len(HOURS) - 1}, statuses
    # the meeting moves (a material change): the deletion no longer holds, one new draft
    account.google.update_event(
        "primary",
        account.ids[0],
        start=google_time(account.day, 16),
        end=google_time(account.day, 17),
    )
    code, doc, err = account.scan()
    assert code == 0, err
    one_per_meeting(account)


def test_a_digest_draft_that_lands_after_the_recheck_is_not_made_twice(account):
    """The digest's Gmail copy follows the same rule as a reply: after a timed-out create
    that the look-up does not find yet, no second create; the next digest finds it."""
    assert account.scan()[0] == 0
    account.configure(timeout=0.5)
    account.google.delay("gmail.drafts.create", 2.5)  # lands long after the recheck
    account.mp.setenv("CALBOT_STATE_DIR", str(account.state))
    assert main(["digest", "--config", str(account.config)], out=io.StringIO()) == 0
    account.google.wait_idle()  # it lands
    account.google.delay("gmail.drafts.create", 0)
    assert main(["digest", "--config", str(account.config)], out=io.StringIO()) == 0
    account.google.wait_idle()
    with account.google._lock:
        assert len(account.google.drafts) == len(HOURS) + 1  # the replies and one digest
    assert account.google.count("gmail.drafts.create") == len(HOURS) + 1
