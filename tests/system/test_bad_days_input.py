"""Bad days (issue 11): inputs, Google answers, a broken token file, a corrupt state store and
a bad outbox, through the real CLI against the fake Google server (real googleapiclient,
google-auth, httplib2 and SQLite). Each case: the right exit code and one stderr line naming
what is wrong, or a warning naming the one event while the scan goes on — never exit 1, a
hang, or a retry loop. docs/reliability.md, "Bad days: input, Google, store, outbox".
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from builders import GOOGLE_USER, google_time, google_toml, next_tuesday

from calbot.cli.main import main

TZ = ZoneInfo("Europe/Berlin")
SCOPES = ["calendar.events", "gmail.compose"]
HOURS = (9, 10, 11, 13, 14)  # five in-person client meetings: five `call` drafts


@dataclass
class Run:
    code: int
    doc: dict[str, Any]
    err: str
    out: str = ""


class Account:
    """A Google user with five one-hour in-person meetings with Acme next Tuesday."""

    def __init__(self, google: Any, tmp: Path, capsys: Any, monkeypatch: Any) -> None:
        self.google, self.dir, self.capsys = google, tmp, capsys
        self.day = next_tuesday()
        self.state = tmp / "state"
        self.token = tmp / "token.json"
        self.config = tmp / "calbot.toml"
        monkeypatch.setenv("CALBOT_STATE_DIR", str(self.state))
        monkeypatch.delenv("CALBOT_CONFIG", raising=False)
        google.user_email = GOOGLE_USER
        google.write_token(self.token, SCOPES)
        self.configure()
        self.ids = [self.add_meeting(h) for h in HOURS]

    def configure(self, outputs: str = 'outbox = ""') -> None:
        self.config.write_text(
            google_toml(self.google.root, self.token)
            + f"""
[outputs]
gmail_drafts = true
calendar_notes = true
{outputs}

[limits]
retry_budget_seconds = 1
lock_wait_seconds = 1

[[clients]]
name = "Acme"
domains = ["acme.example"]
""",
            encoding="utf-8",
        )

    def add_meeting(self, hour: int, **fields: Any) -> str:
        base: dict[str, Any] = {
            "summary": f"Acme sync {hour}",
            "description": "Agenda: the plan.",
            "location": "Acme office, Room 1",
            "start": google_time(self.day, hour),
            "end": google_time(self.day, hour + 1),
            "organizer": {"email": "ana@acme.example"},
            "attendees": [
                {"email": "ana@acme.example", "organizer": True, "responseStatus": "accepted"},
                {"email": GOOGLE_USER, "self": True, "responseStatus": "accepted"},
            ],
        }
        base.update(fields)
        return str(self.google.add_event(**base)["id"])

    def run(self, *args: str) -> Run:
        """`calbot <args> --config <config>` in this process; stderr captured."""
        self.capsys.readouterr()
        out = io.StringIO()
        code = main([*args, "--config", str(self.config)], out=out)
        text = out.getvalue()
        doc = json.loads(text) if code == 0 and "--json" in args else {}
        return Run(code, doc, self.capsys.readouterr().err, text)

    def scan(self, *extra: str) -> Run:
        return self.run("scan", "--json", *extra)

    def rows(self, table: str) -> int:
        conn = sqlite3.connect(self.state / "state.sqlite3")
        try:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        finally:
            conn.close()

    def noted(self) -> list[str]:
        """The meetings whose copy carries calbot's note."""
        out = []
        for event_id in self.ids:
            private = self.google.event("primary", event_id).get("extendedProperties", {})
            if "calbot_action" in private.get("private", {}):
                out.append(event_id)
        return out


@pytest.fixture
def account(google, tmp_path, capsys, monkeypatch) -> Account:
    return Account(google, tmp_path, capsys, monkeypatch)


