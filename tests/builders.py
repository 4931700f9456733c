"""Small builders for domain objects, so each test states only what it is about."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from calbot.config.settings import Settings
from calbot.core.messages import Message
from calbot.core.model import (
    Attendee,
    Client,
    Contact,
    Event,
    EventType,
    Response,
    Slot,
    Tier,
    TimeRange,
)
from calbot.core.settings import Scoring, Thresholds, UserSettings

TZ = "Europe/Berlin"
ME = "me@studio.example"
COLLEAGUE = "sam@studio.example"
_ids = itertools.count(1)


def at(text: str, tz: str = TZ) -> datetime:
    """'2026-12-01 10:00' in the given zone."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


def user(**kw: object) -> UserSettings:
    base: dict[str, Any] = {
        "email": ME,
        "name": "Me Myself",
        "timezone": TZ,
        "working_hours": TimeRange(time(9), time(17, 30)),
        "own_domains": ("studio.example",),
        "signature": "Me",
    }
    base.update(kw)
    return UserSettings(**base)


def client(name: str = "Acme", domain: str = "acme.example", **kw: object) -> Client:
    base: dict[str, Any] = {"name": name, "domains": (domain,), "language": "en"}
    base.update(kw)
    return Client(**base)


def settings(
    *clients: Client,
    thresholds: Thresholds | None = None,
    scoring: Scoring | None = None,
    **user_kw: object,
) -> Settings:
    return Settings(
        user=user(**user_kw),
        clients=clients or (client(),),
        thresholds=thresholds or Thresholds(),
        scoring=scoring or Scoring(),
    )


def person(email: str, **kw: object) -> Attendee:
    base: dict[str, Any] = {"email": email, "response": Response.ACCEPTED}
    base.update(kw)
    return Attendee(**base)


def event(
    start: str | datetime,
    minutes: float = 30,
    *,
    guests: tuple[str, ...] = ("ana@acme.example",),
    organizer: str | None = None,
    tz: str = TZ,
    me: Attendee | None = None,
    description: str = "Agenda: the plan.",
    **kw: object,
) -> Event:
    begin = at(start, tz) if isinstance(start, str) else start
    organizer = guests[0] if organizer is None and guests else (organizer or ME)
    people = [me or person(ME, is_self=True)]
    people += [person(g, organizer=g == organizer) for g in guests]
    n = next(_ids)
    base: dict[str, Any] = {
        "id": f"ev{n}",
        "calendar_id": "cal",
        "ical_uid": f"uid{n}",
        "start": begin,
        "end": (begin.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(begin.tzinfo),
        "summary": f"Meeting {n}",
        "description": description,
        "video_link": "https://meet.example/x",
        "organizer": organizer,
        "attendees": tuple(people),
    }
    base.update(kw)
    return Event(**base)


def block(start: str, minutes: float, kind: EventType = EventType.DEFAULT, **kw: Any) -> Event:
    """A busy event with nobody else: not a meeting."""
    return event(start, minutes, guests=(), organizer=ME, event_type=kind, **kw)


@dataclass
class ListSource:
    """A calendar source over a list of events: what a scan reads, with no file or server."""

    items: list[Event]
    requests: int = 0
    warnings: list[Message] = field(default_factory=list)

    def events(self, start: datetime, end: datetime) -> list[Event]:
        return [e for e in self.items if e.end > start and e.start < end]

    def extra_busy(self, start: datetime, end: datetime) -> list[Slot]:
        return []


GOOGLE_USER = "me@example.com"


def google_toml(
    root: str,
    token: Path | str,
    client_secret: Path | str | None = None,
    *,
    user: str = "",
    source: str = "",
) -> str:
    """The `[user]`, `[source]` and `[google]` tables of a config that scans the fake Google
    server at `root` as `GOOGLE_USER`, reading the primary calendar: the head every Google
    system test's config starts with. `user` and `source` add lines to those tables; the
    caller appends the tables that differ (`[outputs]`, `[limits]`, `[[clients]]`, ...)."""
    google = [f'api_root = "{root}"', f'token_file = "{token}"']
    if client_secret is not None:
        google.append(f'client_secret_file = "{client_secret}"')
    return "\n".join(
        [
            "[user]",
            f'email = "{GOOGLE_USER}"',
            'name = "Me Myself"',
            'timezone = "Europe/Berlin"',
            'own_domains = ["example.com"]',
            *([user] if user else []),
            "",
            "[source]",
            'kind = "google"',
            'calendars = ["primary"]',
            *([source] if source else []),
            "",
            "[google]",
            *google,
            "",
        ]
    )


def next_weekday(weekday: int) -> date:
    """That weekday of next week in Berlin (0 = Monday): always ahead of the scan's notice,
    and inside its two-week horizon."""
    today = datetime.now(ZoneInfo(TZ)).date()
    return today + timedelta(days=7 - today.weekday() + weekday)


def next_tuesday() -> date:
    """The day the system tests overload: Tuesday of next week in Berlin."""
    return next_weekday(1)


def google_time(day: date, hh: int, mm: int = 0) -> dict[str, str]:
    """A Google event's start or end: that day at hh:mm in Berlin."""
    moment = datetime(day.year, day.month, day.day, hh, mm, tzinfo=ZoneInfo(TZ))
    return {"dateTime": moment.isoformat(), "timeZone": TZ}


# The clients of the demo week (`usecases.demo.demo_calendar`) as the system tests that scan
# it configure them: the `[[clients]]` tables, for the end of a config.
DEMO_CLIENTS = """\
[[clients]]
name = "Northwind"
domains = ["northwind.example"]
tier = "low"
timezone = "Europe/London"

[[clients]]
name = "Bluebird Studio"
domains = ["bluebird.example"]

[[clients]]
name = "Borneo Trading"
domains = ["borneo.example"]
language = "ms"

[[clients]]
name = "Lotus Media"
domains = ["lotus.example"]
language = "vi"
chatty = true

[[clients]]
name = "Acme Corp"
domains = ["acme.example"]
tier = "key"
language = "vi"
"""


def plain_google_settings(google: Any, tmp_path: Path, now: datetime) -> Settings:
    """A config reading the fake Google's primary calendar (Acme the client, no outputs),
    its token written with exactly the scopes that config needs."""
    token = tmp_path / "token.json"
    data = {
        "user": {"email": google.user_email, "timezone": "Europe/Berlin"},
        "source": {"kind": "google", "calendars": ["primary"]},
        "google": {"api_root": google.root, "token_file": str(token)},
        "outputs": {"outbox": ""},
        "clients": [{"name": "Acme", "domains": ["acme.example"]}],
    }
    from calbot.adapters.google.scopes import scopes_for
    from calbot.config.loader import parse_settings

    settings = parse_settings(data, path="calbot.toml", now=now, check_templates=False)
    google.write_token(token, scopes_for(settings))
    return settings


__all__ = ["Contact", "Tier"]


# Every header a calbot draft carries (policy.SMTP + set_content; Cc when a colleague is
# copied): an injected header would be one more.
DRAFT_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "subject",
        "date",
        "message-id",
        "x-calbot",
        "x-calbot-content",
        "x-calbot-id",  # the Message-ID again, should Gmail rewrite it (issue 11)
        "x-calbot-holds",  # a reschedule draft's offered slots
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
