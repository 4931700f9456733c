"""The Gmail sink against the fake Google server, through the real googleapiclient over HTTP.

The `google` fixture fails any test during which a send method was called (its
`violations`), so every test here also shows that nothing is ever sent.
"""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from replies import reply

from calbot.adapters.google import api as google_api
from calbot.adapters.google.api import ApiError, GoogleApi
from calbot.adapters.google.gmail import GmailSink
from calbot.adapters.google.scopes import scopes_for
from calbot.adapters.mail import CONTENT_HEADER, build_message, draft_hash, message_id_for
from calbot.config.loader import parse_settings
from calbot.config.settings import Settings
from calbot.core.messages import Message
from calbot.core.model import Draft
from calbot.ports.sinks import Written

ICT = timezone(timedelta(hours=7))
NOW = datetime(2026, 11, 25, 8, 30, tzinfo=ICT)
ME = "me@studio.example"
MID_VI = message_id_for("primary/evt-vi", "reschedule", "studio.example")
MID_MS = message_id_for("primary/evt-ms", "shorten", "studio.example")

VI = Draft(
    language="vi",
    to=("minh@acme.example",),
    to_names=("Nguyễn Văn Minh",),
    subject="Họp lộ trình Acme — dời sang thứ Năm được không ạ?",
    body=(
        "Chào anh Minh,\n\n"
        "Thứ Ba tuần này lịch của tôi đã kín, rất mong anh thông cảm ạ.\n"
        "Anh có thể chọn một trong các giờ sau: thứ Năm, ngày 3/12/2026, lúc 15:30.\n\n"
        "Trân trọng,\nAlex"
    ),
    private_notes="chỉ mình tôi thấy",
)
MS = Draft(
    language="ms",
    to=("aminah@bina.example", "ahmad@bina.example"),
    to_names=("Puan Aminah", "Tuan Ahmad"),
    cc=("ops@bina.example",),
    subject="Mesyuarat suku tahunan — 45 minit sahaja?",
    body=(
        "Puan Aminah yang dihormati,\n\n"
        "Saya mencadangkan mesyuarat kita dipendekkan kepada 45 minit.\n"
        "Sila maklumkan jika cadangan ini sesuai.\n\n"
        "Sekian, terima kasih.\nYang benar,\nAlex"
    ),
)


@pytest.fixture
def settings(google: Any, tmp_path: Path) -> Settings:
    token = tmp_path / "token.json"
    s = parse_settings(
        {
            "user": {"email": ME, "name": "Alex Doe", "timezone": "Asia/Ho_Chi_Minh"},
            "source": {"kind": "google"},
            "clients": [{"name": "Acme", "domains": ["acme.example"], "language": "vi"}],
            "google": {"api_root": google.root, "token_file": str(token)},
            "outputs": {"gmail_drafts": True},
        },
        path="test.toml",
        check_templates=False,
    )
    google.write_token(token, scopes_for(s))
    return s


@pytest.fixture
def api(settings: Settings) -> GoogleApi:
    return google_api.connect(settings, sleep=lambda s: None)


@pytest.fixture
def sink(api: GoogleApi) -> GmailSink:
    return GmailSink(api, from_addr=ME, from_name="Alex Doe", clock=lambda: NOW)


def body_text(msg: Any) -> str:
    return str(msg.get_body(("plain",)).get_content()).replace("\r\n", "\n")


