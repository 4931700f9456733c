"""The CalDAV source in-process against a real Radicale: the ETag fallback, a calendar
that moved (404 on the cached URL: discovered again), and a certificate that does not
verify (a clear error, never a fallback to no verification)."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from caldav.davclient import DAVClient
from servers.caldav_server import CaldavServer, running, self_signed

from calbot.adapters.caldav import CaldavSource, connect
from calbot.adapters.caldav.connection import CaldavTlsError
from calbot.adapters.caldav.discovery import META_KEY
from calbot.adapters.memory_state import MemoryStore
from calbot.config.loader import parse_settings
from calbot.config.settings import Settings

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 3, 3, 8, 0, tzinfo=BERLIN)
ME = "alex@studio.example"


def meeting(uid: str, day: int, summary: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbot tests//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20250101T000000Z\r\nSUMMARY:{summary}\r\n"
        f"DTSTART;TZID=Europe/Berlin:202503{day:02d}T100000\r\n"
        f"DTEND;TZID=Europe/Berlin:202503{day:02d}T110000\r\n"
        f"ORGANIZER:mailto:{ME}\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:{ME}\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:minh@acme.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def settings_for(server: CaldavServer, **caldav: str) -> Settings:
    data: dict[str, Any] = {
        "user": {"email": ME, "timezone": "Europe/Berlin", "own_domains": ["studio.example"]},
        "source": {"kind": "caldav"},
        "caldav": {"url": server.url, "username": server.user, **caldav},
        "clients": [{"name": "Acme", "domains": ["acme.example"]}],
        "limits": {"retry_budget_seconds": 1},
    }
    return parse_settings(data, path="calbot.toml", now=NOW, check_templates=False)


def read(server: CaldavServer, store: MemoryStore, **caldav: str) -> tuple[list[str], Any]:
    settings = settings_for(server, **caldav)
    dav = connect(settings, {"CALBOT_CALDAV_PASSWORD": server.password}, sleep=lambda _: None)
    source = CaldavSource(dav, settings, store, writable=True)
    events = source.events(NOW, NOW + timedelta(days=14))
    return sorted(e.summary for e in events), source


def client(server: CaldavServer) -> DAVClient:
    return DAVClient(server.url, username=server.user, password=server.password)


def test_without_webdav_sync_etags_keep_an_unchanged_calendar_at_one_request(
    caldav_server: CaldavServer,
) -> None:
    cal = client(caldav_server).principal().make_calendar(name="Work")
    cal.save_event(ical=meeting("a", 4, "Acme review"))
    store = MemoryStore()
    read(caldav_server, store)
    # the server as one without RFC 6578: the cached calendar list says so
    with store.transaction():
        cached = json.loads(store.get_meta(META_KEY) or "")
        for c in cached["calendars"]:
            c["sync"] = False
        store.put_meta(META_KEY, json.dumps(cached))
    summaries, source = read(caldav_server, store)
    assert summaries == ["Acme review"]
    assert source.requests == 1  # the ETag listing: every ETag as cached
    cal.save_event(ical=meeting("b", 5, "Acme follow-up"))
    cal.event_by_uid("a").delete()
    summaries, source = read(caldav_server, store)
    assert summaries == ["Acme follow-up"]
    assert source.requests == 2  # the listing, then the one object whose ETag is new


def test_a_calendar_gone_from_its_cached_url_is_discovered_again(
    caldav_server: CaldavServer,
) -> None:
    principal = client(caldav_server).principal()
    old = principal.make_calendar(name="Work")
    old.save_event(ical=meeting("a", 4, "Acme review"))
    store = MemoryStore()
    assert read(caldav_server, store)[0] == ["Acme review"]
    old.delete()
    new = principal.make_calendar(name="Work")
    new.save_event(ical=meeting("b", 6, "Acme moved calendar"))
    summaries, source = read(caldav_server, store)
    assert summaries == ["Acme moved calendar"]
    assert [c.url for c in source.calendars] == [str(new.url)]
    assert store.cached_events(str(old.url)) == []


def test_a_certificate_that_does_not_verify_is_an_error_until_ca_file_names_it(
    tmp_path: Path,
) -> None:
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is missing: apt-get install -y openssl")
        pytest.skip("openssl is missing: apt-get install -y openssl")
    cert, key = self_signed(tmp_path)
    with running(tmp_path / "radicale", tls=(cert, key)) as server:
        with pytest.raises(CaldavTlsError, match=r"certificate does not verify.*ca_file"):
            read(server, MemoryStore())
        client_ok = DAVClient(
            server.url, username=server.user, password=server.password, ssl_verify_cert=str(cert)
        )
        client_ok.principal().make_calendar(name="Work").save_event(
            ical=meeting("a", 4, "Acme review")
        )
        assert read(server, MemoryStore(), ca_file=str(cert))[0] == ["Acme review"]
