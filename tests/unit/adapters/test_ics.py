"""IcsSource over small hand-written calendars, a loopback HTTP server and the real-world corpus."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest

from calbot.adapters.ics import IcsSource
from calbot.adapters.ics.download import FetchLimits
from calbot.core.model import Event, EventType, Response
from calbot.errors import ServiceError, SourceError
from calbot.present.messages import say

DATA = Path(__file__).parents[2] / "data" / "ics"
REALDATA = Path(__file__).parents[3].parent / "shared" / "realdata" / "ics"
BERLIN = ZoneInfo("Europe/Berlin")
ME = "me@example.com"


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def read(name: str, start: datetime, end: datetime, **kw: object) -> tuple[list[Event], IcsSource]:
    source = IcsSource(str(DATA / name), ME, "Europe/Berlin", **kw)  # type: ignore[arg-type]
    return list(source.events(start, end)), source


def shown(source: IcsSource) -> list[str]:
    """The source's warnings as the user reads them (in English)."""
    return [say(w, "en") for w in source.warnings]


def by_uid(events: list[Event]) -> dict[str, Event]:
    return {e.ical_uid: e for e in events}


# -- recurrence -------------------------------------------------------------------------


def test_weekly_series_with_exdate_and_moved_instance() -> None:
    events, source = read("weekly_dst.ics", berlin(2025, 3, 1), berlin(2025, 5, 1))
    series = [e for e in events if e.ical_uid == "weekly-spring@calbot.test"]
    starts = [e.start for e in series]
    assert starts == [
        berlin(2025, 3, 10, 10),
        # 17 March is an EXDATE; the 24 March instance moved to Tuesday 14:00
        berlin(2025, 3, 25, 14),
        berlin(2025, 3, 31, 10),
        berlin(2025, 4, 7, 10),
        berlin(2025, 4, 14, 10),
    ]
    moved = series[1]
    assert moved.summary == "Weekly sync with Acme (moved)"
    assert moved.end - moved.start == timedelta(minutes=90)
    # the moved instance keeps the id of the slot it came from
    assert moved.id == "weekly-spring@calbot.test/20250324T090000Z"
    assert series[0].id == "weekly-spring@calbot.test/20250310T090000Z"
    assert {e.series_id for e in series} == {"weekly-spring@calbot.test"}
    assert len({e.id for e in series}) == len(series)
    assert source.warnings == []
    assert source.requests == 0


def test_weekly_series_stays_at_local_time_across_dst() -> None:
    events, _ = read("weekly_dst.ics", berlin(2025, 1, 1), berlin(2026, 1, 1))
    for uid in ("weekly-spring@calbot.test", "weekly-autumn@calbot.test"):
        series = [e for e in events if e.ical_uid == uid and "moved" not in e.summary]
        assert {(e.start.hour, e.start.minute) for e in series} == {(10, 0)}
        assert {e.tz_name for e in series} == {"Europe/Berlin"}
    spring = [e for e in events if e.ical_uid == "weekly-spring@calbot.test"]
    assert spring[0].start.astimezone(UTC).hour == 9  # CET before 30 March
    assert spring[-1].start.astimezone(UTC).hour == 8  # CEST after
    autumn = [e for e in events if e.ical_uid == "weekly-autumn@calbot.test"]
    assert [e.start.astimezone(UTC).hour for e in autumn] == [8, 8, 9, 9]  # 26 October


def test_only_occurrences_overlapping_the_window() -> None:
    events, _ = read("weekly_dst.ics", berlin(2025, 3, 31, 10, 30), berlin(2025, 4, 7, 10))
    # 31 March runs to 11:00 (overlaps); 7 April starts at the window's end (excluded)
    assert [e.start for e in events] == [berlin(2025, 3, 31, 10)]


# -- mapping ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed() -> tuple[dict[str, Event], IcsSource]:
    events, source = read("mixed.ics", berlin(2025, 6, 1), berlin(2025, 6, 9))
    return by_uid(events), source


def test_all_day_events(mixed: tuple[dict[str, Event], IcsSource]) -> None:
    events, _ = mixed
    offsite = events["allday@calbot.test"]
    assert offsite.all_day
    assert (offsite.start, offsite.end) == (berlin(2025, 6, 2), berlin(2025, 6, 4))
    assert offsite.transparent
    holiday = events["allday-no-end@calbot.test"]  # no DTEND: one day
    assert (holiday.start, holiday.end) == (berlin(2025, 6, 5), berlin(2025, 6, 6))
    assert holiday.id == "allday-no-end@calbot.test" and holiday.series_id is None
    zero = events["allday-zero@calbot.test"]  # DTEND == DTSTART: still the whole day
    assert (zero.start, zero.end) == (berlin(2025, 6, 7), berlin(2025, 6, 8))


