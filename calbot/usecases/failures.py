"""What a failure means, in one table: an exception out of a scan or a digest becomes its
run outcome (the run log, the worker's log lines, the digest's trouble), its exit code (the
CLI), how loudly the worker logs it and what the worker does about it.

Kept light (no adapter, no store): the CLI imports it at start-up."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from calbot.core.untrusted import one_line
from calbot.core.vocab import RunOutcome
from calbot.errors import (
    AuthError,
    CalbotError,
    CalendarServerError,
    LockedError,
    OpenSecretFileError,
    PasswordRefused,
    ServiceError,
)

__all__ = ["AUTH_FIX", "GOOGLE_DOWN_TEXT", "LOCKED_TEXT", "Failure", "failure_of"]

AUTH_FIX = "Google access expired or was revoked — run `calbot auth`"
LOCKED_TEXT = "another calbot holds the state store; skipped"
GOOGLE_DOWN_TEXT = "Google still failing; retrying at the next scan"
RETRY_TEXT = "retrying at the next scan"
UNEXPECTED_EXIT = 1  # a bug: never for bad input

#: calbot's errors, most specific first (the first row that matches wins): the outcome, the
#: worker's log level and what the worker does about it. The exit code is the error's own.
OUTCOMES: tuple[tuple[type[CalbotError], RunOutcome, int, str], ...] = (
    # still exit 3, but its fix is `chmod 600`, not `calbot auth` (see `failure_of`)
    (OpenSecretFileError, RunOutcome.FAILED, logging.ERROR, RETRY_TEXT),
    (AuthError, RunOutcome.AUTH, logging.ERROR, AUTH_FIX),
    (LockedError, RunOutcome.LOCKED, logging.WARNING, LOCKED_TEXT),
    # an ICS URL down: a failed scan (the digest says "a scan failed"), not "Google down"
    (CalendarServerError, RunOutcome.FAILED, logging.WARNING, RETRY_TEXT),
    (ServiceError, RunOutcome.GOOGLE_DOWN, logging.WARNING, GOOGLE_DOWN_TEXT),
    (CalbotError, RunOutcome.FAILED, logging.ERROR, RETRY_TEXT),
)


@dataclass(frozen=True, slots=True)
class Failure:
    """How one failure is recorded, logged and reported."""

    outcome: RunOutcome
    exit_code: int
    level: int
    error: str  # the one-line message for the user (calbot's errors carry no secrets)
    note: str  # what the worker does about it
    fix: str = ""  # what the user must do: an AuthError's own `fix` (Google, CalDAV, IMAP)


def failure_of(exc: BaseException) -> Failure:
    """The row of `OUTCOMES` for `exc`; anything else is an unexpected failure (exit 1)."""
    message = one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, CalbotError):
        for kind, outcome, level, note in OUTCOMES:
            if isinstance(exc, kind):
                fix = exc.fix if isinstance(exc, AuthError) else ""
                if isinstance(exc, PasswordRefused) and not message.endswith(fix):
                    message = f"{one_line(str(exc), 600)} — {fix}"  # the digest reads it
                if isinstance(exc, OpenSecretFileError):
                    note = f"run `{exc.fix}`; {note}"
                elif isinstance(exc, AuthError) and exc.service != "google":
                    # a CalDAV or IMAP password: not "Google access expired"
                    note = f"{exc.fix}; {RETRY_TEXT}"
                return Failure(outcome, exc.exit_code, level, message, note, fix)
    return Failure(
        RunOutcome.FAILED,
        UNEXPECTED_EXIT,
        logging.ERROR,
        f"{type(exc).__name__}: {message}",
        f"unexpected error; {RETRY_TEXT}",
    )
