"""Read events from an iCalendar file or URL (`[source] kind = "ics"`, and `calbot demo`).

Parsing is `icalendar`'s, recurrence (RRULE, EXDATE, RDATE, RECURRENCE-ID overrides,
RANGE=THISANDFUTURE) is `recurring_ical_events`', and X-WR-TIMEZONE calendars are made
standard by `x_wr_timezone` first. We use the building blocks of `recurring_ical_events`
(`Series` per UID) rather than `of(cal).between()` for two reasons: a broken series must be
skipped *with a warning naming it* (`skip_bad_series` drops it silently), and `between()`
copies every occurrence's component, which we never need.

Every VEVENT is checked once when the file is loaded; one that cannot be read (no DTSTART,
garbage dates, end before start, a bad RRULE) is skipped with a warning (a `Message`, which
the scan renders in the user's language) and the rest goes on. A VEVENT that is usable but
had other lines the parser dropped (e.g. an ATTENDEE with control characters in its CN) is
kept, with a warning naming those lines: a missing attendee can hide a client meeting. The
per-VEVENT fields (text, people, links) are mapped once per component and shared by all
occurrences of a series.

The modules: `source` (`IcsSource`: loading once, expanding the series, the warnings),
`download` (the bytes of a file or URL), `parse` (bytes → checked VEVENTs), `fields` (what
every occurrence of one VEVENT shares), `values` (reading property values; how messages
name a VEVENT, a failure and a location).
"""

from calbot.adapters.ics.source import IcsSource

__all__ = ["IcsSource"]
