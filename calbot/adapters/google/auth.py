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
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from google.oauth2.credentials import Credentials

from calbot.adapters import files
from calbot.adapters.google.scopes import scopes_for
from calbot.config.settings import Settings
from calbot.core.messages import Message, message
from calbot.errors import AuthError, OpenSecretFileError, TokenFileError

__all__ = [
    "REQUIRED_KEYS",
    "TESTING_LIFETIME",
    "SavingCredentials",
    "check_private",
    "iso_z",
    "load_credentials",
    "read_token_info",
    "testing_expiry_warning",
    "testing_expiry_warning_for",
    "write_private_json",
]

log = logging.getLogger("calbot.google")

TESTING_LIFETIME = timedelta(days=7)  # refresh tokens of an app in "Testing" status
WARN_AHEAD = timedelta(days=1)
REQUIRED_KEYS = ("refresh_token", "token_uri", "client_id", "client_secret")
_TOKEN_LIMIT = 1024 * 1024  # a token file is a few hundred bytes


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
    scopes = _checked_fields(path, info)
    creds = SavingCredentials(  # type: ignore[no-untyped-call]
        token=info.get("token") or None,
        refresh_token=info["refresh_token"],
        token_uri=info["token_uri"],
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        scopes=scopes,
        expiry=_naive_utc(info.get("expiry")),
    )
    creds.token_file = path
    return creds


def _checked_fields(path: Path, info: Mapping[str, Any]) -> list[str] | None:
    """The granted scopes, after checking every field google-auth will use has the right
    type: a wrong one fails here, at once, naming the field (exit 3), instead of deep in
    google-auth (exit 1) or as a token endpoint retried for minutes (exit 4)."""

    def bad(key: str, why: str) -> TokenFileError:
        return TokenFileError(f"token file {path}: {key} {why} — run `calbot auth` again")

    for key in REQUIRED_KEYS:
        if not isinstance(info[key], str):
            raise bad(key, "is not text")
    if info.get("token") is not None and not isinstance(info["token"], str):
        raise bad("token", "is not text")
    if not _usable_token_uri(info["token_uri"]):
        raise bad("token_uri", "is not an https:// address")
    key = "scopes" if info.get("scopes") else "scope"
    scopes = info.get(key)
    if not scopes:
        return None
    if isinstance(scopes, str):
        return scopes.split()
    if not isinstance(scopes, list) or not all(isinstance(x, str) and x for x in scopes):
        raise bad(key, "is not a list of scopes")
    return list(scopes)


_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _usable_token_uri(uri: str) -> bool:
    """https with a host; or http to this machine (the tests' fake token endpoint)."""
    try:
        parts = urlsplit(uri.strip())
        host = parts.hostname
    except ValueError:
        return False
    if not host or any(ch.isspace() for ch in uri.strip()):
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK)


def _service_account(settings: Settings) -> Any:
    path = Path(settings.google.service_account_file).expanduser()
    check_private(path, "service account key")
    subject = settings.google.subject or settings.user.email
    # Imported here: it pulls in `cryptography` (~90 ms), which a scan with an OAuth token
    # never needs, and the scan's first request waits for the imports before it.
    from google.oauth2 import service_account

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
    check_private(path, "Google token")
    try:  # never opens a FIFO for a blocking read, nor reads a directory or a huge file
        data = json.loads(files.read_regular(path, limit=_TOKEN_LIMIT).decode("utf-8"))
    except FileNotFoundError:
        raise TokenFileError(f"no Google token at {path} — run `calbot auth`") from None
    except files.NotRegularFile as exc:
        raise TokenFileError(
            f"token file {path} is {exc.strerror}, not a token — run `calbot auth`"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise TokenFileError(
            f"token file {path} cannot be read as JSON — run `calbot auth` to write a new one"
        ) from None
    if not isinstance(data, dict):
        raise TokenFileError(f"token file {path} is not a calbot token — run `calbot auth`")
    return data


def check_private(path: Path, what: str) -> None:
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
    info["expiry"] = iso_z(creds.expiry)
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


def iso_z(when: datetime | None) -> str | None:
    """A time as the token file holds it: UTC to the second, with a "Z"."""
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.isoformat(timespec="seconds") + "Z"


# --- the Testing-status warning ------------------------------------------------------------


def testing_expiry_warning(settings: Settings, now: datetime) -> Message | None:
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
) -> Message | None:
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
    return message("warn.testing_expiry", when=when)
