"""Draft sinks: one contract, run against every sink — the outbox on real files, Gmail and the
review calendar through the real googleapiclient against the fake Google server.

A sink joins by adding one harness to `HARNESSES` (and its fixture): the sink, a way to build
a fresh one over the same place (the state store was lost), and what the user can do to a
draft behind calbot's back (edit it, delete or send it). What only one sink does (file
modes, request counts, the review calendar's id) stays in that sink's own tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from replies import reply

from calbot.adapters.google import api as google_api
from calbot.adapters.google.gmail import GmailSink
from calbot.adapters.google.review import ReviewCalendar
from calbot.adapters.google.scopes import scopes_for
from calbot.adapters.mail import message_id_for
from calbot.adapters.memory_state import MemoryStore
from calbot.adapters.outbox import OutboxSink
from calbot.config.loader import parse_settings
from calbot.config.settings import Settings
from calbot.core.model import Action, Draft
from calbot.ports.sinks import DraftGone, DraftSink, SinkKind, Written
from calbot.usecases.wiring import review_calendar

ME = "me@studio.example"
NOW = datetime(2026, 11, 25, 8, 30, tzinfo=timezone(timedelta(hours=7)))
MID = message_id_for("cal/evt-10", "shorten", "studio.example")
MID2 = message_id_for("cal/evt-14", "reschedule", "studio.example")
NOBODYS = message_id_for("cal/nothing", "call", "studio.example")
DRAFT = Draft(
    language="vi",
    to=("minh@acme.example",),
    to_names=("Nguyễn Văn Minh",),
    cc=("ops@acme.example",),
    subject="Họp lộ trình Acme — rút ngắn còn 45 phút?",
    body="Chào anh Minh,\n\nWhat calbot wrote.\n\nTrân trọng,\nAlex\n",
    private_notes="chỉ mình tôi thấy",
)
FIRST = reply(DRAFT, MID)
SECOND = reply(DRAFT, MID2, hour=14, action=Action.RESCHEDULE)
CHANGED = reply(replace(DRAFT, body="Chào anh Minh,\n\nA shorter meeting?\n"), MID)


@dataclass(frozen=True)
class Harness:
    """One sink under the contract, with the user's hands on its drafts."""

    name: str
    kind: SinkKind
    sink: DraftSink
    fresh: Callable[[], DraftSink]  # another instance over the same drafts: lost state
    user_edits: Callable[[str], None]  # the user changes the text of draft `ref`
    user_deletes: Callable[[str], None]  # the user deletes (or sends) draft `ref`


def outbox_harness(tmp_path: Path) -> Harness:
    folder = tmp_path / "outbox"

    def make() -> OutboxSink:
        return OutboxSink(folder, from_addr=ME, from_name="Alex Doe", clock=lambda: NOW)

    def edit(ref: str) -> None:
        path = folder / ref
        path.write_bytes(path.read_bytes().replace(b"What calbot wrote.", b"What I wrote."))

    return Harness("outbox", SinkKind.MAIL, make(), make, edit, lambda ref: (folder / ref).unlink())


def google_settings(google: Any, tmp_path: Path) -> Settings:
    """Gmail drafts and the review calendar on, against the fake Google server."""
    google.user_email = ME
    token = tmp_path / "secrets" / "token.json"
    settings = parse_settings(
        {
            "user": {"email": ME, "name": "Alex Doe", "timezone": "Europe/Berlin"},
            "source": {"kind": "google", "calendars": ["primary"]},
            "clients": [{"name": "Acme", "domains": ["acme.example"], "language": "vi"}],
            "google": {"api_root": google.root, "token_file": str(token)},
            "outputs": {"gmail_drafts": True, "review_calendar": True, "outbox": ""},
        },
        path="test.toml",
        check_templates=False,
    )
    google.write_token(token, scopes_for(settings))
    return settings


def gmail_harness(google: Any, tmp_path: Path) -> Harness:
    api = google_api.connect(google_settings(google, tmp_path), sleep=lambda s: None)

    def make() -> GmailSink:
        return GmailSink(api, from_addr=ME, from_name="Alex Doe", clock=lambda: NOW)

    def edit(ref: str) -> None:
        google.user_edits_draft(ref, "Chào anh Minh, để tôi xem lại lịch nhé.")

    return Harness("gmail", SinkKind.MAIL, make(), make, edit, google.user_deletes_draft)


