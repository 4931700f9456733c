"""Google credentials in team mode, built per user and per task, never process-wide.

- **Service account with domain-wide delegation** (a Workspace domain): the key file is read
  once into a `ServiceAccountKey`; `for_user(email, scopes)` returns new credentials whose
  `subject` is that user (google-auth's `with_subject`), so each task signs its own JWT
  grant and holds its own access token. The key's own credentials never fetch a token.
- **Per-user OAuth tokens** (users outside the domain): stored encrypted (`SecretBox`) by a
  `TokenVault` keyed by user; `oauth_for_user` decrypts one, and its credentials re-encrypt
  and re-save the token right after every refresh, as the single-user token file does.

No key, token, refresh token or client secret appears in a repr or a message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from google.oauth2 import service_account
from google.oauth2.credentials import Credentials

from calbot.adapters.google.auth import REQUIRED_KEYS, check_private, iso_z
from calbot.errors import TokenFileError
from calbot.team.secrets import SecretBox, TokenUnreadable

__all__ = ["ServiceAccountKey", "TokenVault", "VaultCredentials", "oauth_for_user"]

log = logging.getLogger("calbot.team")


class TokenVault(Protocol):
    """Where encrypted tokens live, keyed by user (PostgreSQL in team mode)."""

    def load_token(self, user: str) -> bytes | None: ...

    def save_token(self, user: str, blob: bytes) -> None: ...


class ServiceAccountKey:
    """A service account key file, read once; credentials are made per user from it."""

    def __init__(self, info: dict[str, Any], path: str = "<memory>") -> None:
        self.path = path
        self.client_email = str(info.get("client_email", ""))
        # token_uri is kept as the file has it: with api_root, the test server's.
        self._base = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info
        )

    def __repr__(self) -> str:
        return f"ServiceAccountKey({self.client_email!r}, <private key hidden>)"

    @classmethod
    def load(cls, path: Path) -> ServiceAccountKey:
        """The key file; TokenFileError (exit 3) with the fix when it is unusable."""
        check_private(path, "service account key")
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(info, dict):
                raise ValueError("not a JSON object")
            return cls(info, str(path))
        except FileNotFoundError:
            raise TokenFileError(
                f"no service account key at {path} — download one (JSON) from the Google Cloud "
                "console, or fix [google] service_account_file in the team config"
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TokenFileError(
                f"service account key {path} is not usable ({type(exc).__name__}) — download "
                "a new JSON key from the Google Cloud console"
            ) from None

    def for_user(self, email: str, scopes: Sequence[str]) -> Any:
        """New delegated credentials acting as `email`, asking for `scopes` only."""
        return self._base.with_subject(email).with_scopes(list(scopes))


class VaultCredentials(Credentials):
    """OAuth user credentials that re-encrypt and re-save the token after every refresh."""

    vault: TokenVault | None = None
    box: SecretBox | None = None
    user: str = ""
    stored: dict[str, Any] | None = None  # the decrypted document, other fields kept

    def __repr__(self) -> str:
        return f"VaultCredentials({self.user!r}, <token hidden>)"

    def refresh(self, request: Any) -> None:
        super().refresh(request)  # type: ignore[no-untyped-call]
        if self.vault is None or self.box is None:
            return
        info = dict(self.stored or {})
        info["token"] = self.token
        if self.refresh_token:
            info["refresh_token"] = self.refresh_token  # Google may rotate it
        info["expiry"] = iso_z(self.expiry)
        self.vault.save_token(self.user, self.box.encrypt(info))
        self.stored = info


def oauth_for_user(user: str, vault: TokenVault, box: SecretBox) -> VaultCredentials:
    """The user's stored token as credentials that keep the vault current. TokenFileError
    (exit 3) when the user has none, TokenUnreadable when the key cannot open it."""
    blob = vault.load_token(user)
    if blob is None:
        raise TokenFileError(
            f"no Google token stored for {user} — add one with "
            "`calbot team add-user CONFIG --token TOKEN.json`"
        )
    info = box.decrypt(blob, who=user)
    missing = [k for k in REQUIRED_KEYS if not info.get(k)]
    if missing:
        raise TokenUnreadable(
            f"the stored Google token of {user} lacks {', '.join(missing)} — add the user's "
            "token again"
        )
    scopes = info.get("scopes") or info.get("scope")
    if isinstance(scopes, str):
        scopes = scopes.split()
    creds = VaultCredentials(  # type: ignore[no-untyped-call]
        token=info.get("token") or None,
        refresh_token=info["refresh_token"],
        token_uri=info["token_uri"],  # kept: Credentials.from_authorized_user_info replaces it
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        scopes=list(scopes) if scopes else None,
        expiry=_naive_utc(info.get("expiry")),
    )
    creds.vault, creds.box, creds.user, creds.stored = vault, box, user, info
    return creds


def _naive_utc(value: Any) -> datetime | None:
    """The stored expiry as google-auth wants it: naive UTC (unreadable → refresh early)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when
