"""The IMAP drafts sink end to end: `calbot scan` subprocesses on the demo week, drafts in a
real Dovecot's Drafts folder (tests/servers/imap_server.py), the user's mail client played
by the test. No fixed sleeps: every wait polls with a deadline."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from builders import DEMO_CLIENTS
from imapclient import IMAPClient
from servers import imap_server
from servers.calbot_worker import worker_lines
from servers.imap_server import Dovecot, Proxy, messages

from calbot.adapters.sqlite import SqliteStore
from calbot.usecases.demo import demo_calendar

DEADLINE = 60.0


class Mailbox:
    """One user's calbot config, state dir and demo calendar, drafting into `dovecot`."""

    def __init__(self, dovecot: Dovecot, tmp: Path) -> None:
        self.dovecot, self.tmp = dovecot, tmp
        (tmp / "cal.ics").write_text(demo_calendar(date.today()), encoding="utf-8")
        self.password_file = tmp / "imap-password"
        self.password_file.write_text(imap_server.PASSWORD + "\n", encoding="utf-8")
        self.password_file.chmod(0o600)
        self.env = dict(os.environ, CALBOT_STATE_DIR=str(tmp / "state"))
        for name in ("CALBOT_CONFIG", "CALBOT_IMAP_PASSWORD"):
            self.env.pop(name, None)
        self.write_config()

    def write_config(
        self,
        *,
        signature: str = "Alex",
        port: int | None = None,
        ca: bool = True,
        security: str = "tls",
    ) -> None:
        ca_line = f'ca_file = "{self.dovecot.cert}"' if ca else ""
        (self.tmp / "calbot.toml").write_text(
            f"""
[user]
email = "{imap_server.USER}"
name = "Alex Doe"
timezone = "Europe/Berlin"
own_domains = ["studio.example"]
signature = "{signature}"

[source]
kind = "ics"
path = "{self.tmp / "cal.ics"}"

[outputs]
imap_drafts = true
outbox = ""

[imap]
host = "127.0.0.1"
port = {port or self.dovecot.port}
security = "{security}"
username = "{imap_server.USER}"
password_file = "{self.password_file}"
{ca_line}

[limits]
lock_wait_seconds = 5
retry_budget_seconds = 3

{DEMO_CLIENTS}""",
            encoding="utf-8",
        )

    def start(self) -> subprocess.Popen[str]:
        config = self.tmp / "calbot.toml"
        return subprocess.Popen(
            [sys.executable, "-m", "calbot", "scan", "--config", str(config), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=self.tmp,
        )

    def run(self) -> tuple[int, str, str]:
        proc = self.start()
        out, err = proc.communicate(timeout=DEADLINE)
        return proc.returncode, out, err

    def scan(self) -> dict[str, Any]:
        code, out, err = self.run()
        assert code == 0, err
        doc: dict[str, Any] = json.loads(out)
        return doc

    def drafts(self) -> dict[str, list[tuple[int, email.message.EmailMessage]]]:
        """Message-ID → [(uid, message)] in Drafts."""
        found: dict[str, list[tuple[int, Any]]] = {}
        for uid, raw in messages(self.dovecot):
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            found.setdefault(str(msg["Message-ID"]), []).append((uid, msg))
        return found


def statuses(doc: dict[str, Any]) -> Counter[str]:
    return Counter(m["draft"]["status"] for m in doc["meetings"] if m.get("draft"))


def body(msg: Any) -> str:
    return str(msg.get_body(preferencelist=("plain",)).get_content())


@pytest.fixture
def mailbox(dovecot: Dovecot, tmp_path: Path) -> Mailbox:
    return Mailbox(dovecot, tmp_path)


@contextlib.contextmanager
def proxy(dovecot: Dovecot, mode: str) -> Iterator[Proxy]:
    p = Proxy(dovecot.port, mode=mode, big=800)
    try:
        yield p
    finally:
        p.close()


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_drafts_are_appended_once_and_an_unchanged_rescan_writes_nothing(mailbox):
    doc = mailbox.scan()
    assert statuses(doc) == {"new": 6}
    drafts = mailbox.drafts()
    assert len(drafts) == 6 and all(len(copies) == 1 for copies in drafts.values())
    c = mailbox.dovecot.client()
    c.select_folder("Drafts", readonly=True)
    flags = c.get_flags(c.search("ALL"))
    c.logout()
    assert all({b"\\Draft", b"\\Seen"} <= set(f) for f in flags.values())
    uids = {m: [u for u, _ in v] for m, v in drafts.items()}

    # Dovecot logs a disconnect a moment after the LOGOUT: wait until every session so far
    # (the first scan's, this test's own) has been logged out before marking the log
    server = mailbox.dovecot
    wait_for(lambda: server.logouts() >= len(server.logins()), "the earlier sessions' logouts")
    since = len(server.log())
    again = mailbox.scan()
    assert statuses(again) == {"unchanged": 6}
    # one SELECT/SEARCH round (the Message-IDs of Drafts in one FETCH), no APPEND, no
    # STORE or EXPUNGE; the connection logged out at the end of the scan
    verbs = [c.split(" (")[0].split(" 1,")[0] for c in mailbox.dovecot.commands(since)]
    assert verbs == [
        "LOGIN", 'LIST "" "*"', 'SELECT "Drafts"', "CAPABILITY", "UID SEARCH ALL",
        "UID FETCH", "LOGOUT",
    ], verbs  # fmt: skip
    wait_for(lambda: server.logouts(since) >= 1, "the scan's logout")
    assert server.logouts(since) == 1
    assert {m: [u for u, _ in v] for m, v in mailbox.drafts().items()} == uids  # no APPEND


def test_a_lost_state_adopts_its_drafts(mailbox):
    mailbox.scan()
    before = mailbox.drafts()
    shutil.rmtree(mailbox.tmp / "state")
    doc = mailbox.scan()
    assert statuses(doc) == {"unchanged": 6}
    assert mailbox.drafts().keys() == before.keys()
    assert all(len(v) == 1 for v in mailbox.drafts().values())


def test_a_changed_draft_replaces_calbots_own(mailbox):
    mailbox.scan()
    mailbox.write_config(signature="Alex D.")
    doc = mailbox.scan()
    assert statuses(doc) == {"updated": 6}
    drafts = mailbox.drafts()
    assert len(drafts) == 6 and all(len(v) == 1 for v in drafts.values())
    assert all("Alex D." in body(v[0][1]) for v in drafts.values())


def test_sigkill_between_the_append_and_the_expunge_leaves_exactly_one(mailbox):
    mailbox.scan()
    mailbox.write_config(signature="Alex D.")
    with proxy(mailbox.dovecot, "hold_after") as p:
        mailbox.write_config(signature="Alex D.", port=p.port)
        proc = mailbox.start()
        wait_for(lambda: p.held.is_set() or proc.poll() is not None, "the APPEND")
        assert p.held.is_set(), proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=DEADLINE)
    assert proc.returncode == -signal.SIGKILL
    assert max(len(v) for v in mailbox.drafts().values()) == 2  # the new and the old
    mailbox.write_config(signature="Alex D.")
    doc = mailbox.scan()
    drafts = mailbox.drafts()
    assert len(drafts) == 6 and all(len(v) == 1 for v in drafts.values())
    assert all("Alex D." in body(v[0][1]) for v in drafts.values())
    assert set(statuses(doc)) <= {"updated", "unchanged"}


