"""`calbot doctor`'s Google checks: the credentials (token file present, mode 0600, refresh
token, granted scopes against `scopes_for(settings)`: none missing and none beyond, the
"Testing" status 7-day limit, the client secret's mode; or the service account key) and the
reach of each API with one cheap request: `events.list` with `maxResults=1` on the first
configured calendar (the `calendar.events` scope does not cover `calendarList`) and Gmail's
`users.getProfile` (covered by `gmail.compose`, per the discovery document).

Exit codes follow the commands that hit the same problem: an open token file is 3, as in
`calbot scan` (no usable Google access until the user acts); an open client secret is 2, as
in `calbot auth`, the only command that reads it.
"""

from __future__ import annotations

import dataclasses
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from calbot.adapters.google.api import ApiError, GoogleApi, MissingScope
from calbot.adapters.google.auth import (
    REQUIRED_KEYS,
    TESTING_LIFETIME,
    load_credentials,
    read_token_info,
    testing_expiry_warning_for,
)
from calbot.adapters.google.scopes import (
    CALBOT_SCOPES,
    CALENDAR_EVENTS,
    GMAIL_COMPOSE,
    SCOPE_PREFIX,
    scopes_for,
)
from calbot.config.settings import Settings
from calbot.errors import AuthError, CalbotError, ServiceError
from calbot.present.messages import say
from calbot.usecases.doctor_check import PERMISSIONS_PAGE, RUN_AUTH, Check

__all__ = ["DOCTOR_RETRY_BUDGET", "google_checks", "google_unused"]

DOCTOR_RETRY_BUDGET = 10.0  # seconds: doctor answers quickly rather than riding out an outage


def google_checks(
    settings: Settings, now: datetime, connect: Callable[..., GoogleApi], checks: list[Check]
) -> None:
    """Append the credential checks, then — when the credentials are worth trying — one
    reach check per API."""
    granted: set[str] | None
    if settings.google.service_account_file:
        ok = _service_account(settings, checks)
        granted = set(scopes_for(settings)) if ok else None  # delegated by the admin
    else:
        granted = _token(settings, now, checks)
        checks.append(_client_secret(settings))
    if granted is not None:
        _reach(settings, connect, checks, granted)


def google_unused(settings: Settings) -> Check:
    """The one Google line of a config without Google (an ICS or CalDAV source)."""
    outputs = settings.outputs
    if settings.source.kind == "caldav":
        # the review calendar works on CalDAV (MKCALENDAR): only Google's own outputs idle
        idle = [
            name
            for name, on in (
                ("Gmail drafts", outputs.gmail_drafts),
                ("calendar notes", outputs.calendar_notes),
            )
            if on
        ]
        if idle:
            return Check(
                "google",
                True,
                f"not used: with a CalDAV calendar as the source, {' and '.join(idle)} "
                f"{'are' if len(idle) > 1 else 'is'} off",
                "set outputs.imap_drafts = true for drafts in your mailbox's Drafts folder",
                warning=True,
            )
        return Check("google", True, "not used: the source is a CalDAV calendar")
    if outputs.gmail_drafts or outputs.calendar_notes or outputs.review_calendar:
        return Check(
            "google",
            True,
            "not used: with an ICS calendar as the source, Gmail drafts, calendar notes and "
            "the review calendar are off (drafts go to the outbox)",
            'set source.kind = "google" to use them',
            warning=True,
        )
    return Check("google", True, "not used: the source is an ICS calendar and Gmail is off")


# --- credentials ---------------------------------------------------------------------------


def _token(settings: Settings, now: datetime, checks: list[Check]) -> set[str] | None:
    """Token file checks; the granted scopes when the credentials are worth trying."""
    path = Path(settings.google.token_file).expanduser()
    if not path.exists():
        checks.append(Check("token", False, f"no Google token at {path}", RUN_AUTH, exit_code=3))
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        checks.append(
            Check(
                "token permissions",
                False,
                f"{path} is open to others (mode 0{mode:o})",
                f"chmod 600 {path}",
                exit_code=3,  # as `calbot scan`, which refuses it (an AuthError)
            )
        )
        return None
    checks.append(Check("token permissions", True, f"{path} (mode 0600)"))
    try:
        info = read_token_info(path)
    except AuthError as exc:
        checks.append(Check("token", False, str(exc), RUN_AUTH, exit_code=3))
        return None
    missing = [k for k in REQUIRED_KEYS if not info.get(k)]
    if missing:
        checks.append(
            Check("token", False, f"{path} lacks {', '.join(missing)}", RUN_AUTH, exit_code=3)
        )
        return None
    expiry = info.get("expiry")
    checks.append(
        Check(
            "token",
            True,
            f"refresh token present; access token valid until {expiry or 'unknown'} "
            "(renewed automatically)",
        )
    )
    checks.extend(_scopes(settings, info))
    checks.append(_testing_status(settings, info, now))
    return _granted(info)


