"""The CalDAV source end to end: a real Radicale on 127.0.0.1, events put with the `caldav`
client, scans through the real CLI (`calbot scan --json`) with an outbox sink."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from caldav.collection import Calendar
from caldav.davclient import DAVClient
from servers.calbot_worker import worker_lines
from servers.caldav_server import CaldavServer

from calbot.adapters.sqlite import SqliteStore

TZ = "Europe/Berlin"


def monday_next_week() -> date:
    """The calendar's week: scans run as subprocesses on the real clock, so the events are
    dated from today (1 to 7 days ahead; the series' last one 15 to 21 days ahead, inside
    the config's 28-day horizon whatever the day and hour)."""
    today = datetime.now().date()
    return today + timedelta(days=7 - today.weekday())


def stamp(day: date, hour: int, minute: int = 0) -> str:
    return f"{day:%Y%m%d}T{hour:02d}{minute:02d}00"


def vevent(uid: str, body: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbot tests//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n{body}END:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )


def week_events(monday: date) -> dict[str, str]:
    tue, wed, thu = (monday + timedelta(days=n) for n in (1, 2, 3))
    me = "alex@studio.example"
    weekly = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbot tests//EN\r\n"
        "BEGIN:VEVENT\r\nUID:weekly-northwind\r\nDTSTAMP:20260101T000000Z\r\n"
        f"DTSTART;TZID={TZ}:{stamp(monday, 10)}\r\nDTEND;TZID={TZ}:{stamp(monday, 11)}\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Northwind weekly\r\n"
        f"ORGANIZER:mailto:{me}\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:{me}\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@northwind.example\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:weekly-northwind\r\nDTSTAMP:20260101T000000Z\r\n"
        f"RECURRENCE-ID;TZID={TZ}:{stamp(monday + timedelta(days=7), 10)}\r\n"
        f"DTSTART;TZID={TZ}:{stamp(monday + timedelta(days=8), 14)}\r\n"
        f"DTEND;TZID={TZ}:{stamp(monday + timedelta(days=8), 15)}\r\n"
        "SUMMARY:Northwind weekly (moved)\r\n"
        f"ORGANIZER:mailto:{me}\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:{me}\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@northwind.example\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    return {
        "weekly-northwind": weekly,
        "offsite": vevent(
            "offsite",
            f"DTSTART;VALUE=DATE:{wed:%Y%m%d}\r\nDTEND;VALUE=DATE:{thu:%Y%m%d}\r\n"
            "SUMMARY:Team offsite\r\nTRANSP:TRANSPARENT\r\n",
        ),
        "declined-acme": vevent(
            "declined-acme",
            f"DTSTART;TZID={TZ}:{stamp(tue, 9)}\r\nDTEND;TZID={TZ}:{stamp(tue, 10)}\r\n"
            "SUMMARY:Acme sync\r\nORGANIZER:mailto:lan@acme.example\r\n"
            f"ATTENDEE;PARTSTAT=DECLINED:mailto:{me}\r\n",
        ),
        "lotus-invite": vevent(
            "lotus-invite",
            f"DTSTART;TZID={TZ}:{stamp(thu, 15)}\r\nDTEND;TZID={TZ}:{stamp(thu, 16)}\r\n"
            "SUMMARY:Lotus campaign chat\r\nORGANIZER;CN=Minh:mailto:minh@lotus.example\r\n"
            f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{me}\r\n",
        ),
        "bluebird-review": vevent(
            "bluebird-review",
            f"DTSTART;TZID={TZ}:{stamp(tue, 13)}\r\nDTEND;TZID={TZ}:{stamp(tue, 16)}\r\n"
            f"SUMMARY:Bluebird roadmap review\r\nORGANIZER:mailto:{me}\r\n"
            f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{me}\r\n"
            "ATTENDEE;PARTSTAT=ACCEPTED;CN=Jo:mailto:jo@bluebird.example\r\n",
        ),
    }


@pytest.fixture
def calendar(caldav_server: CaldavServer) -> Calendar:
    client = DAVClient(
        caldav_server.url, username=caldav_server.user, password=caldav_server.password
    )
    cal = client.principal().make_calendar(name="Work")
    for text in week_events(monday_next_week()).values():
        cal.save_event(ical=text)
    return cal


@pytest.fixture
def setup(tmp_path: Path, caldav_server: CaldavServer):
    password = tmp_path / "caldav-password"
    password.write_text(caldav_server.password + "\n", encoding="utf-8")
    password.chmod(0o600)
    config = tmp_path / "calbot.toml"
    config.write_text(
        f"""
[user]
email = "alex@studio.example"
name = "Alex Doe"
timezone = "{TZ}"
own_domains = ["studio.example"]
signature = "Alex"

[source]
kind = "caldav"
horizon = "in 28 days"

[caldav]
url = "{caldav_server.url}"
username = "{caldav_server.user}"
password_file = "{password}"

[outputs]
outbox = "{tmp_path / "outbox"}"

[thresholds]
act_at = 1
long_meeting_minutes = 60

[limits]
retry_budget_seconds = 1
lock_wait_seconds = 1

[[clients]]
name = "Northwind"
domains = ["northwind.example"]

[[clients]]
name = "Acme Corp"
domains = ["acme.example"]

[[clients]]
name = "Lotus Media"
domains = ["lotus.example"]

[[clients]]
name = "Bluebird Studio"
domains = ["bluebird.example"]
tier = "low"
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALBOT_")}
    env["CALBOT_STATE_DIR"] = str(tmp_path / "state")
    return config, env


def scan(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "calbot", "scan", "--json", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def scanned(config: Path, env: dict[str, str]) -> dict:
    r = scan(config, env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def by_summary(doc: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for m in doc["meetings"]:
        out.setdefault(m["summary"], []).append(m)
    return out


def test_the_right_meetings_then_one_request_when_unchanged(setup, calendar, caldav_server):
    config, env = setup
    first = scanned(config, env)
    meetings = by_summary(first)
    # the weekly series expanded, its moved instance at its new time
    assert len(meetings["Northwind weekly"]) == 2
    (moved,) = meetings["Northwind weekly (moved)"]
    assert datetime.fromisoformat(moved["start"]).hour == 14
    # the organizer-only invitation from outside counts as a client meeting
    assert meetings["Lotus campaign chat"][0]["client"] == "Lotus Media"
    # declined: not a meeting of the user; all-day offsite: nobody outside
    assert "Acme sync" not in meetings
    assert "Team offsite" not in meetings
    assert meetings["Bluebird roadmap review"][0]["draft"] is not None

    before = len(caldav_server.requests())
    second = scanned(config, env)
    assert second["stats"]["api_requests"] == 1
    assert len(caldav_server.requests()) - before == 1
    assert [m["event_id"] for m in second["meetings"]] == [m["event_id"] for m in first["meetings"]]


def test_a_moved_meeting_updates_its_draft(setup, calendar):
    config, env = setup
    first = by_summary(scanned(config, env))["Bluebird roadmap review"][0]
    assert first["draft"]["status"] == "new"
    event = calendar.event_by_uid("bluebird-review")
    event.icalendar_component["DTSTART"].dt += timedelta(days=1)
    event.icalendar_component["DTEND"].dt += timedelta(days=1)
    event.save()
    doc = scanned(config, env)
    after = by_summary(doc)["Bluebird roadmap review"][0]
    assert after["start"] != first["start"]
    assert after["draft"]["status"] == "updated"
    assert doc["stats"]["api_requests"] == 1  # the change came with the sync report


def test_an_invalid_or_deleted_sync_token_recovers_with_one_full_resync(setup, calendar, tmp_path):
    config, env = setup
    first = scanned(config, env)
    url = str(calendar.url)
    store = SqliteStore.open(tmp_path / "state")
    try:
        assert store.sync_token(url)
        with store.transaction():
            store.put_sync_token(url, "http://radicale.org/ns/sync/not-a-token")
    finally:
        store.close()
    doc = scanned(config, env)
    assert doc["stats"]["api_requests"] == 2  # the refused token, then one full sync
    assert len(doc["meetings"]) == len(first["meetings"])
    assert all(m["draft"] is None or m["draft"]["status"] == "unchanged" for m in doc["meetings"])
    store = SqliteStore.open(tmp_path / "state")
    try:
        with store.transaction():
            store.put_sync_token(url, None)
    finally:
        store.close()
    doc = scanned(config, env)
    assert doc["stats"]["api_requests"] == 1
    assert len(doc["meetings"]) == len(first["meetings"])


def test_a_wrong_password_exits_3_naming_the_password_file(setup, calendar, tmp_path):
    config, env = setup
    password = tmp_path / "caldav-password"
    password.write_text("wrong\n", encoding="utf-8")
    r = scan(config, env)
    assert r.returncode == 3, r.stderr
    assert str(password) in r.stderr
    assert "wrong" not in r.stderr.replace(str(password), "")
    env = {**env, "CALBOT_CALDAV_PASSWORD": "also wrong"}
    r = scan(config, env)
    assert r.returncode == 3
    assert "$CALBOT_CALDAV_PASSWORD" in r.stderr


def test_a_server_that_stays_down_exits_4(setup, tmp_path):
    config, env = setup
    text = config.read_text(encoding="utf-8")
    from servers.caldav_server import free_port

    config.write_text(
        text.replace('url = "http://127.0.0.1:', f'url = "http://127.0.0.1:{free_port()}#'),
        encoding="utf-8",
    )
    r = scan(config, env)
    assert r.returncode == 4, r.stderr
    assert "still failing" in r.stderr


def doctor(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "calbot", "doctor", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_doctor_checks_login_calendars_and_sync(setup, calendar, tmp_path):
    config, env = setup
    r = doctor(config, env)
    out = r.stdout + r.stderr
    assert "caldav login" in out
    assert "'Work'" in out
    assert "RFC 6578" in out
    assert "google: not used: the source is a CalDAV calendar" in out
    assert "ICS" not in out
    (tmp_path / "caldav-password").write_text("wrong\n", encoding="utf-8")
    r = doctor(config, env)
    assert r.returncode == 3, r.stdout + r.stderr
    assert str(tmp_path / "caldav-password") in r.stdout + r.stderr


def test_the_review_calendar_holds_one_event_per_draft_and_no_more_on_rescan(
    setup, calendar, caldav_server
):
    config, env = setup
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[outputs]\n", "[outputs]\nreview_calendar = true\n"))
    doc = scanned(config, env)
    drafted = [m for m in doc["meetings"] if m["draft"]]
    assert drafted
    user = DAVClient(
        caldav_server.url, username=caldav_server.user, password=caldav_server.password
    )
    (review,) = [c for c in user.principal().calendars() if c.get_display_name() == "calbot review"]
    titles = sorted(str(e.icalendar_component["SUMMARY"]) for e in review.events())
    assert len(titles) == len(drafted)
    assert all(t.startswith("✎ ") for t in titles)
    # a lost state finds the calendar and its events again: no second calendar, no copies
    import shutil

    shutil.rmtree(Path(env["CALBOT_STATE_DIR"]))
    scanned(config, env)
    names = [c.get_display_name() for c in user.principal().calendars()]
    assert names.count("calbot review") == 1
    assert len(list(review.events())) == len(drafted)
    # the scan never reads its own review calendar as a source of meetings
    assert not any(m["summary"].startswith("✎") for m in scanned(config, env)["meetings"])


def test_a_dry_run_reads_the_calendar_and_writes_nothing(setup, calendar, caldav_server):
    config, env = setup
    scanned(config, env)
    state = Path(env["CALBOT_STATE_DIR"])

    def files() -> dict[Path, bytes]:  # SQLite's -wal/-shm come and go with connections
        return {p: p.read_bytes() for p in state.rglob("*.sqlite3")}

    before = files()
    calendar.save_event(
        ical=week_events(monday_next_week())["bluebird-review"].replace(
            "bluebird-review", "bluebird-second"
        )
    )
    r = scan(config, env, "--dry-run")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert len(by_summary(doc)["Bluebird roadmap review"]) == 2  # the new one is seen
    assert files() == before
    puts = [m for m, _ in caldav_server.requests() if m in ("PUT", "DELETE", "MKCALENDAR")]
    # only the test's own: its calendar, its events and the one it added
    assert len(puts) == 1 + len(week_events(monday_next_week())) + 1


CALDAV_FIX = "check the CalDAV password (caldav.password_file or $CALBOT_CALDAV_PASSWORD)"


def test_a_refused_password_says_the_caldav_fix_everywhere(setup, calendar, tmp_path):
    """The CLI line, the worker's log, the run record and the digest name the CalDAV
    password — never `calbot auth`, which is for Google."""
    config, env = setup
    scanned(config, env)  # a state store to record the failed runs in
    (tmp_path / "caldav-password").write_text("wrong\n", encoding="utf-8")
    r = scan(config, env)
    assert r.returncode == 3, r.stderr
    assert r.stderr.strip().endswith(CALDAV_FIX) and "calbot auth" not in r.stderr

    events = worker_lines(config, env, "auth.refused")
    refused = next(e for e in events if e["event"] == "auth.refused")
    assert refused["fix"] == CALDAV_FIX
    failed = next(e for e in events if e["event"] == "scan.failed")
    assert failed["outcome"] == "auth" and CALDAV_FIX in failed["note"]
    assert "calbot auth" not in json.dumps(events) and "Google" not in json.dumps(events)

    store = SqliteStore.open(tmp_path / "state", readonly=True)
    try:
        runs = [r for r in store.runs(datetime(2000, 1, 1, tzinfo=UTC)) if r.outcome == "auth"]
    finally:
        store.close()
    assert len(runs) == 2 and all(run.error.endswith(CALDAV_FIX) for run in runs)

    digest = subprocess.run(
        [sys.executable, "-m", "calbot", "digest", "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert digest.returncode == 0, digest.stderr
    assert "the CalDAV server refused calbot's password" in digest.stdout
    assert CALDAV_FIX in digest.stdout
    assert "calbot auth" not in digest.stdout and "Google access" not in digest.stdout