def test_status_and_event_types(mixed: tuple[dict[str, Event], IcsSource]) -> None:
    events, _ = mixed
    assert events["cancelled@calbot.test"].status == "cancelled"
    assert events["declined@calbot.test"].status == "tentative"
    assert events["floating@calbot.test"].status == "confirmed"
    oof = events["oof@calbot.test"]
    assert oof.event_type is EventType.OUT_OF_OFFICE and oof.all_day
    assert events["focus@calbot.test"].event_type is EventType.FOCUS
    assert events["zoom@calbot.test"].event_type is EventType.DEFAULT


def test_declined_attendee_and_room(mixed: tuple[dict[str, Event], IcsSource]) -> None:
    event = mixed[0]["declined@calbot.test"]
    assert event.organizer == "lan@globex.example"
    people = {a.email: a for a in event.attendees}
    assert set(people) == {"lan@globex.example", "me@example.com", "room412@example.com"}
    me = people["me@example.com"]
    assert me.is_self and me.response is Response.DECLINED and not me.organizer
    assert people["lan@globex.example"].organizer
    assert people["lan@globex.example"].name == "Lan"
    assert people["room412@example.com"].resource
    assert not people["lan@globex.example"].resource


def test_optional_attendee_and_link_in_description(
    mixed: tuple[dict[str, Event], IcsSource],
) -> None:
    event = mixed[0]["teams@calbot.test"]
    me = next(a for a in event.attendees if a.is_self)
    assert me.optional and me.response is Response.TENTATIVE
    assert not next(a for a in event.attendees if not a.is_self).optional
    assert event.video_link == "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x"
    assert event.location == ""  # "Microsoft Teams Meeting" is not a place
    assert event.tz_name == "UTC"


def test_video_link_in_location(mixed: tuple[dict[str, Event], IcsSource]) -> None:
    event = mixed[0]["zoom@calbot.test"]
    assert event.video_link == "https://initech.zoom.us/j/123456789?pwd=abc"
    assert event.location == ""
    assert event.description == "Agenda: status"
    assert event.organizer == ME
    assert next(a for a in event.attendees if a.is_self).organizer


def test_floating_time_is_in_user_timezone(mixed: tuple[dict[str, Event], IcsSource]) -> None:
    event = mixed[0]["floating@calbot.test"]
    assert (event.start, event.end) == (berlin(2025, 6, 3, 9), berlin(2025, 6, 3, 9, 45))
    assert event.tz_name == ""
    other = IcsSource(str(DATA / "mixed.ics"), ME, "Asia/Ho_Chi_Minh")
    saigon = ZoneInfo("Asia/Ho_Chi_Minh")
    found = by_uid(list(other.events(datetime(2025, 6, 1, tzinfo=saigon), berlin(2025, 6, 9))))
    assert found["floating@calbot.test"].start == datetime(2025, 6, 3, 9, tzinfo=saigon)


def test_bad_events_are_skipped_with_warnings(mixed: tuple[dict[str, Event], IcsSource]) -> None:
    events, source = mixed
    for uid in ("no-start@calbot.test", "garbage@calbot.test", "backwards@calbot.test"):
        assert uid not in events
        assert sum(uid in w for w in shown(source)) == 1, shown(source)
    assert len(source.warnings) == 3
    assert any("no DTSTART" in w and "Broken invitation" in w for w in shown(source))
    assert all("\n" not in w for w in shown(source))
    assert "todo@calbot.test" not in events  # VTODO ignored
    assert len(events) == 11  # every good VEVENT survives


def test_missing_uid_gets_a_stable_synthetic_one(
    mixed: tuple[dict[str, Event], IcsSource],
) -> None:
    (uid,) = [u for u, e in mixed[0].items() if e.summary == "No UID here"]
    again, _ = read("mixed.ics", berlin(2025, 6, 1), berlin(2025, 6, 9))
    assert uid.startswith("calbot-") and uid in by_uid(again)
    assert mixed[0][uid].id == uid


def test_every_event_is_aware_and_named(mixed: tuple[dict[str, Event], IcsSource]) -> None:
    for event in mixed[0].values():
        assert event.start.utcoffset() is not None and event.end >= event.start
        assert event.calendar_id == "ics" and event.html_link == ""


