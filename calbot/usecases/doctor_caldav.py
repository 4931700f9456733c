"""`calbot doctor` for a CalDAV source: the password, the server's reach and the login, the
calendars found (and which ones a scan reads), and whether each offers RFC 6578 sync. Each
failure says what to fix; nothing here writes to the server or the store."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from calbot.adapters.caldav.connection import (
    CaldavAuthError,
    CaldavTlsError,
    Dav,
    connect,
)
from calbot.adapters.caldav.discovery import choose, list_calendars
from calbot.config.settings import Settings
from calbot.errors import AuthError, CalbotError, SourceError
from calbot.usecases.doctor_check import Check

__all__ = ["caldav_checks"]


def caldav_checks(
    settings: Settings,
    checks: list[Check],
    *,
    env: Mapping[str, str] | None = None,
    open_dav: Callable[..., Dav] = connect,
) -> None:
    """Append the CalDAV checks to `checks` (stops at the first that leaves nothing to try)."""
    try:
        dav = open_dav(settings, os.environ if env is None else env)
    except AuthError as exc:
        what = str(exc).removesuffix(f" — {exc.fix}")  # the fix has its own place
        checks.append(Check("caldav password", False, what, exc.fix, exit_code=3))
        return
    checks.append(Check("caldav password", True, f"read from {dav.password_source}"))
    try:
        found = list_calendars(dav)
    except CaldavAuthError as exc:
        what = str(exc).removesuffix(f" — {exc.fix}")
        fix = f"check the password in {dav.password_source} and caldav.username"
        checks.append(Check("caldav login", False, what, fix, exit_code=3))
        return
    except CaldavTlsError as exc:
        fix = "set caldav.ca_file to the CA bundle that signed the server's certificate"
        checks.append(Check("caldav reach", False, str(exc), fix, exit_code=2))
        return
    except CalbotError as exc:
        fix = "check caldav.url and that the server is up; calbot retries at the next scan"
        checks.append(Check("caldav reach", False, str(exc), fix))
        return
    checks.append(
        Check("caldav login", True, f"{settings.caldav.url} as {settings.caldav.username}")
    )
    try:
        chosen = choose(found, settings.source.calendars, settings.path)
    except SourceError as exc:
        fix = "list display names or URLs the server has in source.calendars"
        checks.append(Check("caldav calendars", False, str(exc), fix, exit_code=2))
        return
    if not chosen:
        names = ", ".join(repr(c.name or c.url) for c in found) or "none"
        checks.append(
            Check(
                "caldav calendars",
                False,
                f"no calendar with events to read (the server has: {names})",
                "create a calendar, or name one in source.calendars",
                exit_code=2,
            )
        )
        return
    shown = ", ".join(repr(c.name or c.url) for c in chosen)
    checks.append(Check("caldav calendars", True, f"reads {len(chosen)} of {len(found)}: {shown}"))
    without = [c for c in chosen if not c.sync]
    if without:
        names = ", ".join(repr(c.name or c.url) for c in without)
        checks.append(
            Check(
                "caldav sync",
                True,
                f"no WebDAV sync (RFC 6578) on {names}: each scan compares ETags instead",
                warning=True,
            )
        )
    else:
        checks.append(Check("caldav sync", True, "every calendar offers WebDAV sync (RFC 6578)"))
