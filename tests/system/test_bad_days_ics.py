"""Bad days for an ICS calendar and the worker (issue 11 #5, #7, #8, #9), through real
`calbot` processes against a real calendar server on 127.0.0.1 (`servers.ics`):

- a recurrence bomb is expanded in the window only, capped with a warning naming it;
- a server answering 5xx is retried with Google's back-off (honouring `Retry-After`), then
  exit 4; a 404 is exit 2; an unreachable address is exit 4;
- a server dribbling one byte every 0.5 s (headers or body) fails at the download deadline;
  SIGTERM ends `calbot run` within 10 s mid-download and frees the state lock;
- a secret calendar address never appears in any output, log, run record or digest.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from builders import next_tuesday
from servers.ics import Answer, IcsServer, ics_server

import calbot

TZ = ZoneInfo("Europe/Berlin")
ME = "me@example.com"
REPO = Path(calbot.__file__).resolve().parents[1]
TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SECRET_PATH = f"/calendar/ical/me%40example.com/private-{TOKEN}/basic.ics"
WAIT = 30.0  # seconds: the most any step here may take before the test fails


def calendar(extra: str = "") -> bytes:
    """One two-hour in-person Acme meeting next Tuesday (calbot acts on it), plus `extra`."""
    day = next_tuesday().strftime("%Y%m%d")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbot tests//EN\r\n"
        "BEGIN:VEVENT\r\nUID:acme-1\r\nSUMMARY:Acme workshop\r\n"
        f"DTSTART;TZID=Europe/Berlin:{day}T100000\r\n"
        f"DTEND;TZID=Europe/Berlin:{day}T120000\r\n"
        "LOCATION:Acme office\\, Berlin\r\n"
        "ORGANIZER;CN=Ana:mailto:ana@acme.example\r\n"
        "ATTENDEE;CN=Ana;PARTSTAT=ACCEPTED:mailto:ana@acme.example\r\n"
        f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ME}\r\n"
        "END:VEVENT\r\n" + extra + "END:VCALENDAR\r\n"
    ).encode()


def write_config(tmp: Path, path: str, limits: str = "") -> Path:
    config = tmp / "calbot.toml"
    config.write_text(
        f"""
[user]
email = "{ME}"
name = "Me Myself"
timezone = "Europe/Berlin"
own_domains = ["example.com"]
signature = "Me"

[source]
kind = "ics"
path = "{path}"

[outputs]
outbox = "{tmp / "outbox"}"

[schedule]
scan_every = "1 hour"

[thresholds]
act_at = 30

[limits]
lock_wait_seconds = 1
{limits}