def review_harness(google: Any, tmp_path: Path) -> Harness:
    settings = google_settings(google, tmp_path)
    api = google_api.connect(settings, sleep=lambda s: None)

    def make() -> ReviewCalendar:
        # a fresh store each time: the id file alone must be enough
        return review_calendar(api, settings, MemoryStore())

    sink = make()

    def calendar() -> str:
        assert sink.calendar_id is not None
        return sink.calendar_id

    def edit(ref: str) -> None:
        google.update_event(calendar(), ref, description="mine now")

    def delete(ref: str) -> None:
        google.delete_event(calendar(), ref)

    return Harness("review_calendar", SinkKind.REVIEW, sink, make, edit, delete)


def caldav_review_harness(server: Any, tmp_path: Path) -> Harness:
    """The review calendar on a real Radicale (a fresh store each time: found by name and
    calbot's property)."""
    from caldav.davclient import DAVClient

    from calbot.adapters.caldav import connect as caldav_connect
    from calbot.usecases.wiring import caldav_review_calendar

    settings = parse_settings(
        {
            "user": {"email": ME, "name": "Alex Doe", "timezone": "Europe/Berlin"},
            "source": {"kind": "caldav"},
            "caldav": {"url": server.url, "username": server.user},
            "clients": [{"name": "Acme", "domains": ["acme.example"], "language": "vi"}],
            "outputs": {"review_calendar": True, "outbox": ""},
        },
        path="test.toml",
        check_templates=False,
    )
    dav = caldav_connect(settings, {"CALBOT_CALDAV_PASSWORD": server.password})
    user = DAVClient(server.url, username=server.user, password=server.password)

    def make() -> DraftSink:
        return caldav_review_calendar(dav, settings, MemoryStore())

    def delete(ref: str) -> None:
        user.delete(ref)

    def edit(ref: str) -> None:
        text = user.request(ref, "GET").raw
        user.put(ref, text.replace("What calbot wrote.", "What I wrote."), {})

    return Harness("review_calendar", SinkKind.REVIEW, make(), make, edit, delete)


def imap_harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    """The IMAP sink on a real Dovecot (tests/servers/imap_server.py); a ref is a Message-ID."""
    from servers import imap_server

    from calbot.adapters.imap.connect import Session
    from calbot.adapters.imap.sink import ImapSink
    from calbot.config.settings import ImapSettings

    stack = contextlib.ExitStack()
    request.addfinalizer(stack.close)
    server = stack.enter_context(imap_server.running_dovecot(tmp_path / "dovecot"))
    imap = ImapSettings(
        host="127.0.0.1", port=server.port, username=imap_server.USER, ca_file=str(server.cert)
    )
    env = {"CALBOT_IMAP_PASSWORD": imap_server.PASSWORD}

    def make() -> ImapSink:
        sink = ImapSink(
            Session(imap, env=env), from_addr=ME, from_name="Alex Doe", clock=lambda: NOW
        )
        request.addfinalizer(sink.close)
        return sink

    def edit(ref: str) -> None:
        imap_server.user_edits(server, ref, b"What calbot wrote.", b"What I wrote.")

    return Harness(
        "imap", SinkKind.MAIL, make(), make, edit, lambda ref: imap_server.user_deletes(server, ref)
    )


HARNESSES = ("outbox", "gmail", "review_calendar", "caldav_review", "imap")
SYSTEM_HARNESSES = ("caldav_review", "imap")  # real servers: the full suite runs them


@pytest.fixture
def radicale(tmp_path: Path) -> Any:
    import importlib.util
    import os

    if importlib.util.find_spec("radicale") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("radicale is missing: pip install -e '.[test]'")
        pytest.skip("radicale is missing: pip install -e '.[test]'")
    from servers.caldav_server import running

    with running(tmp_path / "radicale") as server:
        yield server


@pytest.fixture(
    params=[
        pytest.param(h, marks=pytest.mark.system) if h in SYSTEM_HARNESSES else h for h in HARNESSES
    ]
)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if request.param == "outbox":
        return outbox_harness(tmp_path)
    if request.param == "caldav_review":
        return caldav_review_harness(request.getfixturevalue("radicale"), tmp_path)
    if request.param == "imap":
        return imap_harness(request, tmp_path)
    google = request.getfixturevalue("google")  # only the Google sinks start the fake
    if request.param == "gmail":
        return gmail_harness(google, tmp_path)
    return review_harness(google, tmp_path)


