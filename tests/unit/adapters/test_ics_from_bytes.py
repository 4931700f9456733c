"""`IcsSource.from_bytes`: the ICS source over bytes in memory (what the CalDAV source
hands it), nothing read or fetched."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from calbot.adapters.ics import IcsSource

ME = "alex@studio.example"


def test_events_come_from_the_bytes_and_nothing_is_read() -> None:
    data = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:a\r\n"
        "DTSTAMP:20250101T000000Z\r\nDTSTART:20250304T100000Z\r\nDTEND:20250304T110000Z\r\n"
        f"SUMMARY:Acme review\r\nORGANIZER:mailto:{ME}\r\nATTENDEE:mailto:bo@acme.example\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    # the name is no file and no URL: reading it would fail
    source = IcsSource.from_bytes(data, "/nowhere/Work", ME, "Europe/Berlin", calendar_id="w")
    tz = ZoneInfo("Europe/Berlin")
    events = list(source.events(datetime(2025, 3, 1, tzinfo=tz), datetime(2025, 3, 9, tzinfo=tz)))
    assert [e.summary for e in events] == ["Acme review"]
    assert events[0].calendar_id == "w" and source.requests == 0
