"""Security properties, end to end through the CLI against the fake Google:

- the scopes `calbot auth` asks for (read off the fake's /auth request) are exactly the
  narrowest set each config shape needs, and `scopes_for`, the service account and `calbot
  doctor` agree; never full `calendar`, `gmail.modify`, `gmail.send` or `mail.google.com`;
- no source file calls a send method or lets Calendar notify anyone (an AST scan, beside the
  regex scan in tests/adapters/test_gmail.py; the `google` fixture also fails any test during
  which the fake saw a send);
- the token and client-secret files are written 0600 whatever the umask, and a group- or
  world-readable one is refused with one line naming `chmod 600 <file>` by `calbot scan`,
  `calbot auth` and `calbot doctor`;
- no access token, refresh token or client secret in stdout, stderr, `--json` or the state
  dir, whether the scan works, the access is revoked or a file is refused;
- `calbot doctor` reports a missing scope, a scope beyond what calbot may hold, an open
  file and revoked access, each with its fix.
"""

from __future__ import annotations

import ast
import io
import json
import os
import stat
import threading
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from itertools import product
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from builders import google_time, next_tuesday

from calbot.adapters.google.scopes import GMAIL_COMPOSE, scopes_for
from calbot.cli.main import main
from calbot.config.loader import load_settings
from calbot.usecases.nosend import package_send_calls, send_calls

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Europe/Berlin")
FORBIDDEN = {
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/gmail.modify",
    "https://www.googleapis.com/auth/gmail.send",
    "https://www.googleapis.com/auth/gmail.insert",
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://mail.google.com/",
}
SHAPES = list(product((True, False), (True, False), (True, False)))  # gmail, busy, review


def shape_id(shape: tuple[bool, bool, bool]) -> str:
    gmail, busy, review = shape
    return f"gmail={'on' if gmail else 'off'}-busy={'yes' if busy else 'no'}-review={review}"


def allowed(gmail: bool, busy: bool, review: bool) -> set[str]:
    """The scopes a config shape may ask for, written out independently of `scopes_for`
    and of the code's constants (a wrong constant must not make its own expectation)."""
    scopes = {"https://www.googleapis.com/auth/calendar.events"}
    if gmail:
        scopes.add("https://www.googleapis.com/auth/gmail.compose")
    if busy:
        scopes.add("https://www.googleapis.com/auth/calendar.freebusy")
    if review:
        scopes.add("https://www.googleapis.com/auth/calendar.app.created")
    return scopes


def write_config(
    tmp_path: Path,
    root: str,
    *,
    gmail: bool = True,
    busy: bool = False,
    review: bool = False,
    service_account: str = "",
    source: str = "google",
) -> Path:
    google = [
        f'api_root = "{root}"',
        f'token_file = "{tmp_path / "token.json"}"',
        f'client_secret_file = "{tmp_path / "config" / "client_secret.json"}"',
    ]
    if service_account:
        google.append(f'service_account_file = "{service_account}"')
    busy_line = 'busy_calendars = ["family@group.calendar.google.com"]' if busy else ""
    config = tmp_path / "calbot.toml"
    config.write_text(
        f"""
[user]
email = "me@example.com"
name = "Me Myself"
timezone = "Europe/Berlin"
own_domains = ["example.com"]

[source]
kind = "{source}"
calendars = ["primary"]
path = "{tmp_path / "calendar.ics"}"
{busy_line}

[google]
{chr(10).join(google)}

[outputs]
gmail_drafts = {"true" if gmail else "false"}
review_calendar = {"true" if review else "false"}
calendar_notes = true
outbox = "{tmp_path / "outbox"}"

[limits]
retry_budget_seconds = 5
lock_wait_seconds = 1

[[clients]]
name = "Acme"
domains = ["acme.example"]
""",
        encoding="utf-8",
    )
    return config