def one_line(err: str) -> str:
    """stderr's only `calbot: ` line (in-process: pytest also captures log records)."""
    lines = [line for line in err.splitlines() if line.startswith("calbot: ")]
    assert len(lines) == 1, err
    return lines[0]


def drafted(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in doc["meetings"] if m.get("draft")]


# --- #4: dates at the edges of the representable range ----------------------------------------


def test_a_google_event_ending_in_year_9999_is_clipped_and_every_meeting_drafted(account):
    account.add_meeting(
        16,
        summary="Forever",
        end={"dateTime": "9999-12-31T23:00:00Z", "timeZone": "UTC"},
    )
    run = account.scan()
    assert run.code == 0, run.err
    assert len([m for m in drafted(run.doc) if m["summary"].startswith("Acme sync")]) == 5


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--to", "9999-12-31"], "--to"),
        (["--from", "9999-12-30"], "--from"),
        (["--from", "1969-12-31", "--to", "1970-01-05"], "--from"),
        (["--to", "2101-01-01"], "--to"),
        (["--from", "2030-01-01", "--to", "2031-01-03"], "--from/--to"),
    ],
    ids=["to_9999", "from_9999", "from_1969", "to_2101", "over_366_days"],
)
def test_a_window_outside_1970_2100_or_over_366_days_is_exit_2_naming_the_option(
    account, args, named
):
    account.google.clear_log()
    run = account.scan(*args)
    assert run.code == 2, run.err
    line = one_line(run.err)
    assert line.startswith(f"calbot: {named}:"), line
    assert not account.google.requests  # refused before any request


# --- #6: a calendar note Google refuses ---------------------------------------------------------


@pytest.mark.parametrize("status", [400, 409, 412])
def test_a_note_google_refuses_is_a_warning_and_the_scan_records_everything(account, status):
    account.google.fail("calendar.events.patch", status, reason="conditionNotMet")
    run = account.scan()
    assert run.code == 0, run.err
    assert len(drafted(run.doc)) == 5
    refused = [w for w in run.doc["warnings"] if "calendar note skipped" in w]
    assert len(refused) == 1 and f"({status})" in refused[0], run.doc["warnings"]
    assert "primary/" in refused[0]
    assert len(account.noted()) == 4  # the other notes are written
    assert account.rows("decisions") == 5
    assert account.rows("reviews") == 5  # the digest's items
    goodwill = [m for m in drafted(run.doc) if m["action"] in ("email", "reschedule")]
    assert account.rows("goodwill") == len(goodwill)
    assert account.google.pending() == 0
    # the next scan writes the missing note and nothing else
    again = account.scan()
    assert again.code == 0, again.err
    assert len(account.noted()) == 5


# --- #13: 410 on page 2 of a full sync ------------------------------------------------------------


def test_a_410_on_page_2_of_a_full_sync_restarts_it_once(account, monkeypatch):
    monkeypatch.setattr("calbot.adapters.google.pages.PAGE_SIZE", 3)  # two pages of five
    account.google.clear_log()
    account.google.fail("calendar.events.list", 200, 410, reason="fullSyncRequired")
    run = account.scan()
    assert run.code == 0, run.err
    account.google.wait_idle()
    lists = [r for r in account.google.requests if r.route == "calendar.events.list"]
    assert [r.status for r in lists] == [200, 410, 200, 200]
    assert "pageToken" not in lists[2].query  # started over
    assert len(drafted(run.doc)) == 5
    assert account.google.pending() == 0
    again = account.scan()  # the full sync left a usable token
    assert again.code == 0, again.err
    lists = [r for r in account.google.requests if r.route == "calendar.events.list"]
    assert "syncToken" in lists[-1].query


def test_a_second_410_in_the_restarted_full_sync_is_exit_4(account, monkeypatch):
    monkeypatch.setattr("calbot.adapters.google.pages.PAGE_SIZE", 3)
    account.google.fail("calendar.events.list", 200, 410, 200, 410, reason="fullSyncRequired")
    run = account.scan()
    assert run.code == 4, run.err
    one_line(run.err)
    account.google.wait_idle()
    assert account.google.pending() == 0
    again = account.scan()
    assert again.code == 0, again.err
    assert len(drafted(again.doc)) == 5


