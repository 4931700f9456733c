"""The first hour, end to end: real `python -m calbot` processes and a real HTTP server on
127.0.0.1 serving (or refusing) an ICS calendar."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from calbot.usecases.demo import demo_calendar

ROOT = Path(__file__).resolve().parents[2]


def calbot(
    *args: str, env: dict[str, str], stdin: int | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "calbot", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=stdin,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"),
        CALBOT_STATE_DIR=str(tmp_path / "state"),
    )
    env.pop("CALBOT_CONFIG", None)
    return env


class _Calendar(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        if self.path == "/cal.ics":
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(self.body)))
            self.end_headers()
            self.wfile.write(self.body)
        else:
            self.send_error(404, "Not Found")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def ics_server() -> Iterator[str]:
    """An HTTP server on a free loopback port serving the demo week at /cal.ics and 404
    elsewhere; stopped after the test."""
    handler = type("Handler", (_Calendar,), {"body": demo_calendar(dt.date.today()).encode()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _config(tmp_path: Path, location: str, *, placeholders: bool = False) -> Path:
    """The demo's clients, the ICS source at `location`, drafts to an outbox."""
    name, signature = ("Your Name (CHANGE ME)", "Alex") if placeholders else ("Alex Doe", "Alex")
    path = tmp_path / "calbot.toml"
    path.write_text(
        f"""
[user]
email = "alex@studio.example"
name = "{name}"
signature = "{signature}"
timezone = "Europe/Berlin"
own_domains = ["studio.example"]

[source]
kind = "ics"
path = "{location}"

[outputs]
outbox = "{tmp_path / "outbox"}"

[[clients]]
name = "Northwind"
domains = ["northwind.example"]
tier = "low"
""",
        encoding="utf-8",
    )
    return path


def test_doctor_checks_an_ics_url(tmp_path: Path, env: dict[str, str], ics_server: str) -> None:
    good = _config(tmp_path, f"{ics_server}/cal.ics")
    r = calbot("doctor", "--config", str(good), env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok    source: " in r.stdout and "All checks passed." in r.stdout

    _config(tmp_path, f"{ics_server}/gone.ics")
    r = calbot("--config", str(good), "doctor", env=env)
    assert r.returncode == 2, (
        r.stdout
    )  # the address is wrong (as `scan` says): not a network failure
    [line] = [x for x in r.stdout.splitlines() if x.startswith("FAIL")]
    assert "source: " in line and "HTTP 404" in line and "fix: " in line


def test_doctor_checks_a_missing_ics_file(tmp_path: Path, env: dict[str, str]) -> None:
    cfg = _config(tmp_path, str(tmp_path / "missing.ics"))
    r = calbot("doctor", "--config", str(cfg), env=env)
    assert r.returncode == 2
    assert "FAIL  source: " in r.stdout and "no such file" in r.stdout
    assert "All checks passed." not in r.stdout


def test_scan_warns_about_placeholders_and_goes_on(tmp_path: Path, env: dict[str, str]) -> None:
    cal = tmp_path / "cal.ics"
    cal.write_text(demo_calendar(dt.date.today()), encoding="utf-8")
    cfg = _config(tmp_path, str(cal), placeholders=True)
    r = calbot("scan", "--dry-run", "--json", "--config", str(cfg), env=env)
    assert r.returncode == 0, r.stderr
    json.loads(r.stdout)  # stdout stays the document
    [warning] = [x for x in r.stderr.splitlines() if "placeholder" in x]
    assert warning.startswith("calbot: warning: ") and "user.name" in warning
    r = calbot("doctor", "--config", str(cfg), env=env)
    assert r.returncode == 2 and "FAIL  placeholders: " in r.stdout


def test_explain_after_a_scan_shows_the_written_status(tmp_path: Path, env: dict[str, str]) -> None:
    cal = tmp_path / "cal.ics"
    cal.write_text(demo_calendar(dt.date.today()), encoding="utf-8")
    cfg = _config(tmp_path, str(cal))
    assert calbot("scan", "--config", str(cfg), env=env).returncode == 0
    r = calbot("explain", "demo-northwind-pricing@studio.example", "--config", str(cfg), env=env)
    assert r.returncode == 0, r.stderr
    [draft] = [x for x in r.stdout.splitlines() if x.strip().startswith("draft (")]
    assert "unchanged" in draft and "dry_run" not in draft, draft
    r = calbot("scan", "--dry-run", "--json", "--config", str(cfg), env=env)
    statuses = {m["draft"]["status"] for m in json.loads(r.stdout)["meetings"] if m["draft"]}
    assert statuses == {"unchanged"}


def test_auth_no_browser_with_stdin_closed(tmp_path: Path, env: dict[str, str]) -> None:
    secret = tmp_path / "client_secret.json"
    secret.write_text(
        json.dumps(
            {
                "installed": {
                    "client_id": "id.apps.example",
                    "client_secret": "not-a-secret",
                    "auth_uri": "https://accounts.example/o/oauth2/auth",
                    "token_uri": "https://oauth2.example/token",
                }
            }
        ),
        encoding="utf-8",
    )
    secret.chmod(0o600)
    cfg = tmp_path / "calbot.toml"
    cfg.write_text(
        f"""
[user]
email = "alex@studio.example"
timezone = "Europe/Berlin"
unknown_external_is_client = true

[google]
client_secret_file = "{secret}"
token_file = "{tmp_path / "token.json"}"
""",
        encoding="utf-8",
    )
    r = calbot("auth", "--no-browser", "--config", str(cfg), env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 2, r.stderr
    [line] = r.stderr.splitlines()
    assert line.startswith("calbot: ") and "stdin" in line and "EOFError" not in line


def test_init_then_the_suggested_command_runs(tmp_path: Path, env: dict[str, str]) -> None:
    cal = tmp_path / "cal.ics"
    cal.write_text(demo_calendar(dt.date.today()), encoding="utf-8")
    cfg = tmp_path / "my" / "calbot.toml"
    r = calbot("init", "--config", str(cfg), "--ics", str(cal), env=env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    [line] = [x for x in r.stdout.splitlines() if x.startswith("Next: ")]
    command = line.split("`")[1].split()
    assert command[:2] == ["calbot", "scan"] and "--config" in command
    r = calbot(*command[1:], env=env)
    assert r.returncode == 0, r.stderr
    assert "placeholder" in r.stderr  # the starter's CHANGE ME values are still there