class Browser:
    """What the user's browser does after they click Allow: follow the sign-in address;
    the fake's /auth redirects to calbot's one-shot local server."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.urls.append(url)

        def visit() -> None:
            with urllib.request.urlopen(url, timeout=10) as response:
                response.read()

        threading.Thread(target=visit, daemon=True).start()
        return True


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Browser:
    import webbrowser

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    b = Browser()
    monkeypatch.setattr(webbrowser, "get", lambda using=None: b)
    return b


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """The most permissive umask: 0600 must come from calbot, not from the umask."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def secrets_of(tmp_path: Path) -> list[str]:
    info = json.loads((tmp_path / "token.json").read_text())
    return [info["token"], info["refresh_token"], info["client_secret"]]


def assert_clean(secrets: list[str], *texts: str) -> None:
    for secret in secrets:
        assert secret
        for text in texts:
            assert secret not in text


def assert_state_clean(secrets: list[str], state: Path) -> None:
    """Nothing calbot keeps beside the token (state DB, logs, outbox) holds a secret."""
    for path in state.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, path


@pytest.fixture(autouse=True)
def own_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`calbot doctor` checks the state dir: never the real one of whoever runs the tests."""
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "state"))


# --- scopes --------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_auth_asks_exactly_the_allowed_scopes(
    shape: tuple[bool, bool, bool],
    google: Any,
    browser: Browser,
    tmp_path: Path,
    umask_zero: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gmail, busy, review = shape
    want = allowed(gmail, busy, review)
    config = write_config(tmp_path, google.root, gmail=gmail, busy=busy, review=review)
    download = tmp_path / "Downloads" / "client_secret_123.json"
    download.parent.mkdir()
    google.write_client_secret(download)
    download.chmod(0o644)  # as a browser saves it

    code, out = run_cli("auth", "--config", str(config), "--client-secret", str(download))
    assert code == 0, capsys.readouterr().err

    # what the code computes ...
    settings = load_settings(config, check_templates=False)
    assert set(scopes_for(settings)) == want
    assert len(scopes_for(settings)) == len(want)
    # ... what the consent screen was asked for (the fake's /auth request) ...
    [auth] = [r for r in google.requests if r.route == "oauth.auth"]
    asked = set(auth.query["scope"][0].split())
    assert asked == want
    [url] = browser.urls
    assert set(parse_qs(urlsplit(url).query)["scope"][0].split()) == want
    # ... and what the token file records as granted
    token = tmp_path / "token.json"
    assert set(json.loads(token.read_text())["scopes"]) == want
    assert not (asked | set(scopes_for(settings))) & FORBIDDEN
    # every word of the explanation printed before the browser opens names only those
    listed = {line.split()[1].rstrip(":") for line in out.splitlines() if line.startswith("  - ")}
    assert listed == want
    # the files are private although the umask is 0
    assert mode(token) == 0o600
    assert mode(tmp_path / "config" / "client_secret.json") == 0o600
    err = capsys.readouterr().err
    assert_clean(secrets_of(tmp_path), out, err)

    # a scan with that token does its work with only those scopes: every request carried a
    # token holding no more than `want`, and none was refused for want of a scope (the fake
    # answers 403 and records a violation for a request its token's scopes do not cover)
    add_client_meetings(google, 5)
    google.clear_log()
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "state"))
    code, out = run_cli("scan", "--config", str(config), "--json")
    assert code == 0, capsys.readouterr().err
    assert json.loads(out)["meetings"]
    assert google.count("calendar.events.list") >= 1
    assert (google.count("gmail.drafts.create") >= 1) == gmail
    assert (google.count("calendar.freebusy.query") >= 1) == busy
    assert (google.count("calendar.calendars.insert") == 1) == review
    api = [r for r in google.requests if r.route.startswith(("calendar.", "gmail."))]
    assert api and all(r.scopes and r.scopes <= want for r in api)
    assert not [r for r in google.requests if r.status == 403]
    assert google.violations == []


def test_ics_source_with_gmail_on_asks_for_no_scope(
    google: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The scan ignores Gmail drafts, notes and the review calendar with an ICS source (the
    drafts go to the outbox), so the config needs no scope: `scopes_for` gives none, `calbot
    auth` refuses with a clear line before copying anything, and doctor says Google is
    unused."""
    config = write_config(tmp_path, google.root, gmail=True, review=True, source="ics")
    (tmp_path / "calendar.ics").write_text("BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    assert scopes_for(load_settings(config, check_templates=False)) == []
    download = tmp_path / "client_secret_123.json"
    google.write_client_secret(download)
    code, _ = run_cli("auth", "--config", str(config), "--client-secret", str(download))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "nothing to authorize" in err
    assert not (tmp_path / "config").exists() and not (tmp_path / "token.json").exists()
    code, out = run_cli("doctor", "--config", str(config))
    assert code == 0, out
    assert "warn  google: not used: with an ICS calendar as the source" in out
    assert google.requests == []


@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_service_account_and_doctor_use_the_same_scopes(
    shape: tuple[bool, bool, bool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.oauth2 import service_account

    from calbot.adapters.google.auth import load_credentials

    gmail, busy, review = shape
    key = tmp_path / "sa.json"
    key.write_text("{}")
    key.chmod(0o600)
    config = write_config(
        tmp_path,
        "http://127.0.0.1:9/",
        gmail=gmail,
        busy=busy,
        review=review,
        service_account=str(key),
    )
    seen: list[list[str]] = []

    def capture(path: str, scopes: list[str], subject: str) -> object:
        seen.append(list(scopes))
        return object()

    monkeypatch.setattr(service_account.Credentials, "from_service_account_file", capture)
    load_credentials(load_settings(config, check_templates=False))
    [scopes] = seen
    assert set(scopes) == allowed(gmail, busy, review)
    assert len(scopes) == len(set(scopes))


def test_doctor_needs_exactly_the_allowed_scopes(google: Any, tmp_path: Path) -> None:
    """A token with every allowed scope is green; one with one scope fewer is a FAIL naming
    the missing scope and `calbot auth`. Extra (broader) scopes are not asked for."""
    config = write_config(tmp_path, google.root, gmail=True, busy=True, review=True)
    google.write_client_secret(tmp_path / "config" / "client_secret.json")
    full = ["calendar.events", "gmail.compose", "calendar.freebusy", "calendar.app.created"]
    google.write_token(tmp_path / "token.json", full)
    code, out = run_cli("doctor", "--config", str(config))
    assert code == 0, out
    for drop in full:
        google.write_token(tmp_path / "token.json", [s for s in full if s != drop])
        code, out = run_cli("doctor", "--config", str(config))
        [line] = [x for x in out.splitlines() if x.startswith("FAIL  scopes:")]
        assert drop in line and "calbot auth" in line
        assert code == 3


def test_doctor_fails_a_token_that_could_send_and_warns_on_an_unneeded_scope(
    google: Any, tmp_path: Path
) -> None:
    config = write_config(tmp_path, google.root, gmail=True)
    google.write_client_secret(tmp_path / "config" / "client_secret.json")
    token = tmp_path / "token.json"
    google.write_token(token, ["calendar.events", "gmail.compose", "gmail.send"])
    code, out = run_cli("doctor", "--config", str(config))
    assert code == 3
    [line] = [x for x in out.splitlines() if x.startswith("FAIL")]
    assert line == (
        "FAIL  extra scopes: granted beyond what calbot may hold: gmail.send — fix: revoke "
        "calbot's access at https://myaccount.google.com/permissions, then run `calbot auth` "
        "(it asks only for what this config needs)"
    )

    google.write_token(token, ["calendar.events", "gmail.compose", "calendar.freebusy"])
    code, out = run_cli("doctor", "--config", str(config))  # no busy calendars configured
    assert code == 0, out
    assert (
        "warn  extra scopes: granted but not needed: calendar.freebusy — fix: run `calbot auth` "
        "again to drop it"
    ) in out
    assert "FAIL" not in out


# --- nothing is ever sent ------------------------------------------------------------------


def test_the_ast_check_catches_what_it_should() -> None:
    bad = [
        'api.gmail.users().drafts().send(userId="me", body={"id": d}).execute()',
        "service.users().messages().send(userId=me, body=b)",
        'getattr(api.gmail.users().drafts(), "send")(userId="me")',
        'operator.methodcaller("send", userId="me")(drafts)',
        "push = drafts.send; push(userId=me, body=b)",
        "gmail.users().messages().import_(userId=me, body=b)",
        "gmail.users().messages().insert(userId=me, body=b).execute()",
        'events.patch(calendarId="primary", eventId=e, sendUpdates="all", body={})',
        "events.insert(calendarId=c, sendUpdates=mode, body={})",
        "import smtplib",
        "from smtplib import SMTP",
    ]
    for text in bad:
        assert send_calls(ast.parse(text)), text
    good = [
        'events.patch(calendarId="primary", eventId=e, sendUpdates="none", body={})',
        "sender = 'me'; send_updates = None",
        "# never .send( anything",
        'drafts.create(userId="me", body={"message": {"raw": raw}})',
        'events.insert(calendarId=c, sendUpdates="none", body={})',
        "names.insert(0, x)",
    ]
    for text in good:
        assert not send_calls(ast.parse(text)), text


def test_no_calbot_module_can_send() -> None:
    checked, problems = package_send_calls(ROOT / "calbot")
    assert checked == len(list((ROOT / "calbot").rglob("*.py"))) > 20
    assert problems == {}


def test_a_module_that_could_send_is_named(tmp_path: Path) -> None:
    pkg = tmp_path / "calbot"
    (pkg / "adapters").mkdir(parents=True)
    (pkg / "ok.py").write_text("x = 1\n")
    (pkg / "adapters" / "bad.py").write_text("def f(d):\n    return d.send(userId='me')\n")
    (pkg / "broken.py").write_text("def (:\n")
    checked, problems = package_send_calls(pkg)
    assert checked == 3
    assert problems == {
        "calbot/adapters/bad.py": ["line 2: .send"],
        "calbot/broken.py": ["unreadable: SyntaxError"],
    }


# --- secret files: 0600, and refused when others may read them ------------------------------


@pytest.fixture
def account(google: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working account with Gmail drafts and notes, and one client meeting to draft for."""
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "state"))
    config = write_config(tmp_path, google.root)
    google.write_token(tmp_path / "token.json", ["calendar.events", "gmail.compose"])
    google.write_client_secret(tmp_path / "config" / "client_secret.json")
    add_client_meetings(google, 5)
    return config


def add_client_meetings(google: Any, count: int) -> None:
    """`count` one-hour Acme meetings on next week's Tuesday (five overload the day)."""
    day = next_tuesday()
    for hour in (9, 10, 11, 13, 14)[:count]:
        google.add_event(
            summary=f"Acme sync {hour}",
            start=google_time(day, hour),
            end=google_time(day, hour + 1),
            organizer={"email": "ana@acme.example"},
            attendees=[
                {"email": "ana@acme.example", "organizer": True, "responseStatus": "accepted"},
                {"email": "me@example.com", "self": True, "responseStatus": "accepted"},
            ],
        )


def test_refreshed_token_is_saved_0600(
    google: Any, account: Path, tmp_path: Path, umask_zero: None
) -> None:
    token = tmp_path / "token.json"
    google.write_token(token, ["calendar.events", "gmail.compose"], expired=True)
    before = json.loads(token.read_text())["token"]
    code, _ = run_cli("scan", "--config", str(account), "--json")
    assert code == 0
    assert json.loads(token.read_text())["token"] != before  # re-saved ...
    assert mode(token) == 0o600  # ... private
    assert mode(tmp_path / "state") & 0o077 == 0
    for path in (tmp_path / "state").rglob("*"):
        assert mode(path) & 0o077 == 0, path


@pytest.mark.parametrize("bits", [0o640, 0o604, 0o644, 0o660, 0o606])
def test_open_token_file_is_refused_by_scan_and_doctor(
    bits: int, google: Any, account: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = tmp_path / "token.json"
    token.chmod(bits)
    secrets = secrets_of(tmp_path)
    code, out = run_cli("scan", "--config", str(account), "--json")
    err = capsys.readouterr().err
    assert code == 3
    assert out == ""
    assert err.count("\n") == 1  # one line
    assert f"mode 0{bits:o}" in err and f"chmod 600 {token}" in err
    assert google.requests == []  # refused before any request
    # the run log (and so the morning digest) says what to fix: chmod, not `calbot auth`
    from calbot.adapters.sqlite import SqliteStore

    store = SqliteStore.open(tmp_path / "state")
    [run] = store.runs(datetime(2000, 1, 1, tzinfo=TZ))
    store.close()
    assert run.outcome == "failed" and f"chmod 600 {token}" in (run.error or "")

    code, out = run_cli("doctor", "--config", str(account))
    [line] = [x for x in out.splitlines() if x.startswith("FAIL")]
    assert line.startswith("FAIL  token permissions:")
    assert line.endswith(f"— fix: chmod 600 {token}")
    assert code == 3  # the same exit status as the scan that refused the file
    assert_clean(secrets, out, err, capsys.readouterr().err)


@pytest.mark.parametrize("bits", [0o640, 0o604, 0o644])
def test_open_client_secret_is_refused_by_auth_and_doctor(
    bits: int, google: Any, account: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "config" / "client_secret.json"
    secret.chmod(bits)
    code, out = run_cli("auth", "--config", str(account), "--no-browser")
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and f"chmod 600 {secret}" in err
    assert google.requests == []

    code, out = run_cli("doctor", "--config", str(account))
    [line] = [x for x in out.splitlines() if x.startswith("FAIL")]
    assert line.startswith("FAIL  client secret:") and line.endswith(f"chmod 600 {secret}")
    assert code == 2  # the same exit status as the `calbot auth` that refused the file
    assert_clean(secrets_of(tmp_path), out, err)


# --- no secret in any output ---------------------------------------------------------------


def test_no_secret_in_json_errors_doctor_or_state(
    google: Any, account: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = secrets_of(tmp_path)
    outputs: list[str] = []

    code, out = run_cli("scan", "--config", str(account), "--json")
    assert code == 0 and json.loads(out)["meetings"]
    assert google.count("gmail.drafts.create") >= 1
    outputs += [out, capsys.readouterr().err]

    code, out = run_cli("doctor", "--config", str(account))
    assert code == 0, out
    outputs += [out, capsys.readouterr().err]

    code, out = run_cli("digest", "--config", str(account))
    outputs += [out, capsys.readouterr().err]

    # access expired, then revoked: refresh fails with invalid_grant
    google.write_token(tmp_path / "token.json", ["calendar.events", "gmail.compose"], expired=True)
    secrets += secrets_of(tmp_path)
    google.revoke()
    code, out = run_cli("scan", "--config", str(account), "--json")
    err = capsys.readouterr().err
    assert code == 3
    assert err == "calbot: Google access expired or was revoked — run `calbot auth`\n"
    outputs += [out, err]

    code, out = run_cli("doctor", "--config", str(account))
    assert code == 3
    outputs += [out, capsys.readouterr().err]

    assert_clean(secrets, *outputs)
    assert_state_clean(secrets, tmp_path / "state")
    assert_state_clean(secrets, tmp_path / "outbox")


# --- doctor names each problem with its fix --------------------------------------------------


def test_doctor_reports_scope_mode_and_revocation_each_with_its_fix(
    google: Any, account: Path, tmp_path: Path
) -> None:
    token = tmp_path / "token.json"
    secret = tmp_path / "config" / "client_secret.json"

    google.write_token(token, ["calendar.events"])  # gmail.compose not granted
    code, out = run_cli("doctor", "--config", str(account))
    assert code == 3
    assert f"FAIL  scopes: not granted: {GMAIL_COMPOSE}" in out
    assert "calbot auth" in out.split("FAIL  scopes:")[1].splitlines()[0]

    google.write_token(token, ["calendar.events", "gmail.compose"])
    token.chmod(0o644)
    secret.chmod(0o604)
    code, out = run_cli("doctor", "--config", str(account))
    fails = [x for x in out.splitlines() if x.startswith("FAIL")]
    assert [x.split(":")[0] for x in fails] == ["FAIL  token permissions", "FAIL  client secret"]
    assert fails[0].endswith(f"fix: chmod 600 {token}")
    assert fails[1].endswith(f"fix: chmod 600 {secret}")

    token.chmod(0o600)
    secret.chmod(0o600)
    google.revoke()
    code, out = run_cli("doctor", "--config", str(account))
    assert code == 3
    fails = [x for x in out.splitlines() if x.startswith("FAIL")]
    assert fails[0].startswith("FAIL  Google Calendar: Google access expired or was revoked")
    assert all(x.endswith("fix: run `calbot auth`") for x in fails)
