"""What Radicale never does, from a scripted WebDAV server on 127.0.0.1 and the real
`caldav`/`niquests` client: a sync-collection answer cut short (507, RFC 6578 §3.6) and a
server that takes only HTTP Digest logins."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from servers.caldav_server import ScriptedDav, sync_answer

from calbot.adapters.caldav import connect
from calbot.adapters.caldav.connection import CaldavAuthError, Dav
from calbot.adapters.caldav.sync import sync_calendar
from calbot.adapters.memory_state import MemoryStore
from calbot.config.loader import parse_settings
from calbot.errors import AUTH_FIXES, ServiceError

NOW = datetime(2025, 3, 3, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
CAL = "/dav/alex/work/"


def event(uid: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250304T100000Z\r\n"
        "DTEND:20250304T110000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def dav_for(server: ScriptedDav, password: str = "pw") -> Dav:
    data: dict[str, Any] = {
        "user": {"email": "alex@studio.example", "timezone": "Europe/Berlin"},
        "source": {"kind": "caldav"},
        "caldav": {"url": server.url, "username": "alex"},
        "clients": [{"name": "Acme", "domains": ["acme.example"]}],
        "limits": {"retry_budget_seconds": 1},
    }
    settings = parse_settings(data, path="calbot.toml", now=NOW, check_templates=False)
    return connect(settings, {"CALBOT_CALDAV_PASSWORD": password}, sleep=lambda _: None)


def test_an_answer_cut_short_is_continued_with_its_token() -> None:
    first = sync_answer(CAL, {"a.ics": event("a"), "b.ics": event("b")}, "tok-1", cut=True)
    rest = sync_answer(CAL, {"c.ics": event("c")}, "tok-2", cut=False)
    with ScriptedDav([(207, first), (207, rest)]) as server:
        dav = dav_for(server)
        store = MemoryStore()
        url = server.url.rstrip("/") + CAL
        items = sync_calendar(dav, url, sync=True, cache=store, writable=True)
        assert sorted(u.rsplit("/", 1)[-1] for u in items) == ["a.ics", "b.ics", "c.ics"]
        assert store.sync_token(url) == "tok-2"  # where the server finished
        assert dav.requests == 2
        assert "<d:sync-token></d:sync-token>" in server.seen[0].body
        assert "<d:sync-token>tok-1</d:sync-token>" in server.seen[1].body
        assert len(list(store.iter_cached_events(url))) == 3


def test_an_answer_cut_short_without_progress_is_an_error_not_a_loop() -> None:
    stuck = sync_answer(CAL, {"a.ics": event("a")}, "tok-1", cut=True)
    with ScriptedDav([(207, stuck)] * 5) as server:
        dav = dav_for(server)
        store = MemoryStore()
        url = server.url.rstrip("/") + CAL
        with pytest.raises(ServiceError, match="507"):
            sync_calendar(dav, url, sync=True, cache=store, writable=True)
        assert dav.requests == 2  # the first page, one continuation that got nowhere
        assert store.sync_token(url) is None  # nothing half-written


def test_a_digest_only_server_is_answered_with_digest() -> None:
    answer = sync_answer(CAL, {"a.ics": event("a")}, "tok-1", cut=False)
    with ScriptedDav([(207, answer)], digest=("alex", "pw")) as server:
        dav = dav_for(server)
        url = server.url.rstrip("/") + CAL
        items = sync_calendar(dav, url, sync=True, cache=MemoryStore(), writable=True)
        assert len(items) == 1
        assert server.seen[0].authorization.startswith("Basic ")  # refused
        assert server.seen[-1].authorization.startswith("Digest ")
        assert "pw" not in server.seen[-1].authorization  # a hash, never the password


def test_a_wrong_password_on_a_digest_server_is_exit_3_with_the_fix() -> None:
    with ScriptedDav([], digest=("alex", "pw")) as server:
        dav = dav_for(server, password="wrong")
        url = server.url.rstrip("/") + CAL
        with pytest.raises(CaldavAuthError) as caught:
            sync_calendar(dav, url, sync=True, cache=MemoryStore(), writable=True)
        assert caught.value.exit_code == 3
        assert str(caught.value).endswith(AUTH_FIXES["caldav"])
        assert len(server.seen) <= 4  # Basic, then the challenge answered once: no loop
