"""Per-user OAuth tokens encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256, from
`cryptography`: nothing home-made).

The key is `$CALBOT_SECRET_KEY` when set (it wins: containers get it from a Secret), else
the contents of `[team] secret_key_file`, which must be a file only its owner can read
(0600). Either may hold several keys separated by commas or newlines: the first encrypts,
all decrypt (`MultiFernet`), so a key can be rotated without losing stored tokens.

Neither a key nor a token ever reaches a message, a repr or a log line.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from calbot.errors import AuthError, ConfigError

__all__ = ["KEY_ENV", "SecretBox", "TokenUnreadable", "load_secret_box", "new_key"]

KEY_ENV = "CALBOT_SECRET_KEY"


class TokenUnreadable(AuthError):
    """A stored token that this key cannot decrypt (exit 3): the key changed, or the row
    was tampered with."""


class SecretBox:
    """Encrypts and decrypts users' token documents. Its repr shows no key."""

    def __init__(self, keys: list[bytes]) -> None:
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"

    def encrypt(self, info: Mapping[str, Any]) -> bytes:
        """A token document (JSON-able) → an opaque, authenticated ciphertext."""
        return self._fernet.encrypt(json.dumps(dict(info), sort_keys=True).encode("utf-8"))

    def decrypt(self, blob: bytes, *, who: str) -> dict[str, Any]:
        """The token document, or TokenUnreadable naming `who` (never the blob)."""
        try:
            data = json.loads(self._fernet.decrypt(blob).decode("utf-8"))
        except (InvalidToken, ValueError, UnicodeDecodeError):
            raise TokenUnreadable(
                f"the stored Google token of {who} cannot be decrypted with this secret key "
                "— was the key changed? Restore it, or add the user's token again"
            ) from None
        if not isinstance(data, dict):
            raise TokenUnreadable(f"the stored Google token of {who} is not a token document")
        return data


def new_key() -> str:
    """A fresh key, as `secret_key_file` or `$CALBOT_SECRET_KEY` holds it."""
    return Fernet.generate_key().decode("ascii")


def load_secret_box(secret_key_file: str, env: Mapping[str, str], *, config_path: str) -> SecretBox:
    """The box from `$CALBOT_SECRET_KEY`, else from the key file. Bad or missing key:
    ConfigError (exit 2) naming the file or the variable, never the key."""
    text = env.get(KEY_ENV, "")
    where, key = (f"${KEY_ENV}", "") if text else (config_path, "team.secret_key_file")
    if not text:
        if not secret_key_file:
            raise ConfigError(config_path, key, f"required (or set ${KEY_ENV})")
        text = _read_key_file(Path(secret_key_file).expanduser(), config_path)
    keys = [k.strip().encode("ascii", "replace") for k in text.replace(",", "\n").splitlines()]
    keys = [k for k in keys if k]
    if not keys:
        raise ConfigError(where, key, "holds no key — write one made by Fernet.generate_key()")
    try:
        return SecretBox(keys)
    except ValueError:
        raise ConfigError(
            where,
            key,
            "not a Fernet key (32 bytes, url-safe base64) — make one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
            ".decode())'`",
        ) from None


def _read_key_file(path: Path, config_path: str) -> str:
    key = "team.secret_key_file"
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if os.name == "posix" and mode & 0o077:
            raise ConfigError(
                config_path, key, f"{path} is open to others (mode 0{mode:o}) — chmod 600 {path}"
            )
        return path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ConfigError(config_path, key, f"no key file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(config_path, key, f"cannot read {path}: {reason}") from None
