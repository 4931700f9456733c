"""The CalDAV adapter's pure parts: 207 parsing, the calendar choice, the [caldav] config,
the password's sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from calbot.adapters.caldav.connection import CaldavAuthError, read_password
from calbot.adapters.caldav.discovery import choose
from calbot.adapters.caldav.webdav import (
    Calendar,
    calendars_of,
    members_of,
    multiget_body,
    sync_body,
    sync_token_of,
)
from calbot.config.loader import ConfigProblems, parse_settings
from calbot.config.settings import Settings
from calbot.errors import OpenSecretFileError, SourceError

HOME = "https://dav.example.net/alex/"

CALENDARS = b"""<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
 <d:response><d:href>/alex/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/>
  </d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
 <d:response><d:href>/alex/work/</d:href><d:propstat><d:prop><d:displayname>Work</d:displayname>
  <d:resourcetype><d:collection/><c:calendar/></d:resourcetype>
  <c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set>
  <d:supported-report-set><d:supported-report><d:report><d:sync-collection/></d:report>
  </d:supported-report></d:supported-report-set></d:prop>
  <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
 <d:response><d:href>/alex/tasks/</d:href><d:propstat><d:prop><d:displayname>Tasks</d:displayname>
  <d:resourcetype><d:collection/><c:calendar/></d:resourcetype>
  <c:supported-calendar-component-set><c:comp name="VTODO"/></c:supported-calendar-component-set>
  </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
 <d:response><d:href>/alex/review/</d:href><d:propstat><d:prop>
  <d:displayname>calbot review</d:displayname>
  <d:resourcetype><d:collection/><c:calendar/></d:resourcetype></d:prop>
  <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
</d:multistatus>"""

SYNC = b"""<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
 <d:sync-token>tok-2</d:sync-token>
 <d:response><d:href>/alex/work/a.ics</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag>
  <c:calendar-data>BEGIN:VCALENDAR
END:VCALENDAR</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
 </d:response>
 <d:response><d:href>/alex/work/b.ics</d:href><d:propstat><d:prop><d:getetag>"2"</d:getetag>
  </d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
 <d:response><d:href>/alex/work/gone.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status>
 </d:response>
</d:multistatus>"""


def test_calendars_are_read_with_their_components_and_sync_support() -> None:
    found = calendars_of(CALENDARS, HOME)
    assert [(c.name, c.events, c.sync) for c in found] == [
        ("Work", True, True),
        ("Tasks", False, False),
        ("calbot review", True, False),
    ]
    assert found[0].url == "https://dav.example.net/alex/work/"


def test_by_default_every_calendar_with_events_but_calbots_own() -> None:
    found = calendars_of(CALENDARS, HOME)
    assert [c.name for c in choose(found, (), "calbot.toml")] == ["Work"]
    assert [c.name for c in choose(found, ("work",), "calbot.toml")] == ["Work"]
    by_url = choose(found, ("https://dav.example.net/alex/tasks",), "calbot.toml")
    assert [c.name for c in by_url] == ["Tasks"]
    with pytest.raises(SourceError, match=r"no CalDAV calendar named 'Home'.*'Work'"):
        choose(found, ("Home",), "calbot.toml")


def test_sync_answers_give_changes_removals_and_the_new_token() -> None:
    members = members_of(SYNC, HOME + "work/")
    assert [(m.url.rsplit("/", 1)[1], m.etag, m.data is not None, m.gone) for m in members] == [
        ("a.ics", '"1"', True, False),
        ("b.ics", '"2"', False, False),
        ("gone.ics", "", False, True),
    ]
    assert sync_token_of(SYNC) == "tok-2"


def test_request_bodies_escape_what_they_carry() -> None:
    assert "<d:sync-token>a&amp;b</d:sync-token>" in sync_body("a&b", with_data=True)
    assert "<d:sync-token></d:sync-token>" in sync_body(None, with_data=False)
    body = multiget_body(["https://dav.example.net/alex/work/x&y.ics"])
    assert "<d:href>/alex/work/x&amp;y.ics</d:href>" in body


def test_an_answer_that_is_not_xml_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a WebDAV answer"):
        members_of(b"<html>oops", HOME)


def test_entities_in_server_xml_are_not_expanded() -> None:
    evil = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<d:multistatus xmlns:d="DAV:"><d:sync-token>&e;</d:sync-token></d:multistatus>"""
    assert "root:" not in (sync_token_of(evil) or "")


# --- config and password -------------------------------------------------------------------


def settings(**caldav: Any) -> Settings:
    data = {
        "user": {"email": "alex@studio.example", "timezone": "Europe/Berlin"},
        "source": {"kind": "caldav"},
        "caldav": caldav,
        "clients": [{"name": "Acme", "domains": ["acme.example"]}],
    }
    return parse_settings(data, path="calbot.toml", check_templates=False)


def test_caldav_config_needs_url_and_username_and_https() -> None:
    s = settings(url="https://dav.example.net/", username="alex")
    assert s.source.calendars == ()  # every calendar with events
    with pytest.raises(ConfigProblems, match=r"caldav.url: required"):
        settings(username="alex")
    with pytest.raises(ConfigProblems, match=r"caldav.url: .*plain http"):
        settings(url="http://dav.example.net/", username="alex")
    assert settings(url="http://127.0.0.1:5232/", username="alex").caldav.url


def test_the_password_comes_from_the_environment_first_then_a_private_file(
    tmp_path: Path,
) -> None:
    file = tmp_path / "pw"
    file.write_text("from-file\n", encoding="utf-8")
    file.chmod(0o600)
    s = settings(url="https://dav.example.net/", username="alex", password_file=str(file))
    assert read_password(s, {}) == ("from-file", str(file))
    assert read_password(s, {"CALBOT_CALDAV_PASSWORD": "env"}) == (
        "env",
        "$CALBOT_CALDAV_PASSWORD",
    )
    file.chmod(0o644)
    with pytest.raises(OpenSecretFileError, match="chmod 600"):
        read_password(s, {})
    with pytest.raises(CaldavAuthError, match="password_file"):
        read_password(settings(url="https://dav.example.net/", username="alex"), {})


def test_a_calendar_dataclass_round_trips_through_the_cache_form() -> None:
    from dataclasses import asdict

    c = Calendar("https://x/", "Work", True, False)
    assert Calendar(**asdict(c)) == c
