"""Google credentials: the OAuth token file calbot writes and refreshes, or a service account.

The token file is JSON (never pickle), mode 0600, written atomically (a temporary file in the
same folder, then a rename), and holds: token, refresh_token, token_uri, client_id,
client_secret, scopes (the scopes Google granted), expiry (UTC, "Z") and consented_at (UTC,
when the user last consented — Google expires the refresh tokens of a "Testing" app 7 days
after consent).

Refreshed tokens are re-saved automatically: `load_credentials` returns a `SavingCredentials`,
a google-auth `Credentials` whose `refresh()` writes the new access token and expiry back to
the file right after google-auth obtained them. Every refresh goes through `refresh()` —
the proactive one before a request and the one after a 401 — so no caller has to remember.

The credentials are built by hand, not with `Credentials.from_authorized_user_file`, which
replaces the file's `token_uri` with Google's: with `api_root` the refresh must reach the
test server named in the file.

No token, refresh token or client secret ever appears in a message from this module.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from google.oauth2.credentials import Credentials

from calbot import errors
from calbot.adapters import files
from calbot.adapters.google.api import GMAIL_COMPOSE, scope_reasons, scopes_for
from calbot.config.settings import Settings
from calbot.errors import AuthError, UsageError

__all__ = [
    "TESTING_LIFETIME",
    "OpenSecretFileError",
    "SavingCredentials",
    "TokenFileError",
    "load_credentials",
    "read_token_info",
    "run_auth_flow",
    "testing_expiry_warning",
    "testing_expiry_warning_for",
    "write_private_json",
]

log = logging.getLogger("calbot.google")

TESTING_LIFETIME = timedelta(days=7)  # refresh tokens of an app in "Testing" status
WARN_AHEAD = timedelta(days=1)
REQUIRED_KEYS = ("refresh_token", "token_uri", "client_id", "client_secret")
# Where a pasted redirect goes: a loopback port nothing listens on. A "Desktop app" OAuth
# client accepts any loopback port; the browser shows an error page whose address the user
# copies back into the terminal.
NO_BROWSER_REDIRECT = "http://localhost:1/"


class TokenFileError(AuthError):
    """The token file is missing, unreadable, open to others or not a calbot token."""


class OpenSecretFileError(TokenFileError, errors.OpenSecretFileError):
    """A token or key file open to others (see `errors.OpenSecretFileError`)."""


# --- credentials ---------------------------------------------------------------------------


class SavingCredentials(Credentials):
    """OAuth user credentials that re-save the token file after every refresh."""

    token_file: Path | None = None

    def refresh(self, request: Any) -> None:
        super().refresh(request)  # type: ignore[no-untyped-call]
        if self.token_file is None:
            return
        try:
            save_refreshed(self.token_file, self)
        except OSError as exc:  # the new token still works for this run
            log.warning(
                "could not re-save the refreshed Google token to %s: %s",
                self.token_file,
                exc.strerror or type(exc).__name__,
            )


def load_credentials(settings: Settings) -> Any:
    """The service account when `[google] service_account_file` is set, else the OAuth
    token file as `SavingCredentials`. Raises TokenFileError (exit 3) with the fix."""
    google = settings.google
    if google.service_account_file:
        return _service_account(settings)
    path = Path(google.token_file).expanduser()
    info = read_token_info(path)
    missing = [k for k in REQUIRED_KEYS if not info.get(k)]
    if missing:
        raise TokenFileError(
            f"token file {path} lacks {', '.join(missing)} — run `calbot auth` again"
        )
    scopes = info.get("scopes") or info.get("scope")
    if isinstance(scopes, str):
        scopes = scopes.split()
    creds = SavingCredentials(  # type: ignore[no-untyped-call]
        token=info.get("token") or None,
        refresh_token=info["refresh_token"],
        token_uri=info["token_uri"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        scopes=list(scopes) if scopes else None,
        expiry=_naive_utc(info.get("expiry")),
    )
    creds.token_file = path
    return creds


def _service_account(settings: Settings) -> Any:
    from google.oauth2 import service_account

    path = Path(settings.google.service_account_file).expanduser()
    _check_private(path, "service account key")
    subject = settings.google.subject or settings.user.email
    try:
        # token_uri comes from the key file as it is: with api_root, the test server's.
        return service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            str(path), scopes=scopes_for(settings), subject=subject
        )
    except FileNotFoundError:
        raise TokenFileError(
            f"no service account key at {path} — download one (JSON) from the Google Cloud "
            "console, or fix [google] service_account_file"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenFileError(
            f"service account key {path} is not usable ({type(exc).__name__}) — download a "
            "new JSON key from the Google Cloud console"
        ) from None


def read_token_info(path: Path) -> dict[str, Any]:
    """The token file's JSON, after checking that only its owner can read it."""
    _check_private(path, "Google token")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TokenFileError(f"no Google token at {path} — run `calbot auth`") from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise TokenFileError(
            f"token file {path} cannot be read as JSON — run `calbot auth` to write a new one"
        ) from None
    if not isinstance(data, dict):
        raise TokenFileError(f"token file {path} is not a calbot token — run `calbot auth`")
    return data