def test_create_leaves_one_draft_with_headers_and_utf8_body(
    google: Any, sink: GmailSink, api: GoogleApi
) -> None:
    written = sink.create(reply(VI, MID_VI))

    assert list(google.drafts) == [written.ref]
    stored = google.drafts[written.ref]
    assert written.version == stored["message"]["id"]
    assert written.content_hash == draft_hash(VI)
    assert not written.edited
    msg = google.draft_message(written.ref)
    assert msg["Message-ID"] == MID_VI
    assert msg["Subject"] == VI.subject
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses] == [
        ("Nguyễn Văn Minh", "minh@acme.example")
    ]
    assert msg["From"].addresses[0].addr_spec == ME
    assert msg["Date"].datetime == NOW
    assert str(msg[CONTENT_HEADER]).strip() == draft_hash(VI)
    assert msg.get_body(("plain",)).get_content_charset() == "utf-8"
    assert body_text(msg).strip() == VI.body
    assert "chỉ mình tôi thấy" not in str(msg)  # private notes never go into the mail
    # one plain JSON request, the message inline (no media upload, no batch)
    assert google.count("gmail.drafts.create") == 1
    (req,) = [r for r in google.requests if r.route == "gmail.drafts.create"]
    assert set(req.body) == {"message"} and set(req.body["message"]) == {"raw"}
    assert req.path.startswith("/gmail/v1/users/me/drafts")
    assert api.requests == 1


def test_malay_draft_with_several_recipients_and_cc(google: Any, sink: GmailSink) -> None:
    written = sink.create(reply(MS, MID_MS))
    msg = google.draft_message(written.ref)
    assert [a.addr_spec for a in msg["To"].addresses] == list(MS.to)
    assert [a.display_name for a in msg["To"].addresses] == ["Puan Aminah", "Tuan Ahmad"]
    assert [a.addr_spec for a in msg["Cc"].addresses] == ["ops@bina.example"]
    assert msg["Subject"] == MS.subject
    assert "Sekian, terima kasih." in body_text(msg)


def test_the_raw_upload_is_exactly_build_message(google: Any, sink: GmailSink) -> None:
    written = sink.create(reply(VI, MID_VI))
    raw = google.drafts[written.ref]["message"]["raw"]
    expected = build_message(VI, from_addr=ME, from_name="Alex Doe", message_id=MID_VI, date=NOW)
    assert base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)) == expected


def test_observe_many_refs_with_one_list_request(google: Any, sink: GmailSink) -> None:
    refs = [
        sink.create(
            reply(
                replace(VI, subject=f"{VI.subject} {i}"),
                message_id_for(f"k{i}", "call", "x.example"),
            )
        ).ref
        for i in range(5)
    ]
    versions = {ref: google.drafts[ref]["message"]["id"] for ref in refs}
    before = google.count("gmail.drafts.list")

    seen = sink.observe([*refs, "r-never-existed"])

    assert google.count("gmail.drafts.list") == before + 1
    assert seen == {**versions, "r-never-existed": None}
    (req,) = [r for r in google.requests if r.route == "gmail.drafts.list"]
    assert req.query.get("maxResults") == ["500"]
    assert "q" not in req.query  # the whole Drafts folder: the user's own drafts too


def test_observe_follows_pages(google: Any, sink: GmailSink) -> None:
    """Over 500 drafts (the user's own among them): two pages, still one listing."""
    mine = sink.create(reply(VI, MID_VI))
    raw = google.drafts[mine.ref]["message"]["raw"]
    for n in range(600):  # the user's own drafts, put straight into the fake mailbox
        draft_id = f"user{n:04d}"
        google.drafts[draft_id] = {
            "id": draft_id,
            "message": {"id": f"m{n:04d}", "threadId": f"m{n:04d}", "raw": raw},
        }
    seen = sink.observe([mine.ref, "user0599", "user0000", "gone"])
    assert seen == {
        mine.ref: mine.version,
        "user0599": "m0599",
        "user0000": "m0000",
        "gone": None,
    }
    assert google.count("gmail.drafts.list") == 2


def test_observe_without_refs_makes_no_request(google: Any, sink: GmailSink) -> None:
    assert sink.observe([]) == {}
    assert google.requests == []