# --- #11: a token file calbot cannot use ------------------------------------------------------


def rewrite_token(account: Account, **fields: Any) -> None:
    info = json.loads(account.token.read_text(encoding="utf-8"))
    info.update(fields)
    account.token.write_text(json.dumps(info), encoding="utf-8")
    account.token.chmod(0o600)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"scopes": 5}, "scopes"),
        ({"scopes": [1, 2]}, "scopes"),
        ({"token_uri": 42}, "token_uri"),
        ({"token_uri": "file:///etc/passwd"}, "token_uri"),
        ({"token_uri": "not a url"}, "token_uri"),
        ({"token_uri": "http://token.example/token"}, "token_uri"),  # http off this machine
        ({"client_id": ["x"]}, "client_id"),
    ],
    ids=["scopes_5", "scopes_ints", "token_uri_42", "token_uri_file", "token_uri_words",
         "token_uri_http_remote", "client_id_list"],
)  # fmt: skip
def test_a_token_file_field_of_the_wrong_kind_is_exit_3_naming_it_at_once(account, fields, named):
    rewrite_token(account, **fields)
    account.google.expire_access_tokens()  # a refresh would be needed: none must be tried
    account.google.clear_log()
    began = time.monotonic()
    run = account.scan()
    assert run.code == 3, run.err
    line = one_line(run.err)
    assert str(account.token) in line and f"{named} " in line and "calbot auth" in line, line
    assert time.monotonic() - began < 5
    assert not account.google.requests