[[clients]]
name = "Acme"
domains = ["acme.example"]
tier = "low"
""",
        encoding="utf-8",
    )
    return config


def env_for(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CALBOT_CONFIG", "CALBOT_DEBUG")}
    env["CALBOT_STATE_DIR"] = str(state)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def calbot_cmd(config: Path, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "calbot", *args, "--config", str(config)],
        env=env_for(state),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=WAIT * 2,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("calbot: "), result.stderr
    return lines[0]


@pytest.fixture
def server() -> Iterator[IcsServer]:
    with ics_server() as running:
        yield running


# --- #5 recurrence bombs ------------------------------------------------------------------


def bomb(uid: str, rule: str, start: str) -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:Bomb {uid}\r\n"
        f"DTSTART;TZID=Europe/Berlin:{start}\r\nDURATION:PT1M\r\nRRULE:{rule}\r\nEND:VEVENT\r\n"
    )


def test_recurrence_bombs_are_capped_with_a_warning_and_the_scan_goes_on(tmp_path: Path) -> None:
    every_second = "FREQ=MINUTELY;BYSECOND=" + ",".join(str(s) for s in range(60))
    bombs = bomb("every-second", every_second, datetime.now(TZ).strftime("%Y%m%dT000000"))
    bombs += bomb("every-minute-since-1970", "FREQ=MINUTELY", "19700101T000000")
    bombs += bomb("no-such-day", "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30", "19700101T000000")
    (tmp_path / "cal.ics").write_bytes(calendar(bombs))
    config = write_config(tmp_path, str(tmp_path / "cal.ics"))
    started = time.monotonic()
    result = calbot_cmd(config, tmp_path / "state", "scan")
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    # before: a MemoryError, and 140 s for the minutely series from 1970
    assert took < 20, f"{took:.1f} s"
    for uid in ("every-second", "every-minute-since-1970"):
        assert f"'{uid}' 'Bomb {uid}' repeats more than 1000 times" in result.stderr
    assert "no-such-day" not in result.stderr  # nothing to warn about: it never occurs
    assert "2000 events read" in result.stdout
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1  # the Acme workshop


# --- #8 5xx, 404, unreachable -------------------------------------------------------------


def test_5xx_is_retried_honouring_retry_after(server: IcsServer, tmp_path: Path) -> None:
    url = server.answer(
        "/cal.ics",
        Answer(503, retry_after="0.4"),
        Answer(500, retry_after="0.05"),
        Answer(502, retry_after="0.05"),
        Answer(504, retry_after="0.05"),
        Answer(200, calendar()),
    )
    config = write_config(tmp_path, url, "retry_budget_seconds = 10")
    result = calbot_cmd(config, tmp_path / "state", "scan")
    assert result.returncode == 0, result.stderr
    hits = server.hits("/cal.ics")
    assert len(hits) == 5
    assert hits[1] - hits[0] >= 0.4  # Retry-After honoured
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_beyond_the_budget_is_exit_4(server: IcsServer, tmp_path: Path, status: int) -> None:
    url = server.answer("/cal.ics", Answer(status, retry_after="0.2"))
    config = write_config(tmp_path, url, "retry_budget_seconds = 2")
    result = calbot_cmd(config, tmp_path / "state", "scan")
    assert result.returncode == 4, result.stderr
    line = one_error_line(result)
    assert "/cal.ics: still failing after" in line and f"(HTTP {status})" in line, line
    assert "try again later" in line
    assert len(server.hits("/cal.ics")) >= 2


def test_404_is_exit_2_naming_source_path(server: IcsServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, server.root + "/gone.ics", "retry_budget_seconds = 5")
    result = calbot_cmd(config, tmp_path / "state", "scan")
    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    assert "/gone.ics: HTTP 404" in line and "check source.path" in line, line
    assert len(server.hits("/gone.ics")) == 1  # not retried


def test_unreachable_url_is_exit_4(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = write_config(tmp_path, f"http://127.0.0.1:{port}/cal.ics", "retry_budget_seconds = 1")
    result = calbot_cmd(config, tmp_path / "state", "scan")
    assert result.returncode == 4, result.stderr
    line = one_error_line(result)
    assert "still failing after" in line and "cannot connect" in line, line


# --- #7 slow servers ----------------------------------------------------------------------


@pytest.mark.parametrize("headers", [True, False], ids=["headers-dribbled", "body-dribbled"])
def test_a_dribbling_server_fails_at_the_download_deadline(
    server: IcsServer, tmp_path: Path, headers: bool
) -> None:
    url = server.answer("/slow.ics", Answer(200, calendar(), dribble=0.5, dribble_headers=headers))
    limits = "http_timeout_seconds = 5\ndownload_timeout_seconds = 2\nretry_budget_seconds = 5"
    config = write_config(tmp_path, url, limits)
    started = time.monotonic()
    result = calbot_cmd(config, tmp_path / "state", "scan")
    took = time.monotonic() - started
    assert result.returncode == 4, result.stderr
    line = one_error_line(result)
    assert "still failing after 1 try" in line and "download_timeout_seconds = 2" in line, line
    # the whole answer would take minutes; the deadline is 2 s (plus Python's start-up)
    assert took < 2 + 8, f"{took:.1f} s"
    assert len(server.hits("/slow.ics")) == 1


class Worker:
    """`calbot run` in a subprocess; its stderr collected on a thread."""

    def __init__(self, config: Path, state: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "calbot", "run", "--config", str(config)],
            env=env_for(state),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(list(self.lines))

    def wait_until(self, what: str, check: object) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if callable(check) and check():
                return
            assert self.proc.poll() is None, f"worker exited before {what}:\n{self.text()}"
            time.sleep(0.05)
        pytest.fail(f"no {what} within {WAIT:.0f} s:\n{self.text()}")

    def stop(self) -> tuple[int, float]:
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"calbot run still running {WAIT:.0f} s after SIGTERM:\n{self.text()}")
        self._reader.join(timeout=5)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def test_sigterm_ends_the_worker_mid_download_and_frees_the_lock(
    server: IcsServer, tmp_path: Path
) -> None:
    url = server.answer("/slow.ics", Answer(200, calendar(), dribble=0.5))
    limits = "http_timeout_seconds = 30\ndownload_timeout_seconds = 120"
    config = write_config(tmp_path, url, limits)
    state = tmp_path / "state"
    worker = Worker(config, state)
    try:
        worker.wait_until("the download", lambda: server.hits("/slow.ics"))
        code, took = worker.stop()
    finally:
        worker.kill()
    assert took < 10, f"{took:.1f} s\n{worker.text()}"
    assert code == 128 + signal.SIGTERM, worker.text()  # the scan under way was abandoned
    assert "worker.abort" in worker.lines[-1], worker.text()
    assert "scan_every=1h" in worker.text()  # issue 13: the interval with its unit
    # the lock went with the process: a manual scan runs at once (not exit 75)
    server.answer("/slow.ics", Answer(200, calendar()))
    result = calbot_cmd(config, state, "scan")
    assert result.returncode == 0, result.stderr


# --- #9 the secret address ----------------------------------------------------------------


def test_a_secret_address_is_never_shown(server: IcsServer, tmp_path: Path) -> None:
    url = server.answer(SECRET_PATH, Answer(503, retry_after="0.1"))
    config = write_config(tmp_path, url, "retry_budget_seconds = 0.3")
    state = tmp_path / "state"
    shown: list[str] = []

    scan = calbot_cmd(config, state, "scan")
    assert scan.returncode == 4, scan.stderr
    assert "127.0.0.1" in one_error_line(scan) and "basic.ics" in scan.stderr
    shown += [scan.stdout, scan.stderr]

    worker = Worker(config, state)
    try:
        worker.wait_until("a failed scan", lambda: "scan.failed" in worker.text())
        worker.stop()
    finally:
        worker.kill()
    shown.append(worker.text())

    for args in (("digest",), ("doctor",), ("scan", "--json")):
        result = calbot_cmd(config, state, *args)
        shown += [result.stdout, result.stderr]
        if args == ("digest",):  # a calendar server, not Google, was failing
            assert "a scan failed" in result.stdout and "Google" not in result.stdout
    files = [p for p in state.rglob("*") if p.is_file()]
    assert any(p.name == "digest.html" for p in files), files
    shown += [p.read_bytes().decode("utf-8", "replace") for p in files]
    for text in shown:
        assert TOKEN not in text and "private-" not in text
        assert "me%40example.com" not in text and "me@example.com/" not in text