def test_update_keeps_the_draft_id_and_gives_a_new_version(google: Any, sink: GmailSink) -> None:
    first = sink.create(reply(VI, MID_VI))
    changed = replace(VI, subject="Họp lộ trình Acme — rút ngắn còn 45 phút?")

    second = sink.update(first.ref, reply(changed, MID_VI))

    assert second.ref == first.ref
    assert second.version != first.version
    assert second.content_hash == draft_hash(changed) != first.content_hash
    assert list(google.drafts) == [first.ref]
    msg = google.draft_message(first.ref)
    assert msg["Subject"] == changed.subject
    assert msg["Message-ID"] == MID_VI
    assert sink.observe([first.ref]) == {first.ref: second.version}
    (req,) = [r for r in google.requests if r.route == "gmail.drafts.update"]
    assert req.body["id"] == first.ref and set(req.body["message"]) == {"raw"}


def test_find_adopts_an_untouched_draft_by_message_id(google: Any, api: GoogleApi) -> None:
    before_crash = GmailSink(api, from_addr=ME, from_name="Alex Doe", clock=lambda: NOW)
    written = before_crash.create(reply(VI, MID_VI))
    before_crash.create(reply(MS, MID_MS))
    # the state store is lost: a new sink knows only the Message-ID
    later = GmailSink(
        api, from_addr=ME, from_name="Alex Doe", clock=lambda: NOW + timedelta(hours=1)
    )

    found = later.find(MID_VI)

    assert found == Written(
        ref=written.ref, version=written.version, content_hash=draft_hash(VI), edited=False
    )
    lists = [r for r in google.requests if r.route == "gmail.drafts.list"]
    assert "q" not in lists[-1].query  # never the search index: it lags (issue 11)
    gets = [r for r in google.requests if r.route == "gmail.drafts.get"]
    assert gets[-1].query.get("format") == ["raw"]


def test_find_nothing(google: Any, sink: GmailSink) -> None:
    sink.create(reply(MS, MID_MS))
    assert sink.find(MID_VI) is None
    gets = [r for r in google.requests if r.route == "gmail.drafts.get"]
    assert [r.query["format"] for r in gets] == [["metadata"]]  # headers only, no raw read