def _granted(info: dict[str, Any]) -> set[str]:
    raw = info.get("scopes") or info.get("scope") or []
    return set(raw.split() if isinstance(raw, str) else raw)


def _scopes(settings: Settings, info: dict[str, Any]) -> list[Check]:
    """The needed scopes granted, then (when any) the granted scopes beyond them."""
    granted = _granted(info)
    needed = scopes_for(settings)
    missing = [s for s in needed if s not in granted]
    if missing:
        checks = [
            Check(
                "scopes",
                False,
                "not granted: " + ", ".join(missing),
                f"{RUN_AUTH} (and tick every box Google shows)",
                exit_code=3,
            )
        ]
    else:
        checks = [Check("scopes", True, "granted: " + ", ".join(_short(s) for s in needed))]
    extra = granted - set(needed)
    # anything beyond the scopes some calbot config asks for is broader than calbot may hold
    # (gmail.send, mail.google.com, full calendar, ...)
    broader = sorted(extra.difference(CALBOT_SCOPES))
    unneeded = ", ".join(_short(s) for s in sorted(extra.intersection(CALBOT_SCOPES)))
    if broader:
        # a new consent alone would leave the broad grant alive at Google: revoke it first
        checks.append(
            Check(
                "extra scopes",
                False,
                "granted beyond what calbot may hold: "
                + ", ".join(_short(s) for s in broader)
                + (f"; not needed by this config: {unneeded}" if unneeded else ""),
                f"revoke calbot's access at {PERMISSIONS_PAGE}, then {RUN_AUTH} "
                "(it asks only for what this config needs)",
                exit_code=3,
            )
        )
    elif unneeded:
        checks.append(
            Check(
                "extra scopes",
                True,
                f"granted but not needed: {unneeded}",
                f"{RUN_AUTH} again to drop it",
                warning=True,
            )
        )
    return checks


def _testing_status(settings: Settings, info: dict[str, Any], now: datetime) -> Check:
    name = "Testing status"
    if settings.google.app_published:
        return Check(name, True, "app_published = true: refresh tokens do not expire after 7 days")
    consented = info.get("consented_at")
    if not isinstance(consented, str):
        return Check(
            name,
            True,
            "consent time unknown (the token was not written by `calbot auth`)",
            f"{RUN_AUTH} so calbot can warn before Google's 7-day limit",
            warning=True,
        )
    tz = ZoneInfo(settings.user.timezone)
    warning = testing_expiry_warning_for(info, now, tz=tz)
    fix = f"{RUN_AUTH} again, or publish the OAuth app and set [google] app_published = true"
    if warning is None:
        try:
            ends = datetime.fromisoformat(consented.replace("Z", "+00:00")) + TESTING_LIFETIME
        except ValueError:
            ends = None
        until = f"{ends.astimezone(tz):%Y-%m-%d %H:%M}" if ends else "in over a day"
        return Check(
            name,
            True,
            f"if the OAuth app is in Testing status, access ends {until} "
            "(set app_published = true once it is published)",
        )
    if _past(consented, now):
        return Check(
            name,
            False,
            "the 7 days of a Testing-status app have run out",
            fix,
            exit_code=3,
        )
    return Check(name, True, say(warning, "en"), fix, warning=True)


def _past(consented: str, now: datetime) -> bool:
    try:
        at = datetime.fromisoformat(consented.replace("Z", "+00:00"))
    except ValueError:
        return False
    return at + TESTING_LIFETIME <= now


