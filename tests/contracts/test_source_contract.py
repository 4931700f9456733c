"""The `CalendarSource` contract, run against every source: the ICS file, Google (the fake
Google server, real googleapiclient) and CalDAV (a real Radicale on 127.0.0.1). The same
events go in, described once (`SPECS`); the same `Event`s must come out, ids aside:
times, all-day, status, transparency, organizer, attendees and their answers, the window
respected, a cancelled event never returned as a live one. Sources that can hold a broken
event (ICS, CalDAV) must skip it with a warning and keep the rest.

The Google and CalDAV cases start servers, so they are `system` tests."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from calbot.adapters.memory_state import MemoryStore
from calbot.config.loader import parse_settings
from calbot.config.settings import Settings
from calbot.core.model import Event
from calbot.ports.calendar import CalendarSource
from calbot.present.messages import say

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 3, 3, 8, 0, tzinfo=BERLIN)  # a Monday
START, END = NOW, NOW + timedelta(days=14)
ME = "me@example.com"  # the fake Google's user


@dataclass(frozen=True)
class Spec:
    """One event, said once, put into each source in its own form."""

    uid: str
    summary: str
    start: datetime | date
    end: datetime | date
    organizer: str = ME
    attendees: tuple[tuple[str, str], ...] = ()  # (email, PARTSTAT)
    transparent: bool = False
    cancelled: bool = False
    weekly: int = 0  # COUNT of a weekly series; 0 = a single event


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=BERLIN)


SPECS = (
    Spec("review", "Acme review", t(4, 10), t(4, 11, 30), ME,
         ((ME, "ACCEPTED"), ("minh@acme.example", "ACCEPTED"))),
    Spec("declined", "Acme pitch", t(5, 9), t(5, 10), "lan@acme.example",
         ((ME, "DECLINED"), ("lan@acme.example", "ACCEPTED"))),
    Spec("invite", "Lotus chat", t(6, 15), t(6, 16), "minh@lotus.example", ((ME, "ACCEPTED"),)),
    Spec("offsite", "Offsite", date(2025, 3, 7), date(2025, 3, 8), transparent=True),
    Spec("weekly", "Acme weekly", t(3, 14), t(3, 15), ME,
         ((ME, "ACCEPTED"), ("minh@acme.example", "TENTATIVE")), weekly=4),
    Spec("gone", "Cancelled sync", t(4, 16), t(4, 17), ME,
         ((ME, "ACCEPTED"), ("minh@acme.example", "ACCEPTED")), cancelled=True),
    Spec("before", "Too early", t(1, 10), t(1, 11)),  # a Saturday before the window
    Spec("after", "Too late", t(20, 10), t(20, 11)),  # after it
)  # fmt: skip

BROKEN = (
    "BEGIN:VEVENT\r\nUID:broken\r\nDTSTAMP:20250101T000000Z\r\n"
    "DTSTART:20250304T120000Z\r\nDTEND:20250304T110000Z\r\nSUMMARY:Ends before it starts\r\n"
    "END:VEVENT\r\n"
)


def _ical_time(name: str, value: datetime | date) -> str:
    if isinstance(value, datetime):
        return f"{name};TZID=Europe/Berlin:{value:%Y%m%dT%H%M%S}\r\n"
    return f"{name};VALUE=DATE:{value:%Y%m%d}\r\n"


def vevent(spec: Spec) -> str:
    lines = [
        "BEGIN:VEVENT\r\n",
        f"UID:{spec.uid}\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:{spec.summary}\r\n",
        _ical_time("DTSTART", spec.start),
        _ical_time("DTEND", spec.end),
    ]
    if spec.attendees or spec.organizer != ME:
        lines.append(f"ORGANIZER:mailto:{spec.organizer}\r\n")
    lines += [f"ATTENDEE;PARTSTAT={p}:mailto:{e}\r\n" for e, p in spec.attendees]
    if spec.transparent:
        lines.append("TRANSP:TRANSPARENT\r\n")
    if spec.cancelled:
        lines.append("STATUS:CANCELLED\r\n")
    if spec.weekly:
        lines.append(f"RRULE:FREQ=WEEKLY;COUNT={spec.weekly}\r\n")
    lines.append("END:VEVENT\r\n")
    return "".join(lines)


def vcalendar(body: str) -> str:
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbot tests//EN\r\n{body}END:VCALENDAR\r\n"
    )


def settings_for(kind: str, **sections: Any) -> Settings:
    data: dict[str, Any] = {
        "user": {"email": ME, "timezone": "Europe/Berlin", "own_domains": ["example.com"]},
        "source": {"kind": kind, **sections.pop("source", {})},
        "clients": [{"name": "Acme", "domains": ["acme.example"]}],
        "outputs": {"outbox": ""},
        "limits": {"retry_budget_seconds": 1},
        **sections,
    }
    return parse_settings(data, path="calbot.toml", now=NOW, check_templates=False)


# --- the sources ---------------------------------------------------------------------------

Maker = Callable[[tuple[Spec, ...], bool], CalendarSource]


def ics_maker(tmp_path: Path) -> Maker:
    def make(specs: tuple[Spec, ...], broken: bool) -> CalendarSource:
        from calbot.adapters.ics import IcsSource

        tmp_path.mkdir(parents=True, exist_ok=True)
        path = tmp_path / "cal.ics"
        body = "".join(vevent(s) for s in specs) + (BROKEN if broken else "")
        path.write_text(vcalendar(body), encoding="utf-8")
        return IcsSource(str(path), ME, "Europe/Berlin")

    return make


def google_maker(google: Any, tmp_path: Path) -> Maker:
    def make(specs: tuple[Spec, ...], broken: bool) -> CalendarSource:
        from calbot.adapters.google.api import connect
        from calbot.adapters.google.calendar import GoogleCalendarSource
        from calbot.adapters.google.scopes import scopes_for

        token = tmp_path / "token.json"
        settings = settings_for(
            "google", google={"api_root": google.root, "token_file": str(token)}
        )
        google.write_token(token, scopes_for(settings))
        for s in specs:
            google.add_event("primary", **_google_fields(s))
        if broken:  # the fake stores what Google's API shape allows: an end before the start
            google.add_event(
                "primary",
                id="broken",
                iCalUID="broken",
                summary="Ends before it starts",
                start=_google_time(datetime(2025, 3, 4, 12, tzinfo=UTC)),
                end=_google_time(datetime(2025, 3, 4, 11, tzinfo=UTC)),
            )
        api = connect(settings, sleep=lambda _: None)
        return GoogleCalendarSource(api, settings, MemoryStore(), writable=True, now=NOW)

    return make


def _google_time(value: datetime | date) -> dict[str, str]:
    if isinstance(value, datetime):
        return {"dateTime": value.isoformat(), "timeZone": "Europe/Berlin"}
    return {"date": value.isoformat()}


_ANSWERS = {"ACCEPTED": "accepted", "DECLINED": "declined", "TENTATIVE": "tentative"}


def _google_fields(s: Spec) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "summary": s.summary,
        "start": _google_time(s.start),
        "end": _google_time(s.end),
        "iCalUID": s.uid,
    }
    if s.attendees:
        fields["attendees"] = [{"email": e, "responseStatus": _ANSWERS[p]} for e, p in s.attendees]
    if s.organizer != ME:
        fields["organizer"] = {"email": s.organizer}
    if s.transparent:
        fields["transparency"] = "transparent"
    if s.cancelled:
        fields["status"] = "cancelled"
    if s.weekly:
        fields["recurrence"] = [f"RRULE:FREQ=WEEKLY;COUNT={s.weekly}"]
    return fields


def caldav_maker(server: Any, tmp_path: Path) -> Maker:
    def make(specs: tuple[Spec, ...], broken: bool) -> CalendarSource:
        from caldav.davclient import DAVClient

        from calbot.adapters.caldav import CaldavSource, connect

        client = DAVClient(server.url, username=server.user, password=server.password)
        cal = client.principal().make_calendar(name="Work")
        for s in specs:
            cal.save_event(ical=vcalendar(vevent(s)))
        if broken:  # a plain PUT: the library would refuse to send it
            client.put(
                str(cal.url) + "broken.ics", vcalendar(BROKEN), {"Content-Type": "text/calendar"}
            )
        settings = settings_for("caldav", caldav={"url": server.url, "username": server.user})
        dav = connect(settings, {"CALBOT_CALDAV_PASSWORD": server.password}, sleep=lambda _: None)
        return CaldavSource(dav, settings, MemoryStore(), writable=True)

    return make


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[Any]:
    if importlib.util.find_spec("radicale") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("radicale is missing: pip install -e '.[test]'")
        pytest.skip("radicale is missing: pip install -e '.[test]'")
    from servers.caldav_server import running

    with running(tmp_path / "radicale") as server:
        yield server


@pytest.fixture(
    params=[
        "ics",
        pytest.param("google", marks=pytest.mark.system),
        pytest.param("caldav", marks=pytest.mark.system),
    ]
)
def make_source(request: pytest.FixtureRequest, tmp_path: Path) -> Maker:
    if request.param == "ics":
        return ics_maker(tmp_path)
    if request.param == "google":
        return google_maker(request.getfixturevalue("google"), tmp_path)
    return caldav_maker(request.getfixturevalue("radicale"), tmp_path)


# --- the contract --------------------------------------------------------------------------


def shape(e: Event) -> tuple[Any, ...]:
    """What must be equal across sources: everything but ids and calendar names."""
    people = tuple(sorted((a.email, a.response.value, a.is_self) for a in e.attendees))
    return (
        e.summary,
        e.start.astimezone(BERLIN).isoformat(),
        e.end.astimezone(BERLIN).isoformat(),
        e.all_day,
        e.status,
        e.transparent,
        e.organizer if e.organizer != ME else "",
        people,
    )


EXPECTED = sorted(
    [
        ("Acme review", t(4, 10), t(4, 11, 30)),
        ("Acme pitch", t(5, 9), t(5, 10)),
        ("Lotus chat", t(6, 15), t(6, 16)),
        ("Offsite", datetime(2025, 3, 7, tzinfo=BERLIN), datetime(2025, 3, 8, tzinfo=BERLIN)),
        *(
            ("Acme weekly", t(3, 14) + timedelta(weeks=w), t(3, 15) + timedelta(weeks=w))
            for w in range(2)  # the window holds two of the four
        ),
    ],
    key=lambda x: (x[1], x[0]),
)


def live(events: list[Event]) -> list[Event]:
    return [e for e in events if e.status != "cancelled"]


def test_the_same_events_come_out_of_every_source(make_source: Maker) -> None:
    events = live(list(make_source(SPECS, False).events(START, END)))
    got = sorted(((e.summary, e.start, e.end) for e in events), key=lambda x: (x[1], x[0]))
    assert got == EXPECTED  # the window respected, the series expanded, the cancelled gone
    by = {(e.summary, e.start): e for e in events}
    review = by[("Acme review", t(4, 10))]
    assert {(a.email, a.response.value, a.is_self) for a in review.attendees} == {
        (ME, "accepted", True),
        ("minh@acme.example", "accepted", False),
    }
    pitch = by[("Acme pitch", t(5, 9))]
    assert pitch.organizer == "lan@acme.example"
    assert [a.response.value for a in pitch.attendees if a.is_self] == ["declined"]
    invite = by[("Lotus chat", t(6, 15))]
    assert invite.organizer == "minh@lotus.example"
    assert [a.email for a in invite.attendees] == [ME]
    offsite = by[("Offsite", datetime(2025, 3, 7, tzinfo=BERLIN))]
    assert offsite.all_day and offsite.transparent
    weekly = [e for e in events if e.summary == "Acme weekly"]
    assert len({e.id for e in weekly}) == 2
    assert {a.response.value for e in weekly for a in e.attendees if not a.is_self} == {"tentative"}


def test_every_source_gives_the_same_shapes(make_source: Maker, tmp_path: Path) -> None:
    events = live(list(make_source(SPECS, False).events(START, END)))
    reference = live(list(ics_maker(tmp_path / "reference")(SPECS, False).events(START, END)))
    assert sorted(map(shape, events)) == sorted(map(shape, reference))


def test_a_broken_event_is_skipped_with_a_warning(make_source: Maker) -> None:
    """Every source, Google too (its API does not refuse an end before the start, so a
    calendar synced from elsewhere can hold one): skipped, named, the rest kept."""
    source = make_source(SPECS, True)
    events = live(list(source.events(START, END)))
    assert len(events) == len(EXPECTED)
    said = [say(w, "en") for w in source.warnings]
    # ICS and CalDAV name it by its UID, Google by its title and id
    assert any("'broken'" in w or "(id broken)" in w for w in said), said
    assert any("ends before it starts" in w.lower() for w in said), said