def test_find_ignores_a_loose_search_hit(
    google: Any, sink: GmailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the search match a draft whose Message-ID is not exactly ours, it is not
    adopted."""
    other = message_id_for("primary/evt-vi", "reschedule", "other.example")
    sink.create(reply(VI, other))
    everything = google._search("")  # the fake's search, made to match every draft
    monkeypatch.setattr(google, "_search", lambda q: list(everything))
    assert sink.find(MID_VI) is None
    assert google.count("gmail.drafts.get") == 1


def test_adoptable_needs_no_look_up_when_every_draft_is_known(google: Any, sink: GmailSink) -> None:
    known = sink.create(reply(VI, MID_VI))
    google.clear_log()
    assert sink.adoptable({known.ref}, {MID_MS}) == set()
    assert [r.route for r in google.requests] == ["gmail.drafts.list"]
    assert "q" not in google.requests[0].query


def test_adoptable_reads_the_headers_of_a_few_unknown_drafts(google: Any, sink: GmailSink) -> None:
    sink.create(reply(VI, MID_VI))  # ours, but the ledger lost it
    sink.create(reply(MS, "<not-calbot@studio.example>"))  # the user's own draft
    google.clear_log()
    wanted = {MID_VI, MID_MS, "<calbot-x@studio.example>"}
    assert sink.adoptable(set(), wanted) == {MID_VI}
    gets = [r for r in google.requests if r.route == "gmail.drafts.get"]
    assert len(gets) == 2 and all(r.query["format"] == ["metadata"] for r in gets)
    assert not [r for r in google.requests if "q" in r.query]


def test_adoptable_with_more_unknown_drafts_than_new_ones_reads_them_all(
    google: Any, sink: GmailSink
) -> None:
    for n in range(3):
        sink.create(reply(MS, f"<user-{n}@studio.example>"))
    google.clear_log()
    # no search to fall back on (it lags): the headers of each unknown draft tell
    assert sink.adoptable(set(), {MID_VI}) == set()
    assert [r.route for r in google.requests] == ["gmail.drafts.list"] + ["gmail.drafts.get"] * 3


def test_delete_removes_the_draft_and_tolerates_gone(google: Any, sink: GmailSink) -> None:
    written = sink.create(reply(VI, MID_VI))
    kept = sink.create(reply(MS, MID_MS))
    sink.delete(written.ref)
    assert list(google.drafts) == [kept.ref]
    sink.delete(written.ref)  # already gone (404): fine
    assert google.count("gmail.drafts.delete") == 2


def test_other_errors_propagate(google: Any, sink: GmailSink) -> None:
    google.fail("gmail.drafts.create", 400)
    with pytest.raises(ApiError) as caught:
        sink.create(reply(VI, MID_VI))
    assert caught.value.status == 400
    assert google.drafts == {}


def test_server_errors_are_retried(google: Any, sink: GmailSink) -> None:
    google.fail("gmail.drafts.list", 503, 500)
    written = sink.create(reply(VI, MID_VI))
    assert sink.observe([written.ref]) == {written.ref: written.version}
    assert google.count("gmail.drafts.list") == 3


# --- nothing in calbot can send ------------------------------------------------------------

CALBOT = Path(__file__).resolve().parents[3] / "calbot"
# A call of any method named `send` (drafts().send(...), messages().send(...), getattr(...,
# "send")), or the send routes spelled out as strings.
SEND_PATTERNS = (
    re.compile(r"\.\s*send\s*\("),
    re.compile(r"""["']send["']"""),
    re.compile(r"(drafts|messages)\(\)\s*\.\s*send\b"),
    re.compile(r"""["'](gmail\.users\.)?(drafts|messages)\.send["']"""),
)


def send_calls(text: str) -> list[str]:
    return [m.group(0) for p in SEND_PATTERNS for m in p.finditer(text)]


def test_the_send_check_catches_what_it_should() -> None:
    assert send_calls('api.gmail.users().drafts().send(userId="me", body={}).execute()')
    assert send_calls("gmail.users().messages() .send(userId=USER)")
    assert send_calls('getattr(drafts, "send")(userId="me")')
    assert not send_calls('patch(sendUpdates="none")  # we never send')


def test_no_source_file_in_calbot_calls_a_send_method() -> None:
    # calbot/nosend.py is the AST checker: it names the methods it looks for, and calls none
    sources = sorted(p for p in CALBOT.rglob("*.py") if p.name != "nosend.py")
    assert any(p.name == "gmail.py" for p in sources)
    found = {
        str(p.relative_to(CALBOT)): hits
        for p in sources
        if (hits := send_calls(p.read_text(encoding="utf-8")))
    }
    assert found == {}


# --- the whole reconcile cycle through run_scan --------------------------------------------


class FakeCalendarSource:
    """The meetings of a scan as Events, their notes read back from the fake calendar (as
    the Google source would), so notes written by one scan are seen by the next."""

    def __init__(self, google: Any, items: list[Any]) -> None:
        self.google = google
        self.items = items
        self.requests = 0
        self.warnings: list[Message] = []

    def events(self, start: datetime, end: datetime) -> list[Any]:
        out = []
        for e in self.items:
            ev = self.google.event("primary", e.id)
            private = (ev.get("extendedProperties") or {}).get("private") or {}
            notes = tuple(sorted(private.items()))
            out.append(replace(e, notes=notes, color_id=ev.get("colorId", "")))
        return [e for e in out if e.end > start and e.start < end]

    def extra_busy(self, start: datetime, end: datetime) -> list[Any]:
        return []


@pytest.fixture
def scenario(google: Any, api: GoogleApi, tmp_path: Path) -> Any:
    from builders import ME as BUILDER_ME
    from builders import at, client, event
    from builders import settings as make_settings

    from calbot.adapters.google.notes import CalendarNotes
    from calbot.adapters.memory_state import MemoryStore
    from calbot.config.templates import load_templates
    from calbot.usecases.scan import Ports, Window, run_scan

    now = at("2026-11-25 10:00")
    window = Window(start=now, end=now + timedelta(days=14), history_start=now - timedelta(days=14))
    s = make_settings(client(language="vi", timezone="Asia/Ho_Chi_Minh"))
    templates = load_templates()
    items = []
    for h in (9, 10, 11, 13, 14):  # Tue 1 Dec over both limits: the 9:00 is asked to move
        e = event(f"2026-12-01 {h:02d}:00", 60, id=f"tue{h}", calendar_id="primary")
        google.add_event(
            "primary",
            id=e.id,
            summary=e.summary,
            start={"dateTime": e.start.isoformat()},
            end={"dateTime": e.end.isoformat()},
        )
        items.append(e)

    class Scenario:
        source = FakeCalendarSource(google, items)
        store = MemoryStore()
        notes = CalendarNotes(api)
        gmail = GmailSink(api, from_addr=BUILDER_ME, from_name="Me Myself", clock=lambda: now)

        def scan(self) -> Any:
            google.clear_log()
            ports = Ports(self.source, self.store, [self.gmail], self.notes)
            result = run_scan(s, ports, templates, now=now, window=window)
            return {o.meeting.event.id: o for o in result.outcomes if o.draft is not None}

    return Scenario()


def writes(google: Any) -> list[str]:
    return [r.route for r in google.requests if r.method != "GET"]


def test_scan_cycle_create_unchanged_edit_delete(google: Any, scenario: Any) -> None:
    first = scenario.scan()
    assert set(first) == {"tue9"} and first["tue9"].status == "new"
    # nothing in Drafts the ledger does not know: one list, no search, one write
    gmail_routes = [r.route for r in google.requests if r.route.startswith("gmail.")]
    assert gmail_routes == ["gmail.drafts.list", "gmail.drafts.create"]
    ref = first["tue9"].refs["gmail"]
    assert list(google.drafts) == [ref]
    msg = google.draft_message(ref)
    assert msg["Subject"] == first["tue9"].draft.subject
    assert msg["To"].addresses[0].addr_spec == "ana@acme.example"
    private = google.event("primary", "tue9")["extendedProperties"]["private"]
    assert private["calbot_action"] == "reschedule" and private["calbot_draft"] == ref

    # nothing changed: one drafts.list, no writes at all (drafts or notes)
    again = scenario.scan()
    assert again["tue9"].status == "unchanged"
    assert google.count("gmail.drafts.list") == 1
    assert writes(google) == []

    # the user edits the draft in Gmail: never overwritten, even when the meeting changes
    google.user_edits_draft(ref, "Chào chị Ana, em xin phép đổi lịch ạ.")
    scenario.source.items = [
        replace(e, summary="Đổi tên cuộc họp") if e.id == "tue9" else e
        for e in scenario.source.items
    ]
    edited = scenario.scan()
    assert edited["tue9"].status == "user_edited"
    assert "gmail.drafts.update" not in writes(google)
    assert "em xin phép" in body_text(google.draft_message(ref))


def test_scan_cycle_update_then_user_delete_then_lost_state(google: Any, scenario: Any) -> None:
    from calbot.adapters.memory_state import MemoryStore

    ref = scenario.scan()["tue9"].refs["gmail"]
    scenario.source.items = [
        replace(e, summary="Họp lộ trình (mới)") if e.id == "tue9" else e
        for e in scenario.source.items
    ]
    updated = scenario.scan()
    assert updated["tue9"].status == "updated" and updated["tue9"].refs["gmail"] == ref
    assert "Họp lộ trình (mới)" in google.draft_message(ref)["Subject"]
    assert list(google.drafts) == [ref]

    # lost state: the next scan finds its own draft by Message-ID instead of duplicating it
    scenario.store = MemoryStore()
    adopted = scenario.scan()
    assert adopted["tue9"].status == "unchanged" and adopted["tue9"].refs["gmail"] == ref
    assert list(google.drafts) == [ref]
    assert "gmail.drafts.create" not in writes(google)

    # sent or deleted by the user: not re-created
    google.user_deletes_draft(ref)
    assert scenario.scan()["tue9"].status == "user_deleted"
    assert scenario.scan()["tue9"].status == "user_deleted"
    assert google.drafts == {}