def _client_secret(settings: Settings) -> Check:
    path = Path(settings.google.client_secret_file).expanduser()
    if not path.exists():
        return Check(
            "client secret",
            True,
            f"no OAuth client at {path} (needed only to run `calbot auth` again)",
            "`calbot auth --client-secret ~/Downloads/client_secret_….json`",
            warning=True,
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check(
            "client secret",
            False,
            f"{path} is open to others (mode 0{mode:o})",
            f"chmod 600 {path}",
            exit_code=2,  # as `calbot auth`, which refuses it (a usage error)
        )
    return Check("client secret", True, f"{path} (mode 0600)")


def _service_account(settings: Settings, checks: list[Check]) -> bool:
    path = settings.google.service_account_file
    try:
        creds = load_credentials(settings)
    except AuthError as exc:
        checks.append(
            Check(
                "service account",
                False,
                str(exc),
                "fix [google] service_account_file (a JSON key, mode 0600)",
                exit_code=2,
            )
        )
        return False
    subject = settings.google.subject or settings.user.email
    email = getattr(creds, "service_account_email", "?")
    checks.append(Check("service account", True, f"{email} acting for {subject} (key {path})"))
    return True


# --- reach ---------------------------------------------------------------------------------


def _reach(
    settings: Settings,
    connect: Callable[..., GoogleApi],
    checks: list[Check],
    granted: set[str],
) -> None:
    """One cheap request per API — skipped for an API whose scope is known to be missing
    (already reported by the scopes check; Google would only refuse it)."""
    budget = min(settings.limits.retry_budget_seconds, DOCTOR_RETRY_BUDGET)
    quick = dataclasses.replace(
        settings, limits=dataclasses.replace(settings.limits, retry_budget_seconds=budget)
    )
    try:
        api = connect(quick)
    except CalbotError as exc:
        checks.append(_failure("Google", exc, settings))
        return
    calendar_id = settings.source.calendars[0]
    if CALENDAR_EVENTS not in granted:
        checks.append(
            Check(
                "Google Calendar",
                False,
                "not checked: calendar.events not granted",
                RUN_AUTH,
                exit_code=3,
            )
        )
        return
    request = api.calendar.events().list(calendarId=calendar_id, maxResults=1, fields="items(id)")
    try:
        api.call(request, what=f"reading calendar {calendar_id}")
    except CalbotError as exc:
        checks.append(_failure("Google Calendar", exc, settings, calendar_id=calendar_id))
        if isinstance(exc, AuthError) and not isinstance(exc, MissingScope):
            if api.gmail is not None:
                checks.append(
                    Check(
                        "Gmail",
                        False,
                        "not checked: Google access failed above",
                        RUN_AUTH,
                        exit_code=3,
                    )
                )
            return
    else:
        checks.append(Check("Google Calendar", True, f"reached calendar {calendar_id}"))
    if api.gmail is None:
        return
    if GMAIL_COMPOSE not in granted:
        checks.append(
            Check("Gmail", False, "not checked: gmail.compose not granted", RUN_AUTH, exit_code=3)
        )
        return
    try:
        profile = api.call(api.gmail.users().getProfile(userId="me"), what="reading Gmail")
    except CalbotError as exc:
        checks.append(_failure("Gmail", exc, settings))
        return
    address = str(profile.get("emailAddress", "")).lower() if isinstance(profile, dict) else ""
    if address and address != settings.user.email:
        checks.append(
            Check(
                "Gmail",
                True,
                f"reached the mailbox of {address}, but user.email is {settings.user.email}: "
                f"drafts will be left in {address}",
                f"run `calbot auth` signed in as {settings.user.email}, or fix user.email",
                warning=True,
            )
        )
        return
    checks.append(Check("Gmail", True, f"reached the mailbox of {address or 'the user'}"))


def _failure(name: str, exc: CalbotError, settings: Settings, *, calendar_id: str = "") -> Check:
    if isinstance(exc, MissingScope):
        return Check(name, False, str(exc), RUN_AUTH, exit_code=3)
    if isinstance(exc, AuthError):
        return Check(name, False, str(exc), RUN_AUTH, exit_code=3)
    if isinstance(exc, ApiError) and exc.status == 404 and calendar_id:
        return Check(
            name,
            False,
            f"calendar {calendar_id!r} not found for this account",
            f'fix source.calendars in {settings.path} ("primary" is your main calendar)',
            exit_code=2,
        )
    if isinstance(exc, ServiceError):
        return Check(
            name,
            False,
            str(exc),
            "check the network (and [google] api_root if set), then try again later",
        )
    return Check(name, False, str(exc), "see the message")


def _short(scope: str) -> str:
    """ "gmail.send" for Google's usual scope URLs; any other scope (mail.google.com) whole."""
    return scope.removeprefix(SCOPE_PREFIX)