def scan_process(account: Account, timeout: float = 60) -> tuple[int, str]:
    """A real `python -m calbot scan` (a hang fails the test instead of stopping pytest)."""

    env = dict(os.environ, CALBOT_STATE_DIR=str(account.state))
    env.pop("CALBOT_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "calbot", "scan", "--config", str(account.config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_fifo_or_directory_as_the_token_file_is_exit_3_without_hanging(account, kind):
    account.token.unlink()
    if kind == "fifo":
        os.mkfifo(account.token, 0o600)
    else:
        account.token.mkdir(mode=0o700)
    began = time.monotonic()
    code, err = scan_process(account)
    assert code == 3, err
    (line,) = err.splitlines()
    assert str(account.token) in line and f"a {kind}" in line.replace("FIFO", "fifo"), line
    assert time.monotonic() - began < 30


# --- #12: a corrupt state store -------------------------------------------------------------------


def break_store(account: Account, how: str) -> Path:
    path = account.state / "state.sqlite3"
    if how == "directory":
        account.state.mkdir(mode=0o700, exist_ok=True)
        path.mkdir(mode=0o700)
        return path
    assert account.scan().code == 0  # a real store first
    for extra in ("-wal", "-shm"):  # checkpointed by the scan's close
        assert not path.with_name(path.name + extra).exists() or extra == "-shm"
    data = path.read_bytes()
    if how == "garbage":
        path.write_bytes(b"\x8f garbage, not a database \x00" * 200)
    else:  # truncated
        path.write_bytes(data[: len(data) // 3])
    return path


COMMANDS = {
    "scan": ["scan", "--json"],
    "scan_dry_run": ["scan", "--dry-run"],
    "digest": ["digest"],
    "explain": ["explain", "some-event"],
    "doctor": ["doctor"],
}


@pytest.mark.parametrize("how", ["garbage", "truncated", "directory"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_corrupt_state_store_is_exit_2_naming_the_file_and_the_fix(account, how, command):
    path = break_store(account, how)
    run = account.run(*COMMANDS[command])
    if command == "doctor":  # the doctor reports it among its checks
        assert run.code == 2, run.out + run.err
        assert str(path) in run.out and "move it aside" in run.out, run.out
        return
    assert run.code == 2, run.err
    line = one_line(run.err)
    assert str(path) in line and "move it aside" in line and "lost store is safe" in line, line


@pytest.mark.parametrize("how", ["garbage", "directory"])
def test_the_worker_with_a_corrupt_state_store_is_exit_2_at_once(account, how):
    path = break_store(account, how)
    env = dict(os.environ, CALBOT_STATE_DIR=str(account.state))
    env.pop("CALBOT_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "calbot", "run", "--config", str(account.config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert str(path) in line and "move it aside" in line, line


# --- #10: the outbox ----------------------------------------------------------------------------


def use_outbox(account: Account, folder: Path) -> None:
    account.configure(outputs=f'outbox = "{folder}"')


@pytest.mark.parametrize("how", ["a_file", "under_a_file", "unwritable"])
def test_a_bad_outbox_is_exit_2_naming_the_key_before_any_draft_is_written(account, how):
    folder = account.dir / "outbox"
    if how == "a_file":
        folder.write_text("not a folder", encoding="utf-8")
    elif how == "under_a_file":
        (account.dir / "plain").write_text("x", encoding="utf-8")
        folder = account.dir / "plain" / "outbox"
    else:
        if os.geteuid() == 0:
            pytest.skip("root may write into any folder: nothing to refuse")
        folder.mkdir(mode=0o500)
    use_outbox(account, folder)
    account.google.clear_log()
    run = account.scan()
    assert run.code == 2, run.err
    line = one_line(run.err)
    assert "outputs.outbox" in line and str(account.config) in line, line
    assert account.google.count("gmail.drafts.create") == 0
    assert account.google.count("calendar.events.patch") == 0
    assert not account.google.requests


def make_fifo(path: Path) -> None:
    os.mkfifo(path, 0o600)


def test_a_directory_fifo_or_link_where_a_draft_goes_is_left_alone(account):
    folder = account.dir / "outbox"
    use_outbox(account, folder)
    first = account.scan()
    assert first.code == 0, first.err
    names = sorted(p.name for p in folder.glob("calbot-*.eml"))
    assert len(names) == 5
    # a lost store: every draft file must be written again, and three places are taken
    (account.state / "state.sqlite3").unlink()
    for name in names:
        (folder / name).unlink()
    outside = account.dir / "precious.txt"
    outside.write_text("not calbot's", encoding="utf-8")
    (folder / names[0]).mkdir()
    make_fifo(folder / names[1])
    (folder / names[2]).symlink_to(outside)
    code, err = scan_process(account)
    assert code == 0, err
    assert outside.read_text(encoding="utf-8") == "not calbot's"
    assert (folder / names[0]).is_dir()
    assert (folder / names[1]).is_fifo()
    assert (folder / names[2]).is_symlink()
    assert all((folder / n).is_file() and not (folder / n).is_symlink() for n in names[3:])
    for name, kind in zip(names[:3], ("a directory", "a FIFO", "a symbolic link"), strict=True):
        assert f"{folder / name} is {kind}" in err, err


def test_a_draft_file_replaced_by_a_fifo_or_directory_is_observed_without_hanging(account):
    folder = account.dir / "outbox"
    use_outbox(account, folder)
    assert account.scan().code == 0
    names = sorted(p.name for p in folder.glob("calbot-*.eml"))
    (folder / names[0]).unlink()
    make_fifo(folder / names[0])
    (folder / names[1]).unlink()
    (folder / names[1]).mkdir()
    (folder / ".calbot-leftover.tmp").mkdir()  # not a temp file calbot wrote
    account.add_meeting(15)  # the day's load changes: every draft would be rewritten
    code, err = scan_process(account)
    assert code == 0, err
    assert (folder / names[0]).is_fifo() and (folder / names[1]).is_dir()
    assert (folder / ".calbot-leftover.tmp").is_dir()
