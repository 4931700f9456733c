"""`calbot doctor` against the fake Google server: all green, then each failure with its fix."""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from calbot.adapters.google_api import GMAIL_COMPOSE, connect
from calbot.adapters.google_auth import write_private_json
from calbot.cli_google import add_google_commands, cmd_doctor, print_checks
from calbot.config import parse_settings
from calbot.doctor import Check, exit_code_for, run_checks
from calbot.domain.settings import Settings

NOW = datetime.now(UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def settings_for(tmp_path: Path, root: str, **outputs: Any) -> Settings:
    data: dict[str, Any] = {
        "user": {"email": "me@example.com", "timezone": "Europe/Berlin"},
        "source": {"kind": "google", "calendars": ["primary"]},
        "google": {
            "api_root": root,
            "token_file": str(tmp_path / "token.json"),
            "client_secret_file": str(tmp_path / "client_secret.json"),
        },
        "outputs": {"gmail_drafts": True, **outputs},
        "clients": [{"name": "Acme", "domains": ["acme.example"]}],
    }
    return parse_settings(data, path=str(tmp_path / "calbot.toml"), check_templates=False)


def doctor(settings: Settings, clock: Clock, now: datetime = NOW) -> list[Check]:
    quiet = functools.partial(
        connect, sleep=clock.sleep, rand=lambda: 0.5, monotonic=clock.monotonic
    )
    return run_checks(settings, now=now, connect=quiet)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def failing(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.ok]


def consent(path: Path, when: datetime) -> None:
    info = json.loads(path.read_text())
    info["consented_at"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    write_private_json(path, info)


@pytest.fixture
def ready(google: Any, tmp_path: Path) -> Settings:
    """A user who ran `calbot auth` a day ago with every scope the config needs."""
    google.write_token(tmp_path / "token.json", ["calendar.events", "gmail.compose"])
    consent(tmp_path / "token.json", NOW - timedelta(days=1))
    google.write_client_secret(tmp_path / "client_secret.json")
    return settings_for(tmp_path, google.root)


def test_all_green(ready: Settings, clock: Clock, google: Any) -> None:
    checks = doctor(ready, clock)
    assert failing(checks) == []
    assert [c.name for c in checks] == [
        "config",
        "templates",
        "token permissions",
        "token",
        "scopes",
        "Testing status",
        "client secret",
        "Google Calendar",
        "Gmail",
    ]
    assert not any(c.warning for c in checks)
    assert exit_code_for(checks) == 0
    assert google.count("calendar.events.list") == 1
    assert google.count("gmail.users.getProfile") == 1
    assert "me@example.com" in by_name(checks)["Gmail"].detail


def test_missing_token(google: Any, tmp_path: Path, clock: Clock) -> None:
    checks = doctor(settings_for(tmp_path, google.root), clock)
    [bad] = failing(checks)
    assert bad.name == "token" and "no Google token at" in bad.detail
    assert bad.fix == "run `calbot auth`"
    assert exit_code_for(checks) == 3
    assert google.requests == []  # nothing tried without credentials


def test_token_readable_by_others(ready: Settings, tmp_path: Path, clock: Clock) -> None:
    (tmp_path / "token.json").chmod(0o644)
    checks = doctor(ready, clock)
    [bad] = failing(checks)
    assert bad.name == "token permissions" and "mode 0644" in bad.detail
    assert bad.fix == f"chmod 600 {tmp_path / 'token.json'}"
    assert exit_code_for(checks) == 1


def test_client_secret_readable_by_others(ready: Settings, tmp_path: Path, clock: Clock) -> None:
    (tmp_path / "client_secret.json").chmod(0o644)
    [bad] = failing(doctor(ready, clock))
    assert bad.name == "client secret" and bad.fix.startswith("chmod 600 ")


def test_missing_scope(google: Any, tmp_path: Path, clock: Clock) -> None:
    google.write_token(tmp_path / "token.json", ["calendar.events"])
    checks = doctor(settings_for(tmp_path, google.root), clock)
    bad = by_name(failing(checks))
    assert set(bad) == {"scopes", "Gmail"}
    assert bad["scopes"].detail == f"not granted: {GMAIL_COMPOSE}"
    assert "run `calbot auth`" in bad["scopes"].fix
    assert by_name(checks)["Google Calendar"].ok
    assert google.count("gmail.users.getProfile") == 0  # not asked: Google would refuse it
    assert exit_code_for(checks) == 3


def test_revoked(ready: Settings, google: Any, clock: Clock) -> None:
    google.revoke()
    checks = doctor(ready, clock)
    bad = by_name(failing(checks))
    assert bad["Google Calendar"].detail == (
        "Google access expired or was revoked — run `calbot auth`"
    )
    assert bad["Google Calendar"].fix == "run `calbot auth`"
    assert "Gmail" in bad
    assert exit_code_for(checks) == 3


def test_api_down(ready: Settings, google: Any, clock: Clock) -> None:
    google.fail("calendar.events.list", *([503] * 40))
    checks = doctor(ready, clock)
    bad = by_name(failing(checks))
    assert set(bad) == {"Google Calendar"}
    assert "Google still failing after" in bad["Google Calendar"].detail
    assert "try again later" in bad["Google Calendar"].fix
    assert sum(clock.sleeps) <= 10  # doctor's own short budget
    assert by_name(checks)["Gmail"].ok
    assert exit_code_for(checks) == 1


def test_unknown_calendar_is_a_config_problem(google: Any, tmp_path: Path, clock: Clock) -> None:
    google.write_token(tmp_path / "token.json", ["calendar.events", "gmail.compose"])
    data_settings = settings_for(tmp_path, google.root)
    import dataclasses

    settings = dataclasses.replace(
        data_settings,
        source=dataclasses.replace(data_settings.source, calendars=("nobody@x.example",)),
    )
    checks = doctor(settings, clock)
    bad = by_name(failing(checks))["Google Calendar"]
    assert "not found" in bad.detail and "source.calendars" in bad.fix
    assert exit_code_for(checks) == 2


def test_testing_status_warns_a_day_ahead_then_fails(
    ready: Settings, tmp_path: Path, clock: Clock
) -> None:
    consent(tmp_path / "token.json", NOW - timedelta(days=6, hours=12))
    check = by_name(doctor(ready, clock))["Testing status"]
    assert check.ok and check.warning
    assert check.detail.startswith("Google will expire calbot's access on ")
    assert "publish" in check.fix

    consent(tmp_path / "token.json", NOW - timedelta(days=8))
    check = by_name(doctor(ready, clock, NOW))["Testing status"]
    assert not check.ok and check.exit_code == 3 and "run `calbot auth`" in check.fix


def test_broken_template(ready: Settings, tmp_path: Path, clock: Clock) -> None:
    import dataclasses

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "reschedule.en.txt.j2").write_text("Hello {% if %}\n")
    settings = dataclasses.replace(
        ready, outputs=dataclasses.replace(ready.outputs, templates_dir=str(folder))
    )
    checks = doctor(settings, clock)
    bad = by_name(failing(checks))
    assert set(bad) == {"templates"}
    assert "reschedule.en.txt.j2" in bad["templates"].detail
    assert exit_code_for(checks) == 2


def test_ics_config_needs_no_google(tmp_path: Path, clock: Clock) -> None:
    ics = tmp_path / "cal.ics"
    ics.write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    data = {
        "user": {"email": "me@example.com", "unknown_external_is_client": True},
        "source": {"kind": "ics", "path": str(ics)},
    }
    settings = parse_settings(data, path="x.toml", check_templates=False)
    checks = doctor(settings, clock)
    assert failing(checks) == [] and checks[-1].name == "google"


# --- the command ---------------------------------------------------------------------------


def write_config(tmp_path: Path, root: str) -> Path:
    path = tmp_path / "calbot.toml"
    path.write_text(
        f"""
[user]
email = "me@example.com"
timezone = "Europe/Berlin"

[source]
kind = "google"

[google]
api_root = "{root}"
token_file = "{tmp_path / "token.json"}"
client_secret_file = "{tmp_path / "client_secret.json"}"

[outputs]
gmail_drafts = true

[limits]
retry_budget_seconds = 1

[[clients]]
name = "Acme"
domains = ["acme.example"]
""",
        encoding="utf-8",
    )
    return path


def test_cmd_doctor_prints_plain_lines_and_exits(
    ready: Settings, google: Any, tmp_path: Path
) -> None:
    args = argparse.Namespace(config=str(write_config(tmp_path, google.root)))
    out = io.StringIO()
    assert cmd_doctor(args, out) == 0
    text = out.getvalue()
    assert text.splitlines()[0].startswith("ok    config: ")
    assert text.rstrip().endswith("All checks passed.")

    google.revoke()
    out = io.StringIO()
    assert cmd_doctor(args, out) == 3
    assert "FAIL  Google Calendar: Google access expired or was revoked" in out.getvalue()
    token = json.loads((tmp_path / "token.json").read_text())
    for key in ("token", "refresh_token", "client_secret"):
        assert token[key] not in out.getvalue()


def test_cmd_doctor_bad_config_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "calbot.toml"
    path.write_text('[user]\nemail = "not an address"\n')
    out = io.StringIO()
    assert cmd_doctor(argparse.Namespace(config=str(path)), out) == 2
    assert out.getvalue().startswith("FAIL  config: ")


def test_rich_table_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    print_checks([Check("token", False, "no [bold]token", "run `calbot auth`", 3)], out)
    assert "no [bold]token" in out.getvalue()  # event text is never read as markup
    assert "1 problem to fix." in out.getvalue()


def test_commands_are_declared() -> None:
    parser = argparse.ArgumentParser()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config")
    add_google_commands(parser.add_subparsers(dest="command"), common)
    args = parser.parse_args(["auth", "--client-secret", "~/cs.json", "--no-browser"])
    assert args.run.__name__ == "cmd_auth" and args.no_browser
    assert args.client_secret == Path("~/cs.json")
    assert parser.parse_args(["doctor", "--config", "x"]).run is cmd_doctor


def test_help_does_not_import_googleapiclient() -> None:
    import subprocess
    import sys

    code = (
        "import sys, calbot.cli_google, calbot.doctor;"
        "print([m for m in ('googleapiclient', 'google_auth_oauthlib') if m in sys.modules])"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "[]"
