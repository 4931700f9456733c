"""Exactly-once drafts with real processes and real files.

Every scan here is a `calbot scan` subprocess: against the fake Google server (Gmail drafts,
calendar notes, a real SQLite state file) or an ICS calendar with the `.eml` outbox. The
process is killed with SIGKILL where a crash hurts most, two scans race for one state
store, and after each of these every drafted meeting has exactly one draft and the state
file passes `PRAGMA integrity_check`. No fixed sleeps: everything waits on a condition,
with a deadline.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from builders import google_toml

from calbot.usecases.demo import demo_calendar

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


def next_weekday(weekday: int) -> date:
    """That weekday of next week (0 = Monday)."""
    today = datetime.now(TZ).date()
    return today + timedelta(days=7 - today.weekday() + weekday)


def stamp(day: date, hh: int, mm: int = 0) -> dict[str, str]:
    return {
        "dateTime": datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ).isoformat(),
        "timeZone": "Europe/Berlin",
    }


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
                start=stamp(self.day, hour),
                end=stamp(self.day, hour + 1),
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


@pytest.fixture
def account(google, tmp_path) -> Account:
    return Account(google, tmp_path)


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


# --- kill -9 ------------------------------------------------------------------------------


@pytest.mark.parametrize("nth", [1, 3, 5])
def test_kill_after_gmail_created_the_draft_but_before_state_is_written(account, nth):
    """SIGKILL while Gmail has created draft `nth` but calbot has not recorded it (the
    answer never arrived): the rerun finds it by its Message-ID and adopts it."""
    hold = Hold(account.google, "POST", "/users/me/drafts", nth)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, f"Gmail drafts.create #{nth}")
        assert kill(proc) == -signal.SIGKILL
    finally:
        hold.release()
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    assert len(account.drafts()) == nth
    assert integrity(account.state) == "ok"
    assert len(sink_records(account.state, "gmail")) == nth - 1  # the last one never recorded

    account.google.clear_log()
    doc = account.scan()
    assert account.google.count("gmail.drafts.create") == 5 - nth
    account.assert_one_draft_per_meeting(doc)
    assert len(drafted(doc)) == 5
    statuses = Counter(m["draft"]["status"] for m in drafted(doc))
    assert statuses == Counter({"unchanged": nth, "new": 5 - nth})
    # and the notes on the calendar point at the adopted drafts
    for m in drafted(doc):
        note = account.google.event("primary", m["event_id"])["extendedProperties"]["private"]
        assert note["calbot_draft"] == m["draft"]["gmail_draft_id"]

    account.google.clear_log()
    account.scan()
    assert account.writes() == Counter()


def test_kill_while_noting_the_calendar_after_all_drafts_are_written(account):
    """The drafts and their records are in; the kill lands on the calendar notes: the rerun
    writes no draft and finishes the notes."""
    hold = Hold(account.google, "PATCH", "", 2)  # the second events.patch (a note)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, "the second calendar note")
        assert kill(proc) == -signal.SIGKILL
    finally:
        hold.release()
    assert len(account.drafts()) == 5
    assert integrity(account.state) == "ok"
    account.google.clear_log()
    doc = account.scan()
    assert account.google.count("gmail.drafts.create") == 0
    assert account.google.count("gmail.drafts.update") == 0
    account.assert_one_draft_per_meeting(doc)
    for m in drafted(doc):
        note = account.google.event("primary", m["event_id"])["extendedProperties"]["private"]
        assert note["calbot_draft"] == m["draft"]["gmail_draft_id"]


def test_kill_after_gmail_updated_the_draft_but_before_state_is_written(account):
    doc = account.scan()
    eid = account.ids[0]
    draft_id = status_of(doc, eid)["gmail_draft_id"]
    CHANGES["moved"](account, eid)
    hold = Hold(account.google, "PUT", f"/users/me/drafts/{draft_id}", 1)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, "Gmail drafts.update")
        assert kill(proc) == -signal.SIGKILL
    finally:
        hold.release()
    assert integrity(account.state) == "ok"
    account.google.clear_log()
    doc = account.scan()
    account.assert_one_draft_per_meeting(doc)
    assert account.google.count("gmail.drafts.create") == 0
    # the draft holds calbot's text for the moved meeting: it is calbot's, not the user's
    assert status_of(doc, eid)["status"] == "unchanged"
    # and it keeps following the meeting
    account.google.update_event(
        "primary", eid, start=stamp(account.day, 8, 15), end=stamp(account.day, 9, 15)
    )
    account.google.clear_log()
    doc = account.scan()
    assert status_of(doc, eid)["status"] == "updated"
    assert account.google.count("gmail.drafts.update") == 1


def test_kill_after_calbot_deleted_its_draft_but_before_state_is_written(account):
    doc = account.scan()
    eid = account.ids[0]
    draft_id = status_of(doc, eid)["gmail_draft_id"]
    gone = account.ids[2:]
    for other in gone:  # a lighter day: the first two meetings need nothing any more
        account.google.delete_event("primary", other)
    hold = Hold(account.google, "DELETE", f"/users/me/drafts/{draft_id}", 1)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, "Gmail drafts.delete")
        assert kill(proc) == -signal.SIGKILL
    finally:
        hold.release()
    assert draft_id not in account.drafts()
    assert integrity(account.state) == "ok"
    doc = account.scan()
    assert not drafted(doc)
    # the day fills up again: the meeting needs exactly the reply it had; nobody but
    # calbot ever deleted that draft, so it is written again
    for hour in (11, 13, 14):
        account.google.add_event(
            summary=f"Acme sync {hour} again",
            location="Acme office, Room 1",
            start=stamp(account.day, hour),
            end=stamp(account.day, hour + 1),
            organizer={"email": "ana@acme.example"},
            attendees=people("ana@acme.example"),
        )
    account.google.clear_log()
    doc = account.scan()
    assert status_of(doc, eid)["status"] == "new"
    account.assert_one_draft_per_meeting(doc)


# --- the outbox, killed at random points --------------------------------------------------


def ics_config(tmp: Path, *, signature: str = "Alex") -> Path:
    config = tmp / "calbot.toml"
    config.write_text(
        f"""
