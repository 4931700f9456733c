"""Credentials: the token file (permissions, missing, refresh re-save), the service account,
the Testing-status warning, and `calbot auth` end to end against the fake Google server."""

from __future__ import annotations

import importlib.util
import json
import stat
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from calbot.adapters.google import auth as google_auth
from calbot.adapters.google.auth import SavingCredentials, load_credentials, write_private_json
from calbot.adapters.google.oauth_flow import install_client_secret, run_auth_flow
from calbot.adapters.google.scopes import CALENDAR_EVENTS, GMAIL_COMPOSE, scopes_for
from calbot.config.loader import parse_settings
from calbot.config.settings import Settings
from calbot.errors import AuthError, TokenFileError, UsageError
from calbot.present.messages import say

needs_fake = pytest.mark.skipif(
    importlib.util.find_spec("fakes.google") is None, reason="no fake Google server yet"
)
SECRETS = ("ya29.ACCESS-abcdefgh", "1//REFRESH-abcdefgh", "GOCSPX-SECRET-abcdefgh")


def settings_from(tmp_path: Path, root: str = "http://127.0.0.1:9/", **google: Any) -> Settings:
    data: dict[str, Any] = {
        "user": {"email": "me@example.com", "timezone": "Asia/Ho_Chi_Minh"},
        "source": {"kind": "google"},
        "google": {
            "api_root": root,
            "token_file": str(tmp_path / "token.json"),
            "client_secret_file": str(tmp_path / "config" / "client_secret.json"),
            **google,
        },
        "outputs": {"gmail_drafts": True},
        "clients": [{"name": "Acme", "domains": ["acme.example"]}],
    }
    return parse_settings(data, path=str(tmp_path / "calbot.toml"), check_templates=False)


def token_info(**over: Any) -> dict[str, Any]:
    info = {
        "token": SECRETS[0],
        "refresh_token": SECRETS[1],
        "token_uri": "http://127.0.0.1:9/token",
        "client_id": "123.apps.googleusercontent.com",
        "client_secret": SECRETS[2],
        "scopes": [CALENDAR_EVENTS, GMAIL_COMPOSE],
        "expiry": "2030-01-01T00:00:00Z",
        "consented_at": "2029-12-31T00:00:00Z",
    }
    info.update(over)
    return info


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# --- the token file ------------------------------------------------------------------------


def test_credentials_keep_the_files_token_uri_and_expiry(tmp_path: Path) -> None:
    settings = settings_from(tmp_path)
    write_private_json(tmp_path / "token.json", token_info())
    creds = load_credentials(settings)
    assert isinstance(creds, SavingCredentials)
    assert creds.token_uri == "http://127.0.0.1:9/token"
    assert creds.expiry == datetime(2030, 1, 1)  # naive UTC, as google-auth wants
    assert creds.scopes == [CALENDAR_EVENTS, GMAIL_COMPOSE]
    assert creds.refresh_token == SECRETS[1] and creds.valid


def test_token_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    write_private_json(path, token_info())
    path.chmod(0o644)
    with pytest.raises(TokenFileError) as info:
        load_credentials(settings_from(tmp_path))
    assert str(info.value) == (
        f"Google token file {path} is readable by others (mode 0644) — chmod 600 {path}"
    )
    assert info.value.exit_code == 3
    assert_no_secret(str(info.value))


def test_missing_token_says_run_calbot_auth(tmp_path: Path) -> None:
    with pytest.raises(AuthError) as info:
        load_credentials(settings_from(tmp_path))
    assert str(info.value) == f"no Google token at {tmp_path / 'token.json'} — run `calbot auth`"


def test_broken_or_incomplete_token_file(tmp_path: Path) -> None:
    path = tmp_path / "token.json"
    write_private_json(path, token_info(refresh_token="", client_secret=None))
    with pytest.raises(TokenFileError, match="lacks refresh_token, client_secret"):
        load_credentials(settings_from(tmp_path))
    path.write_text("{not json " + SECRETS[0])
    with pytest.raises(TokenFileError) as info:
        load_credentials(settings_from(tmp_path))
    assert "cannot be read as JSON" in str(info.value)
    assert_no_secret(str(info.value))


def test_write_private_json_is_0600_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "new" / "token.json"
    write_private_json(path, {"a": 1})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.chmod(0o644)
    write_private_json(path, {"a": 2})  # replaced by a fresh 0600 file, not rewritten in place
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"a": 2}
    assert [p.name for p in path.parent.iterdir()] == ["token.json"]  # no temporary left


class _Response:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.headers: dict[str, str] = {}
        self.status, self.data = status, json.dumps(body).encode()


