"""Broken and outsized events, from both sources (an .ics file and the fake Google server):
a broken event is skipped with a warning naming it while the other meetings are still
drafted; a huge or non-Unicode event is drafted without copying the crowd or the junk."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
from bad_input_rig import Scan, check_safe, hostile_message, ics_config, scan_google, scan_ics
from hostile_events import (
    DAY,
    ME,
    TZ,
    Hostile,
    add_google_events,
    calendar_bytes,
    control_vevent,
    google_time,
    ics_calendar,
    vevent,
)

from calbot.cli.main import main


def warnings_of(scan: Scan) -> list[str]:
    return [w for w in scan.doc.get("warnings", []) if "skipped" in w]


# --- events: broken events are skipped, the rest goes on ----------------------------------------


def test_ics_event_without_start_is_skipped_with_a_warning(tmp_path, capsys):
    scan = scan_ics(tmp_path, capsys, ics_calendar(Hostile(title="No start", start=None)))
    check_safe(scan)
    assert "hostile-1" in scan.err and "no DTSTART" in scan.err
    assert any("hostile-1" in w and "No start" in w for w in warnings_of(scan))
    assert len(scan.messages) == 1  # the control meeting only


def test_google_event_without_start_is_skipped_with_a_warning():
    """The fake (like Google) cannot serve a timed event without a start, so this one is
    checked at the adapter: it is a BadEvent naming the event."""
    from calbot.adapters.google.events import BadEvent, to_event

    for item in (
        {"id": "x1", "summary": "No start", "end": {"dateTime": "2026-03-10T10:00:00+01:00"}},
        {"id": "x1", "summary": "No start", "start": {}},
        {"id": "x1", "summary": "No start", "start": "2026-03-10"},
    ):
        with pytest.raises(BadEvent, match=r"'No start' \(id x1\): no start"):
            to_event(item, "primary", ME, "Europe/Berlin")


def test_ics_unreadable_attendee_line_is_a_warning(tmp_path, capsys):
    cal = ics_calendar(Hostile(title="Bell in a name", attendees=1))
    cal = cal.replace(b'ORGANIZER;CN="Olivia"', b'ORGANIZER;CN="Oli\x07via\x1b[2J"')
    cal = cal.replace(b'ATTENDEE;CN="Olivia"', b'ATTENDEE;CN="Oli\x07via"')
    scan = scan_ics(tmp_path, capsys, cal)
    check_safe(scan)
    warning = "ics: event 'hostile-1' 'Bell in a name': ignored unreadable ATTENDEE, ORGANIZER"
    assert warning in scan.err
    # the rest of the event is kept: its other hostile.example attendees still make it a
    # client meeting, and the draft goes to them
    (m,) = [m for m in scan.doc["meetings"] if m["event_id"] == "hostile-1"]
    assert m["draft"]["to"] == ["p0@hostile.example"]


def test_ics_event_ending_before_it_starts_is_skipped(tmp_path, capsys):
    h = Hostile(title="Backwards", start=(16, 0), end=(14, 0))
    scan = scan_ics(tmp_path, capsys, ics_calendar(h))
    check_safe(scan)
    assert "hostile-1" in scan.err and "ends before it starts" in scan.err
    assert len(scan.messages) == 1


def test_google_event_ending_before_it_starts_is_skipped(tmp_path, capsys, google):
    add_google_events(google, Hostile(title="Backwards", start=(16, 0), end=(14, 0)))
    scan = scan_google(tmp_path, capsys, google)
    check_safe(scan)
    assert "'Backwards' (id hostile1): ends before it starts" in scan.err
    assert len(scan.messages) == 1


def test_ics_event_without_end_is_a_zero_length_event(tmp_path, capsys):
    # RFC 5545 §3.6.1: a DTSTART date-time without DTEND/DURATION ends where it starts
    scan = scan_ics(tmp_path, capsys, ics_calendar(Hostile(title="Open end", end=None)))
    check_safe(scan)
    (m,) = [m for m in scan.doc["meetings"] if m["event_id"] == "hostile-1"]
    assert m["start"] == m["end"]


def test_google_event_without_end_is_a_zero_length_event(tmp_path, capsys, google):
    add_google_events(google, Hostile(title="Open end", end=None))
    assert "end" not in google.event("primary", "hostile1")
    scan = scan_google(tmp_path, capsys, google)
    check_safe(scan)
    (m,) = [m for m in scan.doc["meetings"] if m["event_id"] == "hostile1"]
    assert m["start"] == m["end"]


def test_ics_floating_time_is_read_in_the_users_zone(tmp_path, capsys):
    scan = scan_ics(tmp_path, capsys, ics_calendar(Hostile(title="Floating", floating=True)))
    check_safe(scan)
    (m,) = [m for m in scan.doc["meetings"] if m["event_id"] == "hostile-1"]
    expected = datetime(DAY.year, DAY.month, DAY.day, 14, tzinfo=TZ)
    assert datetime.fromisoformat(m["start"]) == expected


def test_google_datetime_without_offset_or_zone_is_read_in_the_users_zone(tmp_path, capsys, google):
    google.set_time_zone("primary", "Europe/Berlin")
    add_google_events(google, Hostile(title="Floating", floating=True))
    assert "timeZone" not in google.event("primary", "hostile1")["start"]
    scan = scan_google(tmp_path, capsys, google)
    check_safe(scan)
    (m,) = [m for m in scan.doc["meetings"] if m["event_id"] == "hostile1"]
    expected = datetime(DAY.year, DAY.month, DAY.day, 14, tzinfo=TZ)
    assert datetime.fromisoformat(m["start"]) == expected


def test_google_unreadable_times_are_skipped_with_a_warning(tmp_path, capsys, google):
    google.user_email = ME
    add_google_events(google, Hostile(title="Fine"))
    google.add_event(
        id="mixed1",
        summary="Date and time mixed",
        start={"date": DAY.isoformat()},
        end=google_time((12, 0)),
        attendees=[{"email": "olivia@hostile.example"}, {"email": ME}],
    )
    scan = scan_google(tmp_path, capsys, google)
    check_safe(scan)
    assert "'Date and time mixed' (id mixed1): start and end mix" in scan.err
    hostile_message(scan)  # the good hostile-client meeting is still drafted


# --- events: size -------------------------------------------------------------------------------


def test_ics_10000_attendees_and_1mb_description(tmp_path, capsys):
    h = Hostile(title="Town hall", attendees=10_000, description="D" * (1024 * 1024))
    scan = scan_ics(tmp_path, capsys, ics_calendar(h))
    check_safe(scan)
    msg = hostile_message(scan)
    assert len(msg.as_bytes()) < 20_000  # neither the crowd nor the description is copied


def test_google_10000_attendees_and_1mb_description(tmp_path, capsys, google):
    h = Hostile(title="Town hall", attendees=10_000, description="D" * (1024 * 1024))
    add_google_events(google, h)
    scan = scan_google(tmp_path, capsys, google)
    check_safe(scan)
    msg = hostile_message(scan)
    assert len(msg.as_bytes()) < 20_000


# --- events: text that is not valid Unicode -----------------------------------------------------


def test_google_lone_surrogates_are_data(tmp_path, capsys, google):
    # JSON "\ud800" is valid JSON and decodes to a lone surrogate, which no UTF-8 encoder
    # accepts (state store, .eml, stdout)
    h = Hostile(
        title="Plan \ud800 review \udfff",
        name="Oli\udc80via",
        description="x\ud83d",
        location="HQ \udbff",
    )
    add_google_events(google, h)
    scan = scan_google(tmp_path, capsys, google)
    check_safe(scan)
    msg = hostile_message(scan)
    assert "Plan" in str(msg["Subject"]) and "review" in str(msg["Subject"])
    json.dumps(scan.doc, ensure_ascii=False).encode("utf-8")


def test_ics_bytes_that_are_not_utf8(tmp_path, capsys):
    cal = calendar_bytes(
        control_vevent(),
        vevent(
            "hostile-1",
            "PLACEHOLDER",
            "olivia@hostile.example",
            "Olivia",
            (14, 0),
            (16, 0),
            location="Hostile HQ",
        ),
    )
    cal = cal.replace(
        b"PLACEHOLDER", b"Caf\xe9 \xff\xfe \xed\xa0\x80 review"
    )  # latin-1, junk, CESU
    scan = scan_ics(tmp_path, capsys, cal)
    check_safe(scan)
    msg = hostile_message(scan)
    assert "review" in str(msg["Subject"])
    json.dumps(scan.doc, ensure_ascii=False).encode("utf-8")


def test_a_template_that_fails_on_one_meetings_text_skips_only_that_meeting(tmp_path, capsys):
    """A user's template passes the load-time check (it renders the samples) but fails on
    one event's text: that meeting gets a warning naming it and the template, its existing
    draft is left alone, and the others are drafted."""
    config = ics_config(tmp_path, ics_calendar(Hostile(title="Hostile urgent review")))
    outbox = tmp_path / "outbox"
    assert main(["scan", "--config", str(config)], out=io.StringIO()) == 0
    before = {p.name: p.read_bytes() for p in outbox.glob("*.eml")}
    assert len(before) == 2
    capsys.readouterr()

    folder = tmp_path / "templates"
    folder.mkdir()
    for lang in ("en",):
        (folder / f"call.{lang}.txt.j2").write_text(
            "Subject: {{ title }}\n\n{% if 'urgent' in title %}{{ title.nope }}{% endif %}"
            "Could we talk by phone instead? {{ signature }}\n",
            encoding="utf-8",
        )
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("[outputs]\n", f'[outputs]\ntemplates_dir = "{folder}"\n'),
        encoding="utf-8",
    )
    js = io.StringIO()
    code = main(["scan", "--config", str(config), "--json"], out=js)
    err = capsys.readouterr().err
    assert code == 0, err
    doc = json.loads(js.getvalue())
    (warning,) = [w for w in doc["warnings"] if "no draft" in w]
    assert "hostile-1" in warning and "call.en.txt.j2" in warning and "nope" in warning
    after = {p.name: p.read_bytes() for p in outbox.glob("*.eml")}
    assert set(after) == set(before)  # the hostile meeting's draft is still there
    (hostile_name,) = [n for n in before if b"olivia@hostile.example" in before[n]]
    assert after[hostile_name] == before[hostile_name]  # and untouched
    control = [m for m in doc["meetings"] if m["event_id"] == "control-1"]
    assert control[0]["draft"]["status"] in ("updated", "unchanged")
