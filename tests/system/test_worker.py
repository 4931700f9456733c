"""`calbot run`, the unattended worker: a real subprocess against the fake Google server (on
127.0.0.1, reached over HTTP through `google.api_root`), scanning every second. No fixed
sleeps: every wait polls the log or the fake with a deadline."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from builders import google_toml

import calbot
from calbot.adapters.lock import StateLock
from calbot.adapters.sqlite import SqliteStore
from calbot.config.loader import load_settings
from calbot.config.settings import Settings
from calbot.core.records import RunRecord
from calbot.core.settings import UserSettings
from calbot.core.vocab import RunOutcome
from calbot.errors import AuthError, ConfigError, LockedError, ServiceError
from calbot.present.logs import parse_kv, setup_logging
from calbot.usecases import digest as digest_usecase
from calbot.usecases.failures import AUTH_FIX, LOCKED_TEXT, failure_of
from calbot.usecases.jobs import Jobs
from calbot.usecases.runlog import record_if_free, record_quietly
from calbot.usecases.worker import Worker, misfire_grace

TZ = ZoneInfo("Europe/Berlin")
SCOPES = ["calendar.events", "gmail.compose"]
DEADLINE = 20.0
REPO = Path(calbot.__file__).resolve().parents[1]


def next_tuesday() -> date:
    today = datetime.now(TZ).date()
    return today + timedelta(days=7 - today.weekday() + 1)


def stamp(day: date, hh: int) -> dict[str, str]:
    return {
        "dateTime": datetime(day.year, day.month, day.day, hh, tzinfo=TZ).isoformat(),
        "timeZone": "Europe/Berlin",
    }


# The tables after the shared Google head (builders.google_toml).
CONFIG = """
[outputs]
gmail_drafts = true
calendar_notes = true
outbox = ""

[schedule]
scan_every = "1 second"
digest_at = "07:30"

[limits]
http_timeout_seconds = 5
retry_budget_seconds = 0.01
lock_wait_seconds = 1

