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


#: What to do about an `AuthError`, by the service that refused calbot. The digest tells
#: them apart by the fix a run record's error ends with (see `auth_service`).
AUTH_FIXES = {
    "google": "run `calbot auth`",
    "caldav": "check the CalDAV password (caldav.password_file or $CALBOT_CALDAV_PASSWORD)",
    "imap": "check the IMAP password ([imap] password_file or $CALBOT_IMAP_PASSWORD)",
}


class AuthError(CalbotError):
    """A service refused calbot's credentials: Google access expired or was revoked (the
    default), or a CalDAV/IMAP server refused the password. `fix` says what to do; the CLI
    line, the worker's log, the run record and the digest all take it from here."""

    exit_code = 3
    service = "google"

    @property
    def fix(self) -> str:
        return AUTH_FIXES[self.service]


def auth_service(error: str) -> str:
    """The service whose `AuthError` a run record's one-line `error` came from ("google"
    when it ends with no other service's fix): calbot appends the fix last, so untrusted
    text earlier in the line cannot change the answer."""
    for service, fix in AUTH_FIXES.items():
        if service != "google" and error.endswith(fix):
            return service
    return "google"


class PasswordRefused(AuthError):
    """A CalDAV or IMAP password missing, unreadable or refused by the server. The message
    always ends with the service's fix (appended when it does not already)."""

    service = "caldav"

    def __init__(self, message: str) -> None:
        fix = AUTH_FIXES[self.service]
        super().__init__(message if message.endswith(fix) else f"{message} — {fix}")


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
        self.chmod = f"chmod 600 {path}"
        super().__init__(message)

    @property
    def fix(self) -> str:
        return self.chmod


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