BROKEN_TIMES = [
    ("DTSTART", "DTSTART:2025-01-15\r\nDTEND:20250115T100000Z"),
    ("DTEND", "DTSTART:20250115T090000Z\r\nDTEND:2025-01-15T10"),
    ("DURATION", "DTSTART:20250115T090000Z\r\nDURATION:one hour"),
    ("EXDATE", "DTSTART:20250115T090000Z\r\nDTEND:20250115T100000Z\r\n"
     "RRULE:FREQ=WEEKLY\r\nEXDATE:22-01-2025"),
    ("RECURRENCE-ID", "DTSTART:20250115T090000Z\r\nDTEND:20250115T100000Z\r\n"
     "RECURRENCE-ID:someday"),
]  # fmt: skip


@pytest.mark.parametrize("zone_line", ["X-WR-TIMEZONE:Europe/Berlin\r\n", ""])
@pytest.mark.parametrize(("name", "lines"), BROKEN_TIMES, ids=[b[0] for b in BROKEN_TIMES])
def test_a_broken_time_value_skips_that_event_only(
    tmp_path: Path, name: str, lines: str, zone_line: str
) -> None:
    """icalendar keeps a value it cannot read as a broken property that raises when read;
    the X-WR-TIMEZONE copy of the calendar forgets which lines were broken. Either way:
    that event is skipped with a warning naming the property, the others are read."""
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" + zone_line
        + f"BEGIN:VEVENT\r\nUID:broken@t\r\nSUMMARY:Broken\r\n{lines}\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:fine@t\r\nSUMMARY:Fine\r\nDTSTART:20250116T090000Z\r\n"
        "DTEND:20250116T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )  # fmt: skip
    path = tmp_path / "broken.ics"
    path.write_text(ics, encoding="utf-8")
    source = IcsSource(str(path), ME, "Europe/Berlin")
    events = list(source.events(berlin(2025, 1, 1), berlin(2025, 2, 1)))
    assert [e.ical_uid for e in events] == ["fine@t"]
    (warning,) = shown(source)
    assert "broken@t" in warning and f"bad {name} value" in warning, warning


def test_x_wr_timezone_calendar() -> None:
    events, source = read("x_wr_timezone.ics", berlin(2025, 1, 1), berlin(2025, 2, 1))
    found = by_uid(events)
    utc = found["utc-in-xwr@calbot.test"]
    assert utc.start == datetime(2025, 1, 15, 15, tzinfo=UTC)
    assert utc.tz_name == "America/New_York"
    assert utc.video_link == "https://meet.google.com/abc-defg-hij"
    # floating times mean the calendar's X-WR-TIMEZONE, not the user's zone
    floating = found["floating-in-xwr@calbot.test"]
    assert floating.start == datetime(2025, 1, 16, 14, tzinfo=UTC)
    assert source.warnings == []


def test_nul_characters_are_stripped(tmp_path: Path) -> None:
    text = (DATA / "x_wr_timezone.ics").read_text().replace("Written in UTC", "Evil\x00Title")
    path = tmp_path / "nul.ics"
    path.write_text(text)
    source = IcsSource(str(path), ME, "Europe/Berlin", calendar_id="work")
    events = list(source.events(berlin(2025, 1, 1), berlin(2025, 2, 1)))
    assert "EvilTitle" in {e.summary for e in events}
    assert {e.calendar_id for e in events} == {"work"}


def test_extra_busy_is_empty() -> None:
    source = IcsSource(str(DATA / "mixed.ics"), ME, "Europe/Berlin")
    assert source.extra_busy(berlin(2025, 6, 1), berlin(2025, 6, 9)) == []


# -- errors -----------------------------------------------------------------------------


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.ics"
    with pytest.raises(SourceError) as info:
        list(
            IcsSource(str(path), ME, "Europe/Berlin").events(berlin(2025, 1, 1), berlin(2026, 1, 1))
        )
    assert str(info.value) == f"{path}: no such file"


def test_non_calendar_file() -> None:
    source = IcsSource(str(DATA / "not_a_calendar.ics"), ME, "Europe/Berlin")
    with pytest.raises(SourceError, match=r"not_a_calendar\.ics: not an iCalendar file"):
        source.events(berlin(2025, 1, 1), berlin(2026, 1, 1))


