"""`calbot run` as a real subprocess against the fake Google server (on 127.0.0.1, reached
over HTTP through `google.api_root`), scanning every second: it drafts, lives through
faults and revoked access, stops on a signal (at once on a second one) and refuses a bad
config at start. No fixed sleeps: every wait polls the log or the fake with a deadline."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import calbot
from calbot.adapters.sqlite import SqliteStore
from calbot.present.logs import parse_kv
from calbot.usecases.failures import AUTH_FIX

DEADLINE = 20.0
REPO = Path(calbot.__file__).resolve().parents[1]


def env_for(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CALBOT_CONFIG", "CALBOT_DEBUG")}
    env["CALBOT_STATE_DIR"] = str(state)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


class RunningWorker:
    """`calbot run` in a subprocess; its stderr read line by line on a thread."""

    def __init__(self, config: Path, state: Path, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "calbot", "run", "--config", str(config), *extra],
            env=env_for(state),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def events(self) -> list[dict[str, str]]:
        with self._lock:
            return [parse_kv(line) for line in self.lines]

    def text(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def wait_for(self, what: str, check: Callable[[list[dict[str, str]]], bool]) -> None:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if check(self.events()):
                return
            if self.proc.poll() is not None:
                self._reader.join(timeout=5)
                if check(self.events()):
                    return
                pytest.fail(
                    f"calbot run exited ({self.proc.returncode}) before {what}:\n"
                    + self.text()[-4000:]
                )
            time.sleep(0.05)
        pytest.fail(f"no {what} within {DEADLINE:.0f} s; log:\n" + self.text()[-4000:])

    def stop(self, signum: int) -> int:
        self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"calbot run still running {DEADLINE:.0f} s after {signum!r}; log:\n"
                + self.text()[-4000:]
            )
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def index_of_last(events: list[dict[str, str]], check: Callable[[dict[str, str]], bool]) -> int:
    found = [i for i, e in enumerate(events) if check(e)]
    return found[-1] if found else -1


_SCAN_ENDS = ("scan.done", "scan.failed")


def is_done(e: dict[str, str]) -> bool:
    return e.get("event") == "scan.done"


def failed_as(outcome: str) -> Callable[[dict[str, str]], bool]:
    return lambda e: e.get("event") == "scan.failed" and e.get("outcome") == outcome


def done_after(check: Callable[[dict[str, str]], bool]) -> Callable[[list[dict[str, str]]], bool]:
    """A scan finished after the last event matching `check` (which happened)."""

    def ok(events: list[dict[str, str]]) -> bool:
        last = index_of_last(events, check)
        return last >= 0 and any(is_done(e) for e in events[last + 1 :])

    return ok


def test_worker_drafts_survives_faults_and_revocation_and_stops_on_sigterm(
    google: Any, account: Any
) -> None:
    tokens_seen = set(google.access_tokens)
    worker = RunningWorker(account.config, account.state)
    try:
        # 1. it scans at once and leaves a draft
        worker.wait_for(
            "a scan that drafts",
            lambda ev: any(is_done(e) and int(e["drafted"]) >= 1 for e in ev),
        )
        assert google.drafts
        done = next(e for e in worker.events() if is_done(e) and int(e["drafted"]) >= 1)
        assert int(done["meetings"]) == 5 and int(done["api_requests"]) >= 1
        assert float(done["seconds"]) >= 0 and done["level"] == "info"
        written = next(e for e in worker.events() if e["event"] == "draft.written")
        assert written["summary"] == "Acme sync 9 (token ***)" and written["status"] == "new"

        # 2. a broken config edit is logged once and the last good config kept
        good = account.config.read_text(encoding="utf-8")
        account.config.write_text(good.replace('"1 second"', '"whenever"'), encoding="utf-8")
        worker.wait_for(
            "config.invalid and a scan after it",
            done_after(lambda e: e.get("event") == "config.invalid"),
        )
        invalid = [e for e in worker.events() if e["event"] == "config.invalid"]
        assert len(invalid) == 1 and "schedule.scan_every" in invalid[0]["error"]
        account.config.write_text(good + "\n# edited\n", encoding="utf-8")
        worker.wait_for(
            "config.reloaded", done_after(lambda e: e.get("event") == "config.reloaded")
        )

        # 3. Google answers 500s: logged as google_down, and a later scan succeeds
        google.fail("calendar.events.list", 500, 500, 500, 500)
        worker.wait_for("recovery after 500s", done_after(failed_as("google_down")))
        down = next(e for e in worker.events() if failed_as("google_down")(e))
        assert down["level"] == "warning" and "500" in down["error"]
        assert down["note"] == "Google still failing; retrying at the next scan"

        # 4. access revoked: loud, with the fix, and the worker keeps going
        tokens_seen |= set(google.access_tokens)
        google.revoke()
        google.expire_access_tokens()
        worker.wait_for(
            "the auth failure logged twice (the worker keeps scanning)",
            lambda ev: sum(failed_as("auth")(e) for e in ev) >= 2,
        )
        auth = next(e for e in worker.events() if failed_as("auth")(e))
        assert auth["level"] == "error" and auth["note"] == AUTH_FIX
        assert any(
            e["event"] == "auth.expired" and e["fix"] == "run `calbot auth`"
            for e in worker.events()
        )
        assert worker.proc.poll() is None

        # 5. SIGTERM: a clean stop
        code = worker.stop(signal.SIGTERM)
    finally:
        worker.kill()
    assert code == 0, worker.text()[-4000:]
    events = worker.events()  # every line parses as key=value
    assert [e["event"] for e in events].count("worker.start") == 1
    assert events[-1]["event"] == "worker.stop"
    assert any(e["event"] == "worker.stopping" and e["reason"] == "SIGTERM" for e in events)

    # the state file is consistent
    db = account.state / "state.sqlite3"
    assert db.exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()

    # every scan is in the run log the digest reads (once the store keeps one)
    store = SqliteStore.open(account.state, readonly=True)
    try:
        if hasattr(store, "runs"):
            runs = store.runs(datetime.now(UTC) - timedelta(hours=1))
            outcomes = [r.outcome for r in runs]
            logged = [e.get("outcome", "ok") for e in events if e["event"] in _SCAN_ENDS]
            assert outcomes == logged
            assert {"ok", "google_down", "auth"} <= set(outcomes)
            assert runs[0].counts["drafted"] >= 1
            assert next(r for r in runs if r.outcome == "auth").error == AUTH_FIX
    finally:
        store.close()

    # exactly one Gmail draft per drafted meeting, never a second one
    drafted_keys = {e["key"] for e in events if e["event"] == "draft.written"}
    assert drafted_keys and len(google.drafts) == len(drafted_keys)
    assert google.count("gmail.drafts.create") == len(google.drafts)
    ids = [google.draft_message(d)["Message-ID"] for d in google.drafts]
    assert len(set(ids)) == len(ids)

    # no secret in the log
    text = worker.text()
    token_file = json.loads(account.token.read_text(encoding="utf-8"))
    secrets = {
        *tokens_seen,
        token_file["token"],
        token_file["refresh_token"],
        "refresh-1",
        google.client_secret,
    }
    for secret in secrets:
        assert secret not in text, f"secret {secret[:6]}... in the log"


def test_sigint_lets_the_scan_under_way_finish(google: Any, account: Any) -> None:
    google.delay("calendar.events.list", 1.5)  # the first scan is slow
    worker = RunningWorker(
        account.config, account.state, "--log-format", "json", "--log-level", "debug"
    )
    try:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            with worker._lock:
                lines = list(worker.lines)
            if any(json.loads(x)["event"] == "scan.start" for x in lines):
                break
            assert worker.proc.poll() is None, "\n".join(lines)
            time.sleep(0.02)
        else:
            pytest.fail("no scan.start")
        code = worker.stop(signal.SIGINT)
    finally:
        worker.kill()
    assert code == 0, worker.text()[-4000:]
    events = [json.loads(x) for x in worker.lines]  # every line, libraries' too, is JSON
    names = [e["event"] for e in events]
    assert names[-1] == "worker.stop"
    stopping = names.index("worker.stopping")
    assert events[stopping]["reason"] == "SIGINT"
    # the scan under way when the signal came ran to its end, and no other scan started
    assert names.index("scan.done") > stopping and names.count("scan.start") == 1
    assert len(google.drafts) == 1
    with sqlite3.connect(account.state / "state.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_a_second_signal_abandons_the_scan_at_once(google: Any, account: Any) -> None:
    google.delay("calendar.events.list", 10)  # a scan that would take a long time
    worker = RunningWorker(account.config, account.state, "--log-level", "debug")
    try:
        worker.wait_for("scan.start", lambda ev: any(e["event"] == "scan.start" for e in ev))
        worker.proc.send_signal(signal.SIGTERM)
        worker.wait_for(
            "worker.stopping", lambda ev: any(e["event"] == "worker.stopping" for e in ev)
        )
        started = time.monotonic()
        code = worker.stop(signal.SIGTERM)
    finally:
        worker.kill()
    assert code == 128 + signal.SIGTERM
    assert time.monotonic() - started < 5  # it did not wait for the slow request
    events = worker.events()
    assert events[-1]["event"] == "worker.abort" and events[-1]["signal"] == "SIGTERM"
    assert not any(e["event"] in ("scan.done", "worker.stop") for e in events)


def test_bad_config_at_start_is_exit_2_and_one_line(tmp_path: Path) -> None:
    config = tmp_path / "calbot.toml"
    config.write_text('[user]\nemail = "me@example.com"\ntimezone = "Mars/Olympus"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "calbot", "run", "--config", str(config)],
        env=env_for(tmp_path / "state"),
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    err = proc.stderr.splitlines()
    assert len(err) == 1 and err[0].startswith("calbot: ") and "user.timezone" in err[0]
    assert not (tmp_path / "state").exists()
