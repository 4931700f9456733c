"""`calbot doctor`'s checks of the configured source that need no Google: an ICS file or
URL can be read and holds a calendar, and no starter placeholder is left in the config.

The ICS check reads the calendar the way a scan does (`calbot.adapters.ics.download` and
`parse`), but with one short try: the doctor answers in seconds, it does not wait out a
scan's retry budget. A URL is named without its password (`values.redact`)."""

from __future__ import annotations

from pathlib import Path

from calbot.adapters.ics.download import FetchLimits, fetch, is_url, read_file
from calbot.adapters.ics.parse import parse
from calbot.config.placeholders import placeholders_left
from calbot.config.settings import Settings
from calbot.core.redact import redact_location
from calbot.errors import CalbotError, CalendarServerError
from calbot.usecases.doctor_check import Check

__all__ = ["DOCTOR_TIMEOUT", "ics_source", "placeholders"]

DOCTOR_TIMEOUT = 10.0  # seconds for the one GET of an ICS URL (the scan's limit if lower)


def ics_source(settings: Settings) -> Check:
    """The ICS file or URL of `[source] path` can be read and parsed."""
    location = settings.source.path
    where = redact_location(location)
    url = is_url(location)
    try:
        if url:
            timeout = min(DOCTOR_TIMEOUT, settings.limits.http_timeout_seconds)
            # one try: doctor reports, the scan retries
            once = FetchLimits(read_timeout=timeout, download_timeout=timeout, retry_budget=0.0)
            data = fetch(location, where, once)
        else:
            data = read_file(location, where)
    except CalbotError as exc:
        if isinstance(exc, CalendarServerError):
            return Check(
                "source",
                False,
                str(exc),
                "check that the address in [source] path opens in a browser on this machine "
                "(a network problem: try again later)",
                exit_code=4,
            )
        return Check(
            "source",
            False,
            str(exc),
            f"check the calendar's iCal address in [source] path of {settings.path}"
            if url
            else f"point [source] path in {settings.path} at your exported .ics file",
            exit_code=2,
        )
    try:
        calendar = parse(where, data)
    except CalbotError as exc:
        return Check(
            "source",
            False,
            str(exc),
            "[source] path must be an iCalendar (.ics) file or the calendar's iCal address",
            exit_code=2,
        )
    events = len(calendar.walk("VEVENT"))
    return Check("source", True, f"{where}: a calendar with {events} events (VEVENT)")


def placeholders(settings: Settings) -> Check | None:
    """A failing check while a value of the starter config that says "CHANGE ME" is left;
    None (no line) when none is."""
    left = placeholders_left(Path(settings.path))
    if left:
        return Check(
            "placeholders",
            False,
            f"{settings.path} still has the starter's placeholders: {', '.join(left)}",
            "replace every value that says CHANGE ME (your name, signature, domains, clients)",
            exit_code=2,
        )
    return None