def test_a_draft_the_user_edited_is_kept(mailbox):
    mailbox.scan()
    mid = sorted(mailbox.drafts())[0]
    old = body(mailbox.drafts()[mid][0][1]).splitlines()[0].encode()
    imap_server.user_edits(mailbox.dovecot, mid, b"Alex", b"Alexandra")
    mailbox.write_config(signature="Alex D.")
    doc = mailbox.scan()
    assert statuses(doc) == {"updated": 5, "user_edited": 1}
    drafts = mailbox.drafts()
    assert len(drafts[mid]) == 1 and "Alexandra" in body(drafts[mid][0][1])
    assert old  # the draft had text to edit


@pytest.mark.parametrize("mode", ["drop_before", "drop_after"])
def test_a_connection_dropped_mid_append_converges(mailbox, mode):
    """The server never got the draft, or stored it without the answer reaching calbot:
    either way one scan later there is exactly one draft per meeting."""
    with proxy(mailbox.dovecot, mode) as p:
        mailbox.write_config(port=p.port)
        code, _, err = mailbox.run()
        assert p.tripped.is_set()
    mailbox.write_config()
    if code != 0:
        assert code == 4, err
        mailbox.scan()
    doc = mailbox.scan()
    assert statuses(doc) == {"unchanged": 6}
    drafts = mailbox.drafts()
    assert len(drafts) == 6 and all(len(v) == 1 for v in drafts.values())


def test_a_wrong_password_exits_3_naming_the_file(mailbox):
    mailbox.password_file.write_text("not-it\n", encoding="utf-8")
    code, _, err = mailbox.run()
    assert code == 3, err
    assert str(mailbox.password_file) in err and "refused the login" in err
    assert "not-it" not in err and "Traceback" not in err


def test_the_environment_password_wins(mailbox):
    mailbox.password_file.write_text("not-it\n", encoding="utf-8")
    mailbox.env["CALBOT_IMAP_PASSWORD"] = imap_server.PASSWORD
    assert statuses(mailbox.scan()) == {"new": 6}