def test_broken_calendar_structure(tmp_path: Path) -> None:
    path = tmp_path / "cut.ics"
    path.write_text("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x\nEND:VCALENDAR\n")
    with pytest.raises(SourceError) as info:
        IcsSource(str(path), ME, "Europe/Berlin").events(berlin(2025, 1, 1), berlin(2026, 1, 1))
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/cal.ics"])
def test_other_schemes_are_refused(location: str) -> None:
    with pytest.raises(SourceError, match="only files and http"):
        IcsSource(location, ME, "Europe/Berlin").events(berlin(2025, 1, 1), berlin(2026, 1, 1))


# -- over HTTP (loopback only) ----------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        if self.path == "/cal.ics":
            body = (DATA / "weekly_dst.ics").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
        elif self.path == "/slow":
            time.sleep(1.0)
            self.send_response(200)
            self.end_headers()
        else:
            self.send_error(404, "Not Found")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.hits = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.system  # a real HTTP server on 127.0.0.1
def test_url_source_fetches_once(server: str) -> None:
    source = IcsSource(f"{server}/cal.ics", ME, "Europe/Berlin")
    first = list(source.events(berlin(2025, 3, 1), berlin(2025, 4, 1)))
    second = list(source.events(berlin(2025, 4, 1), berlin(2025, 5, 1)))
    assert len(first) == 3 and len(second) == 2  # 17 March is an EXDATE
    assert source.requests == 1
    assert _Handler.hits == ["/cal.ics"]


def test_url_http_error(server: str) -> None:
    source = IcsSource(f"{server}/missing.ics", ME, "Europe/Berlin")
    with pytest.raises(SourceError, match=r"/missing\.ics: HTTP 404"):
        source.events(berlin(2025, 1, 1), berlin(2026, 1, 1))
    assert source.requests == 1


def test_url_never_redirects_to_a_file(server: str) -> None:
    source = IcsSource(f"{server}/to-file", ME, "Europe/Berlin")
    with pytest.raises(SourceError, match="/to-file: "):
        source.events(berlin(2025, 1, 1), berlin(2026, 1, 1))


def test_url_timeout(server: str) -> None:
    waits: list[float] = []
    limits = FetchLimits(read_timeout=0.2, retry_budget=3, sleep=waits.append, rand=lambda: 0.5)
    source = IcsSource(f"{server}/slow", ME, "Europe/Berlin", fetch_limits=limits)
    with pytest.raises(ServiceError, match=r"/slow: still failing after 4 tries \(no answer"):
        source.events(berlin(2025, 1, 1), berlin(2026, 1, 1))
    assert waits == [0.5, 1.0, 1.5]  # half of 1 s, of 2 s, then what the 3 s budget has left


def test_url_password_is_not_shown(server: str) -> None:
    location = server.replace("http://", "http://user:s3cret@") + "/missing.ics"
    no_retries = FetchLimits(retry_budget=0)
    with pytest.raises(ServiceError) as info:  # urllib reads "user:s3cret@127.0.0.1" as a host
        source = IcsSource(location, ME, "Europe/Berlin", fetch_limits=no_retries)
        source.events(berlin(2025, 1, 1), berlin(2026, 1, 1))
    shown = str(info.value)
    assert "s3cret" not in shown and "user" not in shown and "//127.0.0.1:" in shown


# -- the real-world corpus (not part of the repository) ---------------------------------


@pytest.mark.skipif(not REALDATA.is_dir(), reason="no ../shared/realdata/ics")
def test_real_world_calendars(capsys: pytest.CaptureFixture[str]) -> None:
    start, end = datetime(1990, 1, 1, tzinfo=UTC), datetime(2035, 1, 1, tzinfo=UTC)
    files = sorted(REALDATA.glob("*.ics"))
    assert files
    report = []
    for path in files:
        source = IcsSource(str(path), ME, "Europe/Berlin")
        try:
            events = list(source.events(start, end))
        except SourceError as exc:
            assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
            report.append(f"{path.name}: unreadable: {exc}")
            continue
        for event in events:
            assert event.start.utcoffset() is not None, (path.name, event)
            assert event.end.utcoffset() is not None, (path.name, event)
            assert event.end >= event.start, (path.name, event)
            assert start <= event.end and event.start < end
        assert len({e.id for e in events}) == len(events), path.name
        report += [f"{path.name}: {w}" for w in shown(source)]
    with capsys.disabled():
        print(f"\nrealdata: {len(files)} files, {len(report)} warnings/errors")
        for line in report:
            print("  " + line)