[[clients]]
name = "Acme"
domains = ["acme.example"]
timezone = "Europe/London"
"""


@pytest.fixture
def account(google: Any, tmp_path: Path) -> types.SimpleNamespace:
    """An overloaded Tuesday next week (five one-hour Acme meetings) and a config that
    scans it every second."""
    google.user_email = "me@example.com"
    token = tmp_path / "token.json"
    secret = tmp_path / "client_secret.json"
    google.write_token(token, SCOPES)
    google.write_client_secret(secret)
    config = tmp_path / "calbot.toml"
    config.write_text(google_toml(google.root, token, secret) + CONFIG, encoding="utf-8")
    access_token = json.loads(token.read_text(encoding="utf-8"))["token"]
    day = next_tuesday()
    for hour in (9, 10, 11, 13, 14):
        # the meeting calbot drafts for has the access token pasted into its title: the
        # worker logs titles, so its scrubber must mask it
        title = f"Acme sync {hour}" + (f" (token {access_token})" if hour == 9 else "")
        google.add_event(
            summary=title,
            description="Agenda: the plan.",
            start=stamp(day, hour),
            end=stamp(day, hour + 1),
            organizer={"email": "ana@acme.example", "displayName": "Ana"},
            attendees=[
                {
                    "email": "ana@acme.example",
                    "displayName": "Ana",
                    "organizer": True,
                    "responseStatus": "accepted",
                },
                {"email": "me@example.com", "self": True, "responseStatus": "accepted"},
            ],
        )
    return types.SimpleNamespace(
        config=config, token=token, secret=secret, state=tmp_path / "state", tmp=tmp_path
    )


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


# --- in-process pieces ---------------------------------------------------------------------


@pytest.fixture
def captured() -> Iterator[Callable[[], list[dict[str, str]]]]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    setup_logging("kv", "debug", stream=stream)
    yield lambda: [parse_kv(line) for line in stream.getvalue().splitlines()]
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def test_failure_outcomes() -> None:
    assert failure_of(AuthError("gone")).outcome == "auth"
    assert failure_of(AuthError("gone")).level == logging.ERROR
    assert failure_of(LockedError("busy")).note == LOCKED_TEXT
    assert failure_of(ServiceError("500s")).outcome == "google_down"
    assert failure_of(ConfigError("x.toml", "k", "bad")).outcome == "failed"
    from calbot.errors import OpenSecretFileError, TokenFileError

    refused = failure_of(OpenSecretFileError("t.json is readable by others", Path("/x/t.json")))
    assert refused.outcome == "failed" and refused.level == logging.ERROR
    assert refused.note == "run `chmod 600 /x/t.json`; retrying at the next scan"
    assert failure_of(TokenFileError("no Google token at t.json")).note == AUTH_FIX
    other = failure_of(ValueError("boom\nline"))
    assert other.outcome == "failed" and other.error == "ValueError: boom line"
    # the same table gives the CLI its exit codes
    assert failure_of(AuthError("gone")).exit_code == refused.exit_code == 3
    assert other.exit_code == 1
    assert failure_of(LockedError("busy")).exit_code == 75
    assert failure_of(ServiceError("500s")).exit_code == 4
    assert failure_of(ConfigError("x.toml", "k", "bad")).exit_code == 2
    assert misfire_grace(timedelta(seconds=1)) == 1
    assert misfire_grace(timedelta(hours=1)) == 300


def test_an_open_token_file_is_not_reported_as_revoked_access(
    google: Any, account: Any, captured: Any
) -> None:
    """A token file others can read is refused (an AuthError, exit 3), but its fix is
    `chmod 600`, not `calbot auth`: the worker must not log "access expired or revoked"."""
    account.token.chmod(0o644)
    settings = load_settings(account.config)
    jobs = Jobs(account.config, account.state, settings, load=lambda _: settings)
    assert jobs.scan(jobs.current_settings()) == "failed"
    events = captured()
    [failed] = [e for e in events if e["event"] == "scan.failed"]
    assert f"chmod 600 {account.token}" in failed["error"]
    assert failed["note"] == f"run `chmod 600 {account.token}`; retrying at the next scan"
    assert not any(e["event"] == "auth.expired" for e in events)
    assert AUTH_FIX not in json.dumps(events)
    assert not google.requests  # refused before any request

    account.token.chmod(0o600)  # fixed: the next tick scans
    assert jobs.scan(jobs.current_settings()) == "ok"


def test_a_held_lock_skips_the_scan(google: Any, account: Any, captured: Any) -> None:
    settings = load_settings(account.config)
    settings = replace(settings, limits=replace(settings.limits, lock_wait_seconds=0.1))
    jobs = Jobs(account.config, account.state, settings, load=lambda _: settings)
    with StateLock(account.state, wait_seconds=1):
        assert jobs.scan(jobs.current_settings()) == "locked"
    failed = [e for e in captured() if e["event"] == "scan.failed"]
    assert failed and failed[0]["outcome"] == "locked" and failed[0]["note"] == LOCKED_TEXT
    assert not google.requests  # nothing was read while another calbot held the store
    assert jobs.scan(jobs.current_settings()) == "ok"  # and the next tick scans


class FakeStore:
    def __init__(self) -> None:
        self.runs: list[RunRecord] = []
        self.in_tx = False

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        @contextlib.contextmanager
        def tx() -> Iterator[None]:
            self.in_tx = True
            try:
                yield
            finally:
                self.in_tx = False

        return tx()

    def add_run(self, run: RunRecord) -> None:
        assert self.in_tx
        self.runs.append(run)


def test_record_run_uses_the_store_and_tolerates_one_without_a_run_log(
    tmp_path: Path, captured: Any
) -> None:
    now = datetime.now(UTC)
    record = RunRecord(
        started_at=now, finished_at=now, outcome=RunOutcome.OK, counts={"drafted": 1}
    )
    store = FakeStore()
    assert record_quietly(store, record) is True  # type: ignore[arg-type]
    assert store.runs == [record]
    old = types.SimpleNamespace(transaction=store.transaction)
    assert record_quietly(old, record) is False
    [line] = [e for e in captured() if e["event"] == "run.not_recorded"]
    assert line["level"] == "warning" and line["error"].startswith("AttributeError: ")


def load_settings_stub(tmp_path: Path) -> Settings:
    return Settings(user=UserSettings(email="me@example.com"), path=str(tmp_path / "x.toml"))


def test_record_run_skips_when_the_lock_is_busy(tmp_path: Path, captured: Any) -> None:
    now = datetime.now(UTC)
    record = RunRecord(started_at=now, finished_at=now, outcome=RunOutcome.FAILED, error="x")
    started = time.monotonic()
    with StateLock(tmp_path / "state", wait_seconds=1):
        assert record_if_free(tmp_path / "state", record) is False
    assert time.monotonic() - started < 5  # it did not wait the 60 s default
    assert any(e.get("reason") == "state store busy" for e in captured())
    assert record_if_free(tmp_path / "state", record) is True  # free again: recorded
    store = SqliteStore.open(tmp_path / "state", readonly=True)
    try:
        assert [(r.outcome, r.error) for r in store.runs(now - timedelta(seconds=1))] == [
            ("failed", "x")
        ]
    finally:
        store.close()


def test_the_digest_job_calls_the_digest_use_case(tmp_path: Path, captured: Any) -> None:
    settings = load_settings_stub(tmp_path)
    config = tmp_path / "calbot.toml"
    config.write_text("")
    # imported, not looked up: the worker runs the digest use case itself
    assert Jobs(config, tmp_path, settings).run_digest is digest_usecase.run_digest
    calls = []

    def entry(*args: object, **kwargs: object) -> object:
        calls.append((args, kwargs))
        return types.SimpleNamespace(
            full=types.SimpleNamespace(pending=0, scans=0, trouble=()),
            html_path=tmp_path / "digest.html",
            gmail=None,
            eml_path=None,
        )

    jobs = Jobs(config, tmp_path, settings, load=lambda _: settings, run_digest=entry)  # type: ignore[arg-type]
    before = datetime.now(TZ)
    Worker(jobs).digest_job()
    [(args, kwargs)] = calls
    assert args == (settings, tmp_path) and list(kwargs) == ["now"]
    now = kwargs["now"]
    assert isinstance(now, datetime) and now.tzinfo == ZoneInfo(settings.user.timezone)
    assert before <= now <= datetime.now(TZ)


def test_the_digest_job_logs_what_it_did_and_survives_failures(
    tmp_path: Path, captured: Any
) -> None:
    settings = load_settings_stub(tmp_path)
    config = tmp_path / "calbot.toml"
    config.write_text("")
    result = types.SimpleNamespace(
        full=types.SimpleNamespace(pending=2, scans=5, trouble=()),
        html_path=tmp_path / "state" / "digest.html",
        gmail=types.SimpleNamespace(status="new", ref="r42"),
        eml_path=None,
    )
    jobs = Jobs(
        config,
        tmp_path / "state",
        settings,
        load=lambda _: settings,
        run_digest=lambda *a, **k: result,  # type: ignore[arg-type]
    )
    worker = Worker(jobs)
    worker.digest_job()

    def revoked(*a: object, **k: object) -> None:
        raise AuthError(AUTH_FIX)

    jobs.run_digest = revoked  # type: ignore[assignment]
    worker.digest_job()
    events = captured()
    done = next(e for e in events if e["event"] == "digest.done")
    assert done["pending"] == "2" and done["gmail_draft_id"] == "r42" and "eml_path" not in done
    failed = next(e for e in events if e["event"] == "digest.failed")
    assert failed["outcome"] == "auth" and failed["level"] == "error"
    assert any(e["event"] == "auth.expired" for e in events)


def test_a_changed_schedule_is_applied_without_a_restart(tmp_path: Path, captured: Any) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from calbot.config.settings import Schedule

    config = tmp_path / "calbot.toml"
    config.write_text("")
    settings = load_settings_stub(tmp_path)
    settings = replace(settings, user=replace(settings.user, timezone="America/Los_Angeles"))
    current = [settings]
    worker = Worker(Jobs(config, tmp_path / "state", settings, load=lambda _: current[0]))
    scheduler = BackgroundScheduler(timezone=ZoneInfo("America/Los_Angeles"))
    scheduler.start(paused=True)  # nothing runs; the jobs are only looked at
    try:
        worker.add_jobs(scheduler, settings, first_scan=datetime.now(UTC))
        assert scheduler.get_job("scan").trigger.interval == timedelta(minutes=30)
        assert scheduler.get_job("scan").misfire_grace_time == 300
        assert str(scheduler.get_job("digest").trigger) == "daily at 07:30 (America/Los_Angeles)"

        current[0] = replace(settings, schedule=Schedule(timedelta(seconds=90), "00:00"))
        config.write_text("# changed\n")
        worker.reschedule(worker.jobs.current_settings())
        scan_job, digest_job = scheduler.get_job("scan"), scheduler.get_job("digest")
        assert scan_job.trigger.interval == timedelta(seconds=90)
        assert scan_job.misfire_grace_time == 90 and scan_job.max_instances == 1
        assert scan_job.coalesce is True
        assert str(digest_job.trigger) == "daily at 00:00 (America/Los_Angeles)"
        assert len(scheduler.get_jobs()) == 2
    finally:
        scheduler.shutdown(wait=False)
    events = [e["event"] for e in captured()]
    assert "config.reloaded" in events and "worker.rescheduled" in events
