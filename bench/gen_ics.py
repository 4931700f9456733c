"""Generate a realistic iCalendar file of N events for benchmarks.

    python bench/gen_ics.py N OUT.ics [YYYY-MM-DD]

The user is me@example.com in Europe/Berlin. Events spread from two years before "today" to
three months after: mostly single meetings with clients from a few domains and colleagues
from example.com, about one in ten a weekly series (some with an EXDATE and a moved
instance), a few all-day and out-of-office days. The output is deterministic for (n, today).
"""

from __future__ import annotations

import random
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

USER = "me@example.com"
CLIENT_DOMAINS = ("acme.example", "globex.example", "initech.example", "umbrella.example")
COLLEAGUES = ("anna@example.com", "ben@example.com", "chi@example.com")
FIRST_NAMES = ("Minh", "Lan", "Aisyah", "Farid", "Jonas", "Petra", "Quang", "Siti", "Tom")
TITLES = ("Weekly sync", "Project review", "Kick-off", "Roadmap", "Budget", "Retro", "Demo")
PLACES = ("Room 4.12", "Acme HQ, Hanoi", "Café Central", "Client office", "")
VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""


def window(today: date) -> tuple[date, date]:
    """The days the generated events fall in."""
    return today - timedelta(days=730), today + timedelta(days=90)


def generate(n: int, today: date | None = None, seed: int = 7) -> str:
    """An iCalendar document with `n` VEVENTs (series count once, overrides count too)."""
    today = today or date.today()
    rng = random.Random(seed)
    first, last = window(today)
    span_days = (last - first).days
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//calbot//bench//EN",
        "CALSCALE:GREGORIAN",
        VTIMEZONE,
    ]
    stamp = "20240101T000000Z"
    made = 0
    while made < n:
        i = made
        day = first + timedelta(days=rng.randrange(span_days))
        kind = rng.random()
        uid = f"bench-{i}@calbot.test"
        if kind < 0.03:  # all-day or out-of-office
            oof = rng.random() < 0.5
            lines += [
                "BEGIN:VEVENT",
                f"UID:{uid}",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
                f"SUMMARY:{'Out of office' if oof else 'Conference day'}",
                "TRANSP:OPAQUE" if oof else "TRANSP:TRANSPARENT",
            ]
            if oof:
                lines.append("X-MICROSOFT-CDO-BUSYSTATUS:OOF")
            lines.append("END:VEVENT")
            made += 1
            continue
        hour = rng.choice((8, 9, 10, 11, 13, 14, 15, 16, 17))
        start = datetime(day.year, day.month, day.day, hour, rng.choice((0, 30)))
        minutes = rng.choice((15, 30, 30, 45, 60, 60, 90, 120))
        domain = rng.choice(CLIENT_DOMAINS)
        client = f"{rng.choice(FIRST_NAMES).lower()}@{domain}"
        organizer = rng.choice((USER, client))
        body = [
            f"UID:{uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;TZID=Europe/Berlin:{start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Europe/Berlin:{start + timedelta(minutes=minutes):%Y%m%dT%H%M%S}",
            f"SUMMARY:{rng.choice(TITLES)} {domain.split('.')[0].title()} #{i}",
            f"ORGANIZER;CN=Organizer:mailto:{organizer}",
            _attendee(USER, "Me", rng),
            _attendee(client, client.split("@")[0].title(), rng),
        ]
        for _ in range(rng.randrange(3)):
            body.append(_attendee(rng.choice(COLLEAGUES), "", rng))
        for _ in range(rng.randrange(3)):
            other = f"{rng.choice(FIRST_NAMES).lower()}{rng.randrange(9)}@{domain}"
            body.append(_attendee(other, "", rng))
        if rng.random() < 0.5:
            body.append(f"LOCATION:https://zoom.us/j/{rng.randrange(10**9, 10**10)}")
        else:
            body.append(f"LOCATION:{rng.choice(PLACES)}")
        if rng.random() < 0.6:
            body.append("DESCRIPTION:Agenda:\\n1. Status\\n2. Next steps\\n3. AOB")
        if rng.random() < 0.05:
            body.append("STATUS:CANCELLED")
        if kind < 0.12 and made + 2 <= n:  # a weekly series with an EXDATE and a moved one
            weeks = rng.randrange(4, 40)
            body.append(f"RRULE:FREQ=WEEKLY;COUNT={weeks}")
            skipped = start + timedelta(weeks=1)
            body.append(f"EXDATE;TZID=Europe/Berlin:{skipped:%Y%m%dT%H%M%S}")
            lines += ["BEGIN:VEVENT", *body, "END:VEVENT"]
            moved_from = start + timedelta(weeks=2)
            moved_to = moved_from + timedelta(days=1, hours=1)
            lines += [
                "BEGIN:VEVENT",
                f"UID:{uid}",
                f"DTSTAMP:{stamp}",
                f"RECURRENCE-ID;TZID=Europe/Berlin:{moved_from:%Y%m%dT%H%M%S}",
                f"DTSTART;TZID=Europe/Berlin:{moved_to:%Y%m%dT%H%M%S}",
                f"DTEND;TZID=Europe/Berlin:{moved_to + timedelta(minutes=minutes):%Y%m%dT%H%M%S}",
                "SUMMARY:Moved sync",
                f"ORGANIZER:mailto:{organizer}",
                _attendee(USER, "Me", rng),
                _attendee(client, "", rng),
                "END:VEVENT",
            ]
            made += 2
        else:
            lines += ["BEGIN:VEVENT", *body, "END:VEVENT"]
            made += 1
    lines.append("END:VCALENDAR")
    return "\n".join(lines).replace("\n", "\r\n") + "\r\n"


def _attendee(email: str, name: str, rng: random.Random) -> str:
    partstat = rng.choice(("ACCEPTED", "ACCEPTED", "ACCEPTED", "TENTATIVE", "NEEDS-ACTION"))
    role = "OPT-PARTICIPANT" if rng.random() < 0.1 else "REQ-PARTICIPANT"
    cn = f";CN={name}" if name else ""
    return f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE={role};PARTSTAT={partstat}{cn}:mailto:{email}"


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    today = date.fromisoformat(argv[2]) if len(argv) == 3 else None
    Path(argv[1]).write_text(generate(int(argv[0]), today), encoding="utf-8", newline="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