class TestSinkContract:
    """What every DraftSink must do."""

    def test_declares_what_the_scan_reads(self, harness: Harness) -> None:
        as_port: DraftSink = harness.sink
        assert as_port.name == harness.name
        assert as_port.kind is harness.kind
        assert list(as_port.warnings) == []

    def test_an_empty_sink_holds_nothing(self, harness: Harness) -> None:
        sink = harness.sink
        assert sink.observe([]) == {}
        assert sink.observe(["calbot-none.eml"]) == {"calbot-none.eml": None}
        assert sink.find(MID) is None
        assert sink.adoptable(set(), {MID}) == set()

    def test_create_then_observe(self, harness: Harness) -> None:
        sink = harness.sink
        written = sink.create(FIRST)
        assert written.ref and written.version and not written.edited
        assert written.content_hash == sink.content_hash(FIRST)
        assert sink.observe([written.ref, "calbot-none.eml"]) == {
            written.ref: written.version,
            "calbot-none.eml": None,
        }
        path = sink.path_of(written.ref)
        assert path is None or path.is_file()
        assert list(sink.warnings) == []

    def test_the_content_hash_follows_the_reply(self, harness: Harness) -> None:
        sink = harness.sink
        assert sink.content_hash(FIRST) == sink.content_hash(reply(DRAFT, MID))
        assert sink.content_hash(CHANGED) != sink.content_hash(FIRST)

    def test_a_fresh_sink_finds_its_drafts_by_message_id(self, harness: Harness) -> None:
        first = harness.sink.create(FIRST)
        second = harness.sink.create(SECOND)
        lost_state = harness.fresh()
        assert lost_state.find(MID) == Written(
            first.ref, first.version, first.content_hash, edited=False
        )
        assert lost_state.find(MID2) == Written(
            second.ref, second.version, second.content_hash, edited=False
        )
        assert lost_state.find(NOBODYS) is None
        assert MID in lost_state.adoptable(set(), {MID, NOBODYS}) <= {MID, NOBODYS}

    def test_update_rewrites_the_same_draft(self, harness: Harness) -> None:
        sink = harness.sink
        first = sink.create(FIRST)
        updated = sink.update(first.ref, CHANGED)
        assert updated.ref == first.ref and updated.version != first.version
        assert updated.content_hash == sink.content_hash(CHANGED) != first.content_hash
        assert sink.observe([first.ref]) == {first.ref: updated.version}
        assert harness.fresh().find(MID) == Written(
            updated.ref, updated.version, updated.content_hash, edited=False
        )

    def test_delete_and_delete_again(self, harness: Harness) -> None:
        sink = harness.sink
        written = sink.create(FIRST)
        sink.delete(written.ref)
        assert sink.observe([written.ref]) == {written.ref: None}
        sink.delete(written.ref)  # already gone: fine
        assert sink.observe([written.ref]) == {written.ref: None}
        path = sink.path_of(written.ref)
        assert path is None or not path.exists()
        assert harness.fresh().find(MID) is None

    def test_a_draft_the_user_deleted_is_gone_and_never_brought_back(
        self, harness: Harness
    ) -> None:
        sink = harness.sink
        kept = sink.create(SECOND)
        written = sink.create(FIRST)
        harness.user_deletes(written.ref)
        assert sink.observe([written.ref, kept.ref]) == {written.ref: None, kept.ref: kept.version}
        with pytest.raises(DraftGone):
            sink.update(written.ref, CHANGED)
        assert sink.observe([written.ref]) == {written.ref: None}
        assert harness.fresh().find(MID) is None  # nothing re-created behind the user's back

    def test_an_edit_by_the_user_is_seen_as_one(self, harness: Harness) -> None:
        sink = harness.sink
        written = sink.create(FIRST)
        harness.user_edits(written.ref)
        now = sink.observe([written.ref])[written.ref]
        assert now is not None and now != written.version
        found = harness.fresh().find(MID)
        assert found is not None and found.edited
        assert found.ref == written.ref and found.version == now
        assert found.content_hash == written.content_hash  # what calbot wrote, not what is there

    def test_a_deleted_draft_is_not_reported_sent(self, harness: Harness) -> None:
        sink = harness.sink
        assert sink.sent([]) == set()
        written = sink.create(FIRST)
        harness.user_deletes(written.ref)
        assert sink.sent([written.ref]) == set()  # deleted, not sent: no sink may say sent
