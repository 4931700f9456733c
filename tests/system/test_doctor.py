"""`calbot doctor` against the fake Google server: all green, then each failure with its fix."""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from calbot.adapters.google.api import connect
from calbot.adapters.google.auth import write_private_json
from calbot.adapters.google.scopes import GMAIL_COMPOSE
from calbot.cli.google import add_google_commands, cmd_doctor, print_checks
from calbot.config.loader import parse_settings
from calbot.config.settings import Settings
from calbot.usecases.doctor import run_checks
from calbot.usecases.doctor_check import Check, exit_code_for

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`calbot doctor` checks the state dir: never the real one of whoever runs the tests."""
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "state"))


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


def doctor(
    settings: Settings, clock: Clock, now: datetime = NOW, state_dir: Path | None = None
) -> list[Check]:
    quiet = functools.partial(
        connect, sleep=clock.sleep, rand=lambda: 0.5, monotonic=clock.monotonic
    )
    return run_checks(settings, now=now, connect=quiet, state_dir=state_dir)


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


def private_state(tmp_path: Path) -> Path:
    """A state dir as calbot writes it: folder 0700, files 0600."""
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    write_private_json(state / "meta.json", {"scans": 3})
    return state


def test_all_green(ready: Settings, clock: Clock, google: Any, tmp_path: Path) -> None:
    checks = doctor(ready, clock, state_dir=private_state(tmp_path))
    assert failing(checks) == []
    assert [c.name for c in checks] == [
        "config",
        "templates",
        "sending",
        "state dir",
        "state store",
        "token permissions",
        "token",
        "scopes",
        "Testing status",
        "client secret",
        "Google Calendar",
        "Gmail",
        "secrets",
    ]
    assert not any(c.warning for c in checks)
    assert exit_code_for(checks) == 0
    assert google.count("calendar.events.list") == 1
    assert google.count("gmail.users.getProfile") == 1
    assert "me@example.com" in by_name(checks)["Gmail"].detail
    assert by_name(checks)["state dir"].detail.endswith(
        ": only you can read it (folders 0700, files 0600)"
    )
    assert by_name(checks)["secrets"].detail.startswith("no token or client secret in the 1 file ")


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
    assert exit_code_for(checks) == 3  # as `calbot scan`, which refuses the same file


def test_client_secret_readable_by_others(ready: Settings, tmp_path: Path, clock: Clock) -> None:
    (tmp_path / "client_secret.json").chmod(0o644)
    checks = doctor(ready, clock)
    [bad] = failing(checks)
    assert bad.name == "client secret" and bad.fix.startswith("chmod 600 ")
    assert exit_code_for(checks) == 2  # as `calbot auth`, which refuses the same file


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


@pytest.mark.parametrize(
    "broad",
    [
        "gmail.send",
        "https://mail.google.com/",
        "gmail.modify",
        "gmail.insert",
        "gmail.readonly",
        "calendar",
        "calendar.readonly",
    ],
)
def test_a_scope_broader_than_calbot_may_hold_fails(
    broad: str, google: Any, tmp_path: Path, clock: Clock
) -> None:
    google.write_token(tmp_path / "token.json", ["calendar.events", "gmail.compose", broad])
    checks = doctor(settings_for(tmp_path, google.root), clock)
    [bad] = failing(checks)
    assert bad.name == "extra scopes"
    assert bad.detail == f"granted beyond what calbot may hold: {broad}"
    assert bad.fix == (
        "revoke calbot's access at https://myaccount.google.com/permissions, then run "
        "`calbot auth` (it asks only for what this config needs)"
    )
    assert by_name(checks)["scopes"].ok  # nothing missing
    assert exit_code_for(checks) == 3


def test_an_unneeded_calbot_scope_is_a_warning(google: Any, tmp_path: Path, clock: Clock) -> None:
    scopes = ["calendar.events", "gmail.compose", "calendar.freebusy", "calendar.app.created"]
    google.write_token(tmp_path / "token.json", scopes)
    checks = doctor(settings_for(tmp_path, google.root), clock)  # no busy calendars, no review
    extra = by_name(checks)["extra scopes"]
    assert extra.ok and extra.warning
    assert extra.detail == "granted but not needed: calendar.app.created, calendar.freebusy"
    assert extra.fix == "run `calbot auth` again to drop it"
    assert failing(checks) == [] and exit_code_for(checks) == 0

    google.write_token(tmp_path / "token.json", [*scopes, "gmail.send"])  # both kinds: FAIL
    bad = by_name(doctor(settings_for(tmp_path, google.root), clock))["extra scopes"]
    assert not bad.ok and bad.detail == (
        "granted beyond what calbot may hold: gmail.send; not needed by this config: "
        "calendar.app.created, calendar.freebusy"
    )


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


def test_ics_source_with_gmail_on_uses_no_google(tmp_path: Path, clock: Clock) -> None:
    """With an ICS source the scan writes to the outbox only (Gmail drafts need the Google
    source): no token to check, no scope to ask for, and a warning saying so."""
    (tmp_path / "cal.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    data = {
        "user": {"email": "me@example.com", "unknown_external_is_client": True},
        "source": {"kind": "ics", "path": str(tmp_path / "cal.ics")},
        "outputs": {"gmail_drafts": True},
    }
    settings = parse_settings(data, path="x.toml", check_templates=False)
    checks = doctor(settings, clock)
    google_check = by_name(checks)["google"]
    assert google_check.ok and google_check.warning and "outbox" in google_check.detail
    assert "gmail.compose" not in by_name(checks)["sending"].detail
    assert failing(checks) == [] and exit_code_for(checks) == 0


# --- sending, folders, secrets ---------------------------------------------------------------


def test_sending_reports_the_modules_checked(ready: Settings, clock: Clock) -> None:
    from calbot.usecases.nosend import package_send_calls

    modules, _ = package_send_calls()
    check = by_name(doctor(ready, clock))["sending"]
    assert check.ok
    assert check.detail == (
        f"calbot's {modules} modules contain no send call; drafts only, calendar writes use "
        "sendUpdates=none; the gmail.compose scope could send mail, but calbot's code never does"
    )


def test_a_module_that_could_send_fails_naming_it(
    ready: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from calbot.usecases import nosend

    found = {"calbot/adapters/gmail.py": ["line 12: .send"], "calbot/x.py": ["unreadable: OSError"]}
    monkeypatch.setattr(nosend, "package_send_calls", lambda: (50, found))
    checks = doctor(ready, clock)
    [bad] = failing(checks)
    assert bad.name == "sending"
    assert bad.detail == (
        "calbot's code could send: calbot/adapters/gmail.py:12 (.send), "
        "calbot/x.py (unreadable: OSError)"
    )
    assert exit_code_for(checks) == 1


def test_state_dir_and_outbox_must_be_private(
    ready: Settings, tmp_path: Path, clock: Clock
) -> None:
    import dataclasses

    state, outbox = tmp_path / "state", tmp_path / "outbox"
    settings = dataclasses.replace(
        ready, outputs=dataclasses.replace(ready.outputs, outbox=str(outbox))
    )

    def check(name: str) -> Check:
        return by_name(doctor(settings, clock, state_dir=state))[name]

    assert check("state dir").ok and check("state dir").detail.endswith("(nothing written)")
    assert check("outbox").ok  # missing: nothing written yet
    state.mkdir(mode=0o700)
    outbox.mkdir(mode=0o755)
    (outbox / "new").mkdir(mode=0o700)
    (outbox / "new" / "a.eml").write_text("x")
    (outbox / "new" / "a.eml").chmod(0o644)
    (state / "link").symlink_to(tmp_path)  # a link's own mode (0777) is not judged
    assert check("state dir").ok
    bad = check("outbox")
    assert not bad.ok and bad.fix == f"chmod -R go= {outbox}"
    assert bad.detail == f"{outbox} is open to others (mode 0755) and 1 more: it holds client data"
    outbox.chmod(0o700)
    assert check("outbox").detail.startswith(f"{outbox / 'new' / 'a.eml'} is open to others")
    (state / "s.db").write_text("x")
    (state / "s.db").chmod(0o640)  # group-readable
    assert not check("state dir").ok
    subprocess.run(["chmod", "-R", "go=", str(state), str(outbox)], check=True)  # the fix
    assert check("state dir").ok and check("outbox").ok


def test_a_copied_secret_fails_naming_the_file(
    ready: Settings, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import calbot.usecases.doctor_files

    monkeypatch.setattr(calbot.usecases.doctor_files, "CHUNK", 64)  # many chunks, cheaply
    state = private_state(tmp_path)
    token = json.loads((tmp_path / "token.json").read_text())
    assert by_name(doctor(ready, clock, state_dir=state))["secrets"].ok
    for key in ("token", "refresh_token", "client_secret"):
        leak = state / "logs" / "calbot.log"
        leak.parent.mkdir(exist_ok=True, mode=0o700)
        leak.write_bytes(b"x" * 60 + token[key].encode() + b"y" * 500)  # across a chunk edge
        leak.chmod(0o600)
        checks = doctor(ready, clock, state_dir=state)
        [bad] = failing(checks)
        assert bad.name == "secrets"
        assert bad.detail == f"a Google token or client secret was copied into {leak}"
        assert "https://myaccount.google.com/permissions" in bad.fix
        for secret in (token["token"], token["refresh_token"], token["client_secret"]):
            assert secret not in bad.detail + bad.fix
    leak.unlink()
    # the token file itself may live in the state dir (one volume in a container)
    (tmp_path / "token.json").rename(state / "token.json")
    moved = dataclasses_replace_token(ready, state / "token.json")
    assert by_name(doctor(moved, clock, state_dir=state))["secrets"].ok


def test_a_file_that_cannot_be_read_is_a_warning(
    ready: Settings, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import calbot.usecases.doctor_files

    def unreadable(path: Path, needles: object) -> bool:
        raise PermissionError(path)

    monkeypatch.setattr(calbot.usecases.doctor_files, "_holds", unreadable)
    state = private_state(tmp_path)
    check = by_name(doctor(ready, clock, state_dir=state))["secrets"]
    assert check.ok and check.warning
    assert check.detail.endswith(f"could not read {state / 'meta.json'}")


def dataclasses_replace_token(settings: Settings, token: Path) -> Settings:
    import dataclasses

    return dataclasses.replace(
        settings, google=dataclasses.replace(settings.google, token_file=str(token))
    )


def test_the_secret_scan_reads_a_large_store_quickly(
    ready: Settings, tmp_path: Path, clock: Clock
) -> None:
    import time

    from calbot.usecases.doctor_files import secrets_copied

    state = private_state(tmp_path)
    with (state / "state.sqlite3").open("wb") as f:
        for _ in range(32):
            f.write(os.urandom(1 << 20))  # 32 MiB of noise
    started = time.monotonic()
    check = secrets_copied(ready, [state])
    assert check.ok and time.monotonic() - started < 2.0


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


def test_cmd_doctor_checks_the_state_dir(
    ready: Settings, google: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = private_state(tmp_path)
    monkeypatch.setenv("CALBOT_STATE_DIR", str(state))
    args = argparse.Namespace(config=str(write_config(tmp_path, google.root)))
    out = io.StringIO()
    assert cmd_doctor(args, out) == 0
    assert f"ok    state dir: {state}: only you can read it" in out.getvalue()
    assert "ok    secrets: no token or client secret in the 1 file " in out.getvalue()

    state.chmod(0o755)
    out = io.StringIO()
    assert cmd_doctor(args, out) == 1
    assert f"FAIL  state dir: {state} is open to others (mode 0755)" in out.getvalue()
    assert out.getvalue().count(f"fix: chmod -R go= {state}") == 1


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

    out = Tty()
    print_checks([Check("Gmail", False, HOSTILE, "[red]retry\x1b]0;x\x07", 1)], out)
    assert "\x1b]0;" not in out.getvalue() and "\u202e" not in out.getvalue()
    assert "[red]retry" in out.getvalue()


# A server's error text quoted in a detail: a terminal title escape, a bell, a line break
# that would fake a passing check, a bidi override.
HOSTILE = "refused: \x1b]0;pwned\x07 [bold]x[/bold]\nok    Gmail: fine \u202egnp.exe"


def test_plain_lines_pass_details_through_one_line() -> None:
    out = io.StringIO()
    print_checks([Check("Gmail", False, HOSTILE, "wait\r\nok    all good", 1)], out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[1] == "1 problem to fix."
    assert lines[0] == (
        "FAIL  Gmail: refused: ]0;pwned [bold]x[/bold] ok Gmail: fine gnp.exe "
        "— fix: wait ok all good"
    )


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
        "import sys, calbot.cli.google, calbot.usecases.doctor;"
        "print([m for m in ('googleapiclient', 'google_auth_oauthlib') if m in sys.modules])"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "[]"