def test_refresh_resaves_the_token_file_without_a_server(tmp_path: Path) -> None:
    """The auto-save in isolation: google-auth's refresh grant over a scripted transport."""
    path = tmp_path / "token.json"
    write_private_json(path, token_info(expiry="2020-01-01T00:00:00Z"))
    creds = load_credentials(settings_from(tmp_path))
    assert not creds.valid
    seen: list[str] = []

    def transport(url: str, method: str = "GET", body: Any = None, **_: Any) -> _Response:
        seen.append(url)
        return _Response(200, {"access_token": "ya29.NEW-abcdefgh", "expires_in": 3600})

    creds.refresh(transport)
    assert seen == ["http://127.0.0.1:9/token"]  # the file's token_uri, not Google's
    saved = json.loads(path.read_text())
    assert saved["token"] == "ya29.NEW-abcdefgh"
    assert saved["refresh_token"] == SECRETS[1]
    assert saved["consented_at"] == "2029-12-31T00:00:00Z"
    assert datetime.fromisoformat(saved["expiry"].replace("Z", "+00:00")) > datetime.now(UTC)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- service account -----------------------------------------------------------------------


def test_service_account_with_a_generated_key(tmp_path: Path) -> None:
    rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
    from cryptography.hazmat.primitives import serialization

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key_file = tmp_path / "sa.json"
    write_private_json(
        key_file,
        {
            "type": "service_account",
            "project_id": "calbot-test",
            "private_key_id": "abc123",
            "private_key": pem,
            "client_email": "calbot@calbot-test.iam.gserviceaccount.com",
            "client_id": "42",
            "token_uri": "http://127.0.0.1:9/token",
        },
    )
    settings = settings_from(
        tmp_path, service_account_file=str(key_file), subject="boss@example.com"
    )
    creds = load_credentials(settings)
    assert creds.service_account_email == "calbot@calbot-test.iam.gserviceaccount.com"
    assert creds._subject == "boss@example.com"
    assert creds._token_uri == "http://127.0.0.1:9/token"  # as it is in the key file
    assert list(creds.scopes) == scopes_for(settings)

    key_file.chmod(0o640)
    with pytest.raises(TokenFileError, match="readable by others"):
        load_credentials(settings)
    key_file.chmod(0o600)
    key_file.write_text('{"type": "service_account"}')
    with pytest.raises(TokenFileError, match="not usable") as info:
        load_credentials(settings)
    assert "BEGIN" not in str(info.value)


def test_service_account_key_missing(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, service_account_file=str(tmp_path / "nope.json"))
    with pytest.raises(TokenFileError, match="no service account key at"):
        load_credentials(settings)


# --- the Testing-status warning ------------------------------------------------------------

CONSENT = "2026-03-01T09:00:00Z"


@pytest.mark.parametrize(
    ("now", "warns"),
    [
        (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), False),
        (datetime(2026, 3, 7, 8, 59, tzinfo=UTC), False),  # 1 day 1 minute left
        (datetime(2026, 3, 7, 9, 0, tzinfo=UTC), True),  # exactly a day left
        (datetime(2026, 3, 7, 20, 0, tzinfo=UTC), True),
        (datetime(2026, 3, 9, 0, 0, tzinfo=UTC), True),  # past
    ],
)
def test_testing_expiry_warning_a_day_ahead(now: datetime, warns: bool) -> None:
    warning = google_auth.testing_expiry_warning_for({"consented_at": CONSENT}, now)
    assert (warning is not None) == warns
    if warning:
        assert say(warning, "en") == (
            "Google will expire calbot's access on 2026-03-08 09:00 UTC (OAuth app in Testing "
            "status: refresh tokens last 7 days) — run `calbot auth` again, or publish the app"
        )


def test_testing_expiry_warning_reads_the_file_in_the_users_zone(tmp_path: Path) -> None:
    write_private_json(tmp_path / "token.json", token_info(consented_at=CONSENT))
    now = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    warning = google_auth.testing_expiry_warning(settings_from(tmp_path), now)
    assert warning is not None and "on 2026-03-08 16:00 +07 " in say(warning, "en")
    assert (
        google_auth.testing_expiry_warning(settings_from(tmp_path, app_published=True), now) is None
    )
    assert (
        google_auth.testing_expiry_warning(settings_from(tmp_path), now - timedelta(days=3)) is None
    )
    (tmp_path / "token.json").unlink()
    assert google_auth.testing_expiry_warning(settings_from(tmp_path), now) is None


# --- `calbot auth` -------------------------------------------------------------------------


def client_secret_json(token_uri: str = "http://127.0.0.1:9/token") -> dict[str, Any]:
    return {
        "installed": {
            "client_id": "123.apps.googleusercontent.com",
            "client_secret": SECRETS[2],
            "auth_uri": "http://127.0.0.1:9/auth",
            "token_uri": token_uri,
            "redirect_uris": ["http://localhost"],
        }
    }


def test_client_secret_is_copied_0600(tmp_path: Path) -> None:
    download = tmp_path / "Downloads" / "client_secret_123.json"
    download.parent.mkdir()
    download.write_text(json.dumps(client_secret_json()))
    download.chmod(0o644)
    target = tmp_path / "config" / "client_secret.json"
    assert install_client_secret(download, target) == target
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text()) == client_secret_json()