[user]
email = "alex@studio.example"
name = "Alex Doe"
timezone = "Europe/Berlin"
own_domains = ["studio.example"]
signature = "{signature}"

[source]
kind = "ics"
path = "{tmp / "cal.ics"}"

[outputs]
gmail_drafts = false
calendar_notes = false
outbox = "{tmp / "outbox"}"

[limits]
lock_wait_seconds = 5

[[clients]]
name = "Northwind"
domains = ["northwind.example"]
tier = "low"
timezone = "Europe/London"

[[clients]]
name = "Bluebird Studio"
domains = ["bluebird.example"]

[[clients]]
name = "Borneo Trading"
domains = ["borneo.example"]
language = "ms"

[[clients]]
name = "Lotus Media"
domains = ["lotus.example"]
language = "vi"
chatty = true

[[clients]]
name = "Acme Corp"
domains = ["acme.example"]
tier = "key"
language = "vi"
""",
        encoding="utf-8",
    )
    return config


def outbox_snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """name → (inode, mtime): an atomic rewrite changes the inode."""
    found = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            with contextlib.suppress(FileNotFoundError):
                st = entry.stat()
                found[entry.name] = (st.st_ino, st.st_mtime_ns)
    return found


def changes(before: dict[str, tuple[int, int]], folder: Path) -> int:
    now = outbox_snapshot(folder)
    return sum(1 for k in before.keys() | now.keys() if before.get(k) != now.get(k))


def kill_at_random(
    proc: subprocess.Popen[str],
    rng: random.Random,
    before: dict[str, tuple[int, int]],
    outbox: Path,
    duration: float,
) -> int:
    """SIGKILL after the outbox saw 1..6 file changes (a draft written, a temp file made,
    one deleted), or — one time in seven — at a random moment of the scan."""
    target = rng.randint(0, 6)
    if target == 0:
        deadline = time.monotonic() + rng.uniform(0, duration)
        wait_for(lambda: time.monotonic() >= deadline or proc.poll() is not None, "the moment")
    else:
        wait_for(
            lambda: proc.poll() is not None or changes(before, outbox) >= target,
            f"{target} outbox changes",
        )
    return kill(proc)


def test_outbox_survives_sigkill_at_random_points(tmp_path):
    """Ten scans, each with six drafts to write (new text or a new week), each killed at a
    random point — often between one draft's file and its record — then a clean scan: one
    `.eml` per drafted meeting, no duplicate, a sound state file."""
    seed = int(os.environ.get("CALBOT_KILL_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    weeks = [demo_calendar(date.today()), demo_calendar(date.today() + timedelta(days=7))]
    (tmp_path / "cal.ics").write_text(weeks[0], encoding="utf-8")
    env = dict(os.environ, CALBOT_STATE_DIR=str(tmp_path / "state"))
    env.pop("CALBOT_CONFIG", None)
    outbox = tmp_path / "outbox"
    config = ics_config(tmp_path)
    started = time.monotonic()
    scan(config, env)
    duration = time.monotonic() - started

    landed = []  # drafts written before each kill
    for i in range(10):
        # every run has work to do: new wording for every draft; runs 3 and 7 move the whole
        # calendar a week on and back (drafts deleted, written, updated)
        ics_config(tmp_path, signature=f"Alex {i}")
        if i % 4 == 3:
            (tmp_path / "cal.ics").write_text(weeks[(i // 4 + 1) % 2], encoding="utf-8")
        before = outbox_snapshot(outbox)
        code = kill_at_random(start(config, env), rng, before, outbox, duration)
        landed.append((code, changes(before, outbox)))
        assert code in (0, -signal.SIGKILL), f"seed {seed}: run {i} exited {code}"
        assert integrity(tmp_path / "state") == "ok", f"seed {seed}: run {i}"

    assert any(code == -signal.SIGKILL and n > 0 for code, n in landed), (seed, landed)
    doc = scan(config, env)
    acted = drafted(doc)
    assert len(acted) == 6, f"seed {seed}"
    files = sorted(outbox.glob("*.eml"))
    # Nobody deletes a draft here: a kill between calbot's own deletion of a draft and its
    # record must not read as the user's deletion.
    lost = [m for m in acted if not Path(m["draft"]["outbox_path"]).is_file()]
    assert not lost, f"seed {seed}: {lost}"
    kept = sorted(m["draft"]["outbox_path"] for m in acted if m not in lost)
    assert sorted(str(p) for p in files) == kept, f"seed {seed}: an .eml no meeting owns"
    ids = Counter(
        str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Message-ID"])
        for p in files
    )
    assert all(n == 1 for n in ids.values()), f"seed {seed}: {ids}"
    ledger = sorted(sink_records(tmp_path / "state", "outbox").values())
    assert ledger == sorted(
        [p.name for p in files] + [Path(m["draft"]["outbox_path"]).name for m in lost]
    )
    assert integrity(tmp_path / "state") == "ok"
    # temp files of killed writers (client data) are cleaned up by the next write
    leftovers = sorted(p.name for p in outbox.iterdir() if p.suffix != ".eml")
    assert not leftovers, f"seed {seed}: {leftovers}"
    again = scan(config, env)
    statuses = Counter(m["draft"]["status"] for m in drafted(again))
    # Nobody edited a draft here: a kill between an update's file and its record must not
    # read as the user's edit.
    assert set(statuses) == {"unchanged"}, f"seed {seed}: {statuses}"


# --- each exactly-once case, at the command line ------------------------------------------


def status_of(doc: dict[str, Any], event_id: str) -> dict[str, Any]:
    meeting = next(m for m in doc["meetings"] if m["event_id"] == event_id)
    assert meeting["draft"], f"{event_id}: no draft ({meeting['action']})"
    return meeting["draft"]


def test_rerun_with_nothing_changed_writes_nothing(account):
    first = account.scan()
    assert len(drafted(first)) == 5
    account.google.clear_log()
    again = account.scan()
    assert account.writes() == Counter()
    assert {m["draft"]["status"] for m in drafted(again)} == {"unchanged"}
    account.assert_one_draft_per_meeting(again)


def shorten(a: Any, eid: str) -> None:
    """End the meeting 15 minutes after its own start."""
    start = datetime.fromisoformat(a.google.event("primary", eid)["start"]["dateTime"])
    end = (start + timedelta(minutes=15)).isoformat()
    a.google.update_event("primary", eid, end={"dateTime": end, "timeZone": "Europe/Berlin"})


CHANGES: dict[str, Callable[[Account, str], None]] = {
    "moved": lambda a, eid: a.google.update_event(
        "primary", eid, start=stamp(a.day, 8, 30), end=stamp(a.day, 9, 30)
    ),
    "shortened": lambda a, eid: shorten(a, eid),
    "relocated": lambda a, eid: a.google.update_event("primary", eid, location="Cafe Einstein"),
    "attendees changed": lambda a, eid: a.google.update_event(
        "primary", eid, attendees=people("ana@acme.example", "bo@acme.example")
    ),
}


def test_a_material_change_updates_the_same_draft_never_a_second(account):
    doc = account.scan()
    eid = account.ids[0]
    draft_id = status_of(doc, eid)["gmail_draft_id"]
    for what, change in CHANGES.items():
        before = account.google.draft_message(draft_id).as_bytes()
        change(account, eid)
        account.google.clear_log()
        doc = account.scan()
        draft = status_of(doc, eid)
        assert draft["gmail_draft_id"] == draft_id, what
        assert account.google.count("gmail.drafts.create") == 0, what
        text_changed = account.google.draft_message(draft_id).as_bytes() != before
        # rewritten in place when its text depends on the change, left alone otherwise
        assert draft["status"] == ("updated" if text_changed else "unchanged"), what
        assert account.google.count("gmail.drafts.update") == int(text_changed), what
        account.assert_one_draft_per_meeting(doc)


def test_a_draft_the_user_deleted_is_never_recreated_for_the_same_decision(account):
    doc = account.scan()
    eid = account.ids[0]
    account.google.user_deletes_draft(status_of(doc, eid)["gmail_draft_id"])
    for _ in range(2):
        account.google.clear_log()
        doc = account.scan()
        assert status_of(doc, eid)["status"] == "user_deleted"
        assert account.google.count("gmail.drafts.create") == 0
        assert account.google.count("gmail.drafts.update") == 0
    # only a material change of the meeting re-opens it: one new draft, not two
    CHANGES["moved"](account, eid)
    account.google.clear_log()
    doc = account.scan()
    assert status_of(doc, eid)["status"] == "new"
    assert account.google.count("gmail.drafts.create") == 1
    account.assert_one_draft_per_meeting(doc)


@pytest.mark.parametrize("what", ["shortened", "relocated", "attendees changed"])
def test_deleted_after_a_change_that_left_the_text_alone_stays_deleted(account, what):
    doc = account.scan()
    eid = account.ids[1]
    CHANGES[what](account, eid)
    doc = account.scan()
    assert status_of(doc, eid)["status"] == "unchanged"
    account.google.user_deletes_draft(status_of(doc, eid)["gmail_draft_id"])
    account.google.clear_log()
    doc = account.scan()  # nothing about the meeting changed since the user deleted it
    assert account.google.count("gmail.drafts.create") == 0
    assert status_of(doc, eid)["status"] == "user_deleted"


def test_lost_state_adopts_the_drafts_by_message_id(account):
    first = account.scan()
    by_event = {m["event_id"]: m["draft"]["gmail_draft_id"] for m in drafted(first)}
    shutil.rmtree(account.state)  # the state file, its WAL, the lock: all gone
    account.google.clear_log()
    doc = account.scan()
    assert account.google.count("gmail.drafts.create") == 0
    assert {m["event_id"]: m["draft"]["gmail_draft_id"] for m in drafted(doc)} == by_event
    assert {m["draft"]["status"] for m in drafted(doc)} == {"unchanged"}
    account.assert_one_draft_per_meeting(doc)
    account.google.clear_log()
    account.scan()
    assert account.writes() == Counter()


# --- two scans at once --------------------------------------------------------------------


def test_two_concurrent_scans_one_waits_then_exits_75(account):
    """Both start at once. Whichever takes the lock first is held on its calendar read
    until the other has waited for the lock (lock_wait_seconds = 1) and given up: exit 75,
    one line on stderr, nothing written by it."""
    hold = Hold(account.google, "GET", "/events", 1)
    procs = [account.start(), account.start()]
    try:
        wait_for(hold.reached.is_set, "the lock holder's calendar read")
        wait_for(lambda: any(p.poll() is not None for p in procs), "the other scan to give up")
    finally:
        hold.release()
    results = [finish(p) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 75], [err for _, _, err in results]
    (doc,) = [doc for code, doc, _ in results if code == 0]
    (err,) = [err for code, _, err in results if code == 75]
    assert len(err.strip().splitlines()) == 1 and "another calbot" in err, err
    assert account.google.count("calendar.events.list") == 1  # the loser read nothing
    assert account.google.count("gmail.drafts.create") == 5
    account.assert_one_draft_per_meeting(doc)


def test_two_concurrent_scans_with_a_long_wait_both_succeed_one_after_the_other(google, tmp_path):
    account = Account(google, tmp_path, lock_wait=30)
    account.google.delay("calendar.events.list", 1.5)
    procs = [account.start(), account.start()]
    results = [finish(p) for p in procs]
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    # the first writes every draft, the second (after waiting for the lock) finds them all
    statuses = sorted(sorted({m["draft"]["status"] for m in drafted(doc)}) for _, doc, _ in results)
    assert statuses == [["new"], ["unchanged"]]
    assert account.google.count("gmail.drafts.create") == 5
    account.assert_one_draft_per_meeting(results[0][1])


def test_a_killed_lock_holder_does_not_block_the_next_scan(account):
    """flock dies with its holder: a scan killed mid-way leaves no stale lock behind."""
    hold = Hold(account.google, "POST", "/users/me/drafts", 2)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, "the second draft")
        kill(proc)
    finally:
        hold.release()
    started = time.monotonic()
    doc = account.scan()  # lock_wait_seconds = 1: it would exit 75 on a stale lock
    assert time.monotonic() - started < DEADLINE
    account.assert_one_draft_per_meeting(doc)