def _check_private(path: Path, what: str) -> None:
    """Refuse a secret file that others may read or write (POSIX only)."""
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        if what == "Google token":
            raise TokenFileError(f"no Google token at {path} — run `calbot auth`") from None
        return  # reported by the reader
    except OSError:
        return
    if mode & 0o077:
        how = "readable" if mode & 0o044 else "writable"
        raise OpenSecretFileError(
            f"{what} file {path} is {how} by others (mode 0{mode:o}) — chmod 600 {path}", path
        )


def save_refreshed(path: Path, creds: Any) -> None:
    """Write the refreshed access token (and a rotated refresh token) back, keeping every
    other field of the file (token_uri, scopes, consented_at) as it was."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(info, dict):
            info = {}
    except (OSError, ValueError):
        info = {}
    info["token"] = creds.token
    if creds.refresh_token:
        info["refresh_token"] = creds.refresh_token
    info["expiry"] = _iso_z(creds.expiry)
    write_private_json(path, info)


def write_private_json(path: Path, data: Mapping[str, Any]) -> None:
    """Atomically replace `path` with `data` as JSON, mode 0600 from the first byte; the
    folder is created mode 0700 when missing."""
    text = json.dumps(dict(data), indent=2, sort_keys=True) + "\n"
    files.write_private(path, text.encode("utf-8"))


def _naive_utc(value: Any) -> datetime | None:
    """The token file's expiry as google-auth wants it: naive UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None  # an unreadable expiry only makes google-auth refresh early
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def _iso_z(when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.isoformat(timespec="seconds") + "Z"


# --- the Testing-status warning ------------------------------------------------------------


def testing_expiry_warning(settings: Settings, now: datetime) -> str | None:
    """The warning a day before a "Testing" app's 7-day refresh token runs out, or None
    (published app, service account, no readable token file, no consent time recorded)."""
    if settings.google.app_published or settings.google.service_account_file:
        return None
    try:
        info = read_token_info(Path(settings.google.token_file).expanduser())
    except AuthError:
        return None
    return testing_expiry_warning_for(info, now, tz=ZoneInfo(settings.user.timezone))


def testing_expiry_warning_for(
    info: Mapping[str, Any], now: datetime, *, tz: ZoneInfo | None = None
) -> str | None:
    """Pure: the token file's content and the time (aware) → the warning or None."""
    consented = info.get("consented_at")
    if not isinstance(consented, str):
        return None
    at = _naive_utc(consented)
    if at is None:
        return None
    expires = at.replace(tzinfo=UTC) + TESTING_LIFETIME
    if expires - now > WARN_AHEAD:
        return None
    shown = expires.astimezone(tz or UTC)
    when = f"{shown:%Y-%m-%d %H:%M} {shown.tzname()}"
    return (
        f"Google will expire calbot's access on {when} (OAuth app in Testing status: refresh "
        "tokens last 7 days) — run `calbot auth` again, or publish the app"
    )


# --- `calbot auth` -------------------------------------------------------------------------


def run_auth_flow(
    settings: Settings,
    *,
    client_secret: Path | None,
    no_browser: bool,
    input: Callable[[str], str] = input,
    out: Callable[[str], None] = print,
    open_browser: bool = True,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Path:
    """Google's installed-app flow; writes the token file (0600) and returns its path."""
    if settings.google.service_account_file:
        raise UsageError(
            "[google] service_account_file is set: a service account needs no `calbot auth` "
            "— remove it from the config to use your own account instead"
        )
    scopes = scopes_for(settings)
    if not scopes:
        raise UsageError(
            'source.kind = "ics": this config uses no Google account, so there is nothing to '
            "authorize (Gmail drafts, calendar notes and the review calendar need source.kind "
            '= "google")'
        )
    secret_path = Path(settings.google.client_secret_file).expanduser()
    if client_secret is not None:
        secret_path = install_client_secret(client_secret, secret_path)
        out(f"Copied the OAuth client to {secret_path} (mode 0600).")
    config = _read_client_secret(secret_path)
    _explain_scopes(settings, out)

    from google_auth_oauthlib.flow import InstalledAppFlow

    flow = InstalledAppFlow.from_client_config(config, scopes=scopes)
    if no_browser:
        token = _paste_flow(flow, input, out)
    else:
        token = _local_server_flow(flow, open_browser, out)
    info = _token_info(config, token, scopes, now())
    path = Path(settings.google.token_file).expanduser()
    write_private_json(path, info)
    granted = set(info["scopes"])
    out(f"Saved the token to {path} (mode 0600).")
    missing = [s for s in scopes if s not in granted]
    if missing:
        out(
            "Google did not grant: " + ", ".join(missing) + " — calbot will not be able to "
            "do that part; run `calbot auth` again and tick every box to grant it."
        )
    out("Next: `calbot doctor`, then `calbot scan --dry-run`.")
    return path


def install_client_secret(source: Path, target: Path) -> Path:
    """Copy the downloaded client secret to the config folder, mode 0600 (browsers save
    downloads 0644). `target` is the configured client_secret_file path."""
    source = source.expanduser()
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--client-secret: no such file {source}") from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise UsageError(
            f"--client-secret: {source} is not the JSON file Google lets you download"
        ) from None
    _client_config_of(data, str(source))
    if target.is_dir():
        target = target / "client_secret.json"
    if source.resolve() != target.resolve():
        write_private_json(target, data)
    else:
        target.chmod(0o600)
    return target


def _read_client_secret(path: Path) -> dict[str, Any]:
    _check_private_secret(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"no OAuth client at {path} — download it from the Google Cloud console "
            "(Credentials → your Desktop app client → Download JSON) and run "
            "`calbot auth --client-secret FILE`"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise UsageError(f"{path} is not the JSON file Google lets you download") from None
    return _client_config_of(data, str(path))


def _check_private_secret(path: Path) -> None:
    try:
        _check_private(path, "OAuth client secret")
    except TokenFileError as exc:
        raise UsageError(str(exc)) from None


def _client_config_of(data: Any, where: str) -> dict[str, Any]:
    """Check it is a "Desktop app" client config; return it unchanged."""
    if isinstance(data, dict) and "installed" in data:
        client = data["installed"]
        needed = ("client_id", "client_secret", "auth_uri", "token_uri")
        if isinstance(client, dict) and all(client.get(k) for k in needed):
            return data
        raise UsageError(f"{where}: the OAuth client lacks client_id/secret or its Google URLs")
    if isinstance(data, dict) and "web" in data:
        raise UsageError(
            f'{where} is a "Web application" OAuth client — create one of type '
            '"Desktop app" in the Google Cloud console and download that'
        )
    raise UsageError(f'{where} is not an OAuth client file (no "installed" section)')


def _explain_scopes(settings: Settings, out: Callable[[str], None]) -> None:
    out("calbot asks Google for these permissions:")
    for scope, why in scope_reasons(settings).items():
        out(f"  - {scope}: {why}")
    if GMAIL_COMPOSE in scopes_for(settings):
        out(
            "gmail.compose is a restricted scope: Google lets it also send mail, but calbot "
            "never sends — it only leaves drafts."
        )
    if not settings.google.app_published:
        out(
            'While your OAuth app is in "Testing" status, Google expires its refresh tokens '
            "7 days after you consent: calbot warns a day ahead; run `calbot auth` again "
            "then, or publish the app (see the README, Connect Google)."
        )


def _paste_flow(flow: Any, input: Callable[[str], str], out: Callable[[str], None]) -> Any:
    """Headless: print the URL, take back the redirect address (or just the code)."""
    flow.redirect_uri = NO_BROWSER_REDIRECT
    url, state = flow.authorization_url(prompt="consent", access_type="offline")
    out("Open this address in a browser on any machine and allow access:")
    out(f"  {url}")
    out(
        "Google then sends the browser to a localhost page that will not load: copy that "
        "page's whole address (or just its code=... value) and paste it here."
    )
    answer = input("Address or code: ").strip()
    if not answer:
        raise AuthError("no address or code pasted — run `calbot auth --no-browser` again")
    code = answer
    if "://" in answer or answer.startswith(("/?", "?")):
        query = parse_qs(urlsplit(answer).query)
        if "error" in query:
            raise AuthError(
                f"Google did not grant access ({query['error'][0]}) — run `calbot auth` again"
            )
        if query.get("state", [state])[0] != state:
            raise AuthError(
                "the pasted address belongs to another sign-in attempt (state mismatch) — "
                "run `calbot auth --no-browser` again and paste the newest address"
            )
        if "code" not in query:
            raise AuthError("the pasted address has no code=... in it — paste the whole address")
        code = query["code"][0]
    return _fetch(flow, lambda: flow.fetch_token(code=code))


def _local_server_flow(flow: Any, open_browser: bool, out: Callable[[str], None]) -> Any:
    out("Opening your browser to sign in with Google…")

    def run() -> Any:
        flow.run_local_server(
            port=0,
            open_browser=open_browser,
            prompt="consent",
            access_type="offline",
            authorization_prompt_message="If no browser opened, visit this address:\n{url}",
            success_message="calbot is connected. You can close this tab.",
        )
        return flow.oauth2session.token

    return _fetch(flow, run)


def _fetch(flow: Any, fetch: Callable[[], Any]) -> Any:
    """Run the token exchange; returns the token dict. A user who unticked a scope makes
    oauthlib raise a Warning that carries the token: keep it, and report the gap later."""
    try:
        result = fetch()
    except Warning as w:
        token = getattr(w, "token", None)
        if token is None:
            raise
        return token
    except Exception as exc:
        # oauthlib's errors carry the OAuth error code in `.error`; never echo bodies.
        code = getattr(exc, "error", None) or type(exc).__name__
        raise AuthError(f"Google refused the sign-in ({code}) — run `calbot auth` again") from None
    return result if isinstance(result, Mapping) else flow.oauth2session.token


def _token_info(
    config: Mapping[str, Any], token: Mapping[str, Any], asked: list[str], now: datetime
) -> dict[str, Any]:
    client = config["installed"]
    if not token.get("refresh_token"):
        raise AuthError(
            "Google sent no refresh token — remove calbot's access at "
            "https://myaccount.google.com/permissions and run `calbot auth` again"
        )
    scope = token.get("scope", asked)
    granted = scope.split() if isinstance(scope, str) else list(scope)
    expiry = None
    if token.get("expires_at"):
        expiry = datetime.fromtimestamp(float(token["expires_at"]), UTC)
    elif token.get("expires_in"):
        expiry = now + timedelta(seconds=float(token["expires_in"]))
    return {
        "token": token["access_token"],
        "refresh_token": token["refresh_token"],
        "token_uri": client["token_uri"],
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "scopes": granted,
        "expiry": _iso_z(expiry),
        "consented_at": _iso_z(now),
    }