def test_client_secret_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    web = tmp_path / "web.json"
    web.write_text(json.dumps({"web": client_secret_json()["installed"]}))
    with pytest.raises(UsageError, match='"Desktop app"'):
        install_client_secret(web, tmp_path / "cs.json")
    with pytest.raises(UsageError, match="no such file"):
        install_client_secret(tmp_path / "missing.json", tmp_path / "cs.json")


def test_auth_refuses_a_service_account_config(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, service_account_file=str(tmp_path / "sa.json"))
    with pytest.raises(UsageError, match="service account needs no"):
        run_auth_flow(settings, client_secret=None, no_browser=True)


def follow_to_redirect(url: str) -> str:
    """What a browser does after the user clicks Allow: the fake's /auth answers with a
    redirect; return its Location (the localhost page that would not load)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url) as response:
            raise AssertionError(f"expected a redirect, got {response.status}")
    except urllib.error.HTTPError as exc:
        assert exc.code in (301, 302, 303, 307)
        return str(exc.headers["Location"])


@needs_fake
@pytest.mark.parametrize("paste", ["url", "code"])
def test_auth_no_browser_end_to_end(
    google: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paste: str
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    download = tmp_path / "client_secret_download.json"
    google.write_client_secret(download)
    download.chmod(0o644)
    settings = settings_from(tmp_path, root=google.root)
    lines: list[str] = []

    def answer(prompt: str) -> str:
        url = next(line.strip() for line in lines if line.strip().startswith("http"))
        location = follow_to_redirect(url)
        if paste == "code":
            from urllib.parse import parse_qs, urlsplit

            return parse_qs(urlsplit(location).query)["code"][0]
        return location

    before = datetime.now(UTC)
    path = run_auth_flow(
        settings, client_secret=download, no_browser=True, input=answer, out=lines.append
    )
    assert path == tmp_path / "token.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    copied = tmp_path / "config" / "client_secret.json"
    assert stat.S_IMODE(copied.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert set(saved["scopes"]) == {CALENDAR_EVENTS, GMAIL_COMPOSE}
    assert saved["token_uri"] == google.token_uri
    assert saved["refresh_token"] and saved["token"]
    consented = datetime.fromisoformat(saved["consented_at"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=2) <= consented <= datetime.now(UTC)
    text = "\n".join(lines)
    assert "gmail.compose is a restricted scope" in text
    assert "7 days" in text and "Testing" in text
    for secret in (saved["token"], saved["refresh_token"], saved["client_secret"]):
        assert secret not in text
    # the new token works: credentials load and a call goes through
    creds = load_credentials(settings)
    assert creds.token == saved["token"]


@needs_fake
def test_auth_with_local_server_end_to_end(
    google: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default mode: a browser (here a thread with urllib) follows the sign-in address
    and Google's redirect lands on calbot's one-shot local server."""
    import webbrowser

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    google.write_client_secret(tmp_path / "config" / "client_secret.json")
    (tmp_path / "config" / "client_secret.json").chmod(0o600)

    class Browser:
        def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
            def visit() -> None:
                with urllib.request.urlopen(url, timeout=10) as response:
                    response.read()

            threading.Thread(target=visit, daemon=True).start()
            return True

    monkeypatch.setattr(webbrowser, "get", lambda using=None: Browser())
    settings = settings_from(tmp_path, root=google.root)
    path = run_auth_flow(settings, client_secret=None, no_browser=False, out=lambda _: None)
    saved = json.loads(path.read_text())
    assert set(saved["scopes"]) == {CALENDAR_EVENTS, GMAIL_COMPOSE}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_no_browser_refuses_a_foreign_state_and_a_denial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    cs = tmp_path / "config" / "client_secret.json"
    write_private_json(cs, client_secret_json())
    settings = settings_from(tmp_path)
    for pasted, expected in (
        ("http://localhost:1/?state=someone-else&code=abc", "state mismatch"),
        ("http://localhost:1/?error=access_denied", "did not grant access (access_denied)"),
        ("", "no address or code"),
    ):
        with pytest.raises(AuthError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            run_auth_flow(
                settings,
                client_secret=None,
                no_browser=True,
                input=_answer(pasted),
                out=lambda _: None,
            )
    assert not (tmp_path / "token.json").exists()


def test_a_token_file_that_cannot_be_rewritten_only_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_private_json(tmp_path / "token.json", token_info(expiry="2020-01-01T00:00:00Z"))
    creds = load_credentials(settings_from(tmp_path))

    def refuse(path: Path, data: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(google_auth, "write_private_json", refuse)
    creds.refresh(
        lambda *a, **k: _Response(200, {"access_token": "ya29.NEW-abcdefgh", "expires_in": 60})
    )
    assert creds.token == "ya29.NEW-abcdefgh"  # usable for this run
    assert "could not re-save the refreshed Google token" in caplog.text
    assert "Permission denied" in caplog.text and "ya29" not in caplog.text


def _answer(text: str) -> Callable[[str], str]:
    """A stand-in for `input()` that answers `text` to any prompt."""
    return lambda _prompt: text
