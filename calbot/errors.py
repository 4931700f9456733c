"""One error root. The CLI prints any CalbotError as one line and exits with its code."""

from __future__ import annotations


class CalbotError(Exception):
    """An error the user can act on; `str()` is the whole message."""

    exit_code = 1


class ConfigError(CalbotError):
    """Bad config, template or command-line usage."""

    exit_code = 2

    def __init__(self, path: str, key: str, reason: str) -> None:
        self.path, self.key, self.reason = path, key, reason
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(where + reason)


class UsageError(CalbotError):
    exit_code = 2


class AuthError(CalbotError):
    """Google access expired or was revoked."""

    exit_code = 3


class TokenFileError(AuthError):
    """The Google token (or service account key) file is missing, unreadable, open to
    others or not a calbot token."""


class OpenSecretFileError(TokenFileError):
    """A token or key file that others may read or write, refused. Still exit 3 (calbot has
    no usable Google access until the user acts), but its fix is `chmod 600 <file>`, not
    `calbot auth`: the worker, the run log and the doctor say so instead of "access
    revoked"."""

    def __init__(self, message: str, path: object) -> None:
        self.path = path
        self.fix = f"chmod 600 {path}"
        super().__init__(message)


class ServiceError(CalbotError):
    """Google (or an ICS URL) still failing after retries."""

    exit_code = 4


class CalendarServerError(ServiceError):
    """An ICS calendar URL still failing after retries (exit 4). Not Google: the run log and
    the digest must not say "Google was unreachable"."""


class SourceError(CalbotError):
    """The calendar could not be read (missing file, unparseable ICS)."""

    exit_code = 2


class LockedError(CalbotError):
    """Another calbot holds the state store."""

    exit_code = 75