def test_a_certificate_that_does_not_verify_is_refused(mailbox):
    mailbox.write_config(ca=False)  # the system's CAs: the self-signed one is unknown
    code, _, err = mailbox.run()
    assert code == 4, err
    assert "does not verify" in err and "ca_file" in err and "Traceback" not in err
    assert mailbox.drafts() == {}


def test_starttls_on_the_plain_port(mailbox):
    """`security = "starttls"` on the plain listener: Dovecot logs each login "TLS" when
    the session was upgraded ("secured" for a plain loopback one, which it would accept);
    the certificate is verified against `ca_file`."""
    plain = IMAPClient("127.0.0.1", port=mailbox.dovecot.starttls_port, ssl=False, timeout=10)
    since = len(mailbox.dovecot.log())
    plain.login(imap_server.USER, imap_server.PASSWORD)  # the check below can tell
    plain.logout()
    assert mailbox.dovecot.logins(since) == ["secured"]
    mailbox.write_config(port=mailbox.dovecot.starttls_port, security="starttls")
    since = len(mailbox.dovecot.log())
    assert statuses(mailbox.scan()) == {"new": 6}
    assert mailbox.dovecot.logins(since) == ["TLS"]
    assert statuses(mailbox.scan()) == {"unchanged": 6}
    assert len(mailbox.drafts()) == 6
    mailbox.write_config(port=mailbox.dovecot.starttls_port, security="starttls", ca=False)
    code, _, err = mailbox.run()
    assert code == 4, err
    assert "does not verify" in err and "Traceback" not in err


def test_sent_and_deleted_drafts_are_told_apart(mailbox):
    mailbox.scan()
    first, second = sorted(mailbox.drafts())[:2]
    imap_server.user_deletes(mailbox.dovecot, first, sends=True)
    imap_server.user_deletes(mailbox.dovecot, second)
    doc = mailbox.scan()
    assert statuses(doc) == {"unchanged": 4, "sent": 1, "user_deleted": 1}
    again = mailbox.scan()  # remembered, never re-created
    assert statuses(again) == {"unchanged": 4, "sent": 1, "user_deleted": 1}
    assert len(mailbox.drafts()) == 4

    config = str(mailbox.tmp / "calbot.toml")
    digest = subprocess.run(
        [sys.executable, "-m", "calbot", "digest", "--config", config],
        capture_output=True, text=True, env=mailbox.env, timeout=DEADLINE, check=False,
    )  # fmt: skip
    assert digest.returncode == 0, digest.stderr
    assert "[sent]" in digest.stdout and digest.stdout.count("[sent]") == 1
    # the digest itself waits in the same Drafts folder, once
    assert sum("calbot.digest." in mid for mid in mailbox.drafts()) == 1


IMAP_FIX = "check the IMAP password ([imap] password_file or $CALBOT_IMAP_PASSWORD)"


def test_a_refused_password_says_the_imap_fix_everywhere(mailbox):
    """The CLI line, the worker's log, the run record and the digest name the IMAP
    password — never `calbot auth`, which is for Google."""
    mailbox.scan()
    mailbox.password_file.write_text("not-it\n", encoding="utf-8")
    code, _, err = mailbox.run()
    assert code == 3, err
    assert err.strip().endswith(IMAP_FIX) and "calbot auth" not in err

    events = worker_lines(mailbox.tmp / "calbot.toml", mailbox.env, "auth.refused", DEADLINE)
    refused = next(e for e in events if e["event"] == "auth.refused")
    assert refused["fix"] == IMAP_FIX
    failed = next(e for e in events if e["event"] == "scan.failed")
    assert failed["outcome"] == "auth" and IMAP_FIX in failed["note"]
    assert "calbot auth" not in json.dumps(events) and "Google" not in json.dumps(events)

    store = SqliteStore.open(mailbox.tmp / "state", readonly=True)
    try:
        runs = [r for r in store.runs(datetime(2000, 1, 1, tzinfo=UTC)) if r.outcome == "auth"]
    finally:
        store.close()
    assert len(runs) == 2 and all(run.error.endswith(IMAP_FIX) for run in runs)

    mailbox.env["CALBOT_IMAP_PASSWORD"] = imap_server.PASSWORD  # the digest must get through
    config = str(mailbox.tmp / "calbot.toml")
    digest = subprocess.run(
        [sys.executable, "-m", "calbot", "digest", "--config", config],
        capture_output=True, text=True, env=mailbox.env, timeout=DEADLINE, check=False,
    )  # fmt: skip
    assert digest.returncode == 0, digest.stderr
    assert "the IMAP server refused calbot's password" in digest.stdout
    assert IMAP_FIX in digest.stdout
    assert "calbot auth" not in digest.stdout and "Google access" not in digest.stdout
