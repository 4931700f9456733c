"""The outbox sink against real files in a temp dir, parsed back with the `email` package."""

from __future__ import annotations

import email
import email.policy
import hashlib
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from replies import reply

from calbot.adapters.mail import message_id_for
from calbot.adapters.outbox import OutboxSink, file_name_for
from calbot.core.model import Draft
from calbot.ports.sinks import Written

KL = timezone(timedelta(hours=8))
NOW = datetime(2025, 3, 4, 7, 0, tzinfo=KL)
MID = message_id_for("primary/evt-1", "reschedule", "example.com")


def make_draft(subject: str = "Dời lịch họp — thứ Ba?", body: str = "Chào anh Minh,\n") -> Draft:
    return Draft(
        language="vi",
        to=("minh@acme.example",),
        to_names=("Nguyễn Minh",),
        subject=subject,
        body=body,
        private_notes="never in the file",
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def sink(folder: Path) -> OutboxSink:
    return OutboxSink(folder, from_addr="me@example.com", from_name="Alex Doe", clock=lambda: NOW)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_constructing_writes_nothing(sink: OutboxSink, folder: Path) -> None:
    assert sink.observe(["calbot-x.eml"]) == {"calbot-x.eml": None}
    assert sink.find(MID) is None
    sink.delete("calbot-x.eml")
    assert not folder.exists()


def test_create_writes_a_private_parseable_eml(sink: OutboxSink, folder: Path) -> None:
    written = sink.create(reply(make_draft(), MID))
    path = sink.path_of(written.ref)
    assert path.parent == folder
    assert written.ref == file_name_for(MID)
    assert written.ref.startswith("calbot-") and written.ref.endswith(".eml")
    assert mode(folder) == 0o700
    assert mode(path) == 0o600
    data = path.read_bytes()
    assert written.version == hashlib.sha256(data).hexdigest()
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert msg["Message-ID"] == MID
    assert msg["Subject"] == "Dời lịch họp — thứ Ba?"
    assert msg["To"].addresses[0].display_name == "Nguyễn Minh"
    assert msg["Date"] == "Tue, 04 Mar 2025 07:00:00 +0800"  # from the injected clock
    assert b"never in the file" not in data
    assert sorted(p.name for p in folder.iterdir()) == [written.ref]  # no temp files left


def test_file_name_is_stable(folder: Path, tmp_path: Path) -> None:
    a = OutboxSink(folder, from_addr="me@example.com", from_name="A", clock=lambda: NOW)
    b = OutboxSink(tmp_path / "other", from_addr="me@example.com", from_name="A", clock=lambda: NOW)
    assert a.create(reply(make_draft(), MID)).ref == b.create(reply(make_draft(), MID)).ref
    other = message_id_for("primary/evt-1", "shorten", "example.com")
    assert a.create(reply(make_draft(), other)).ref != file_name_for(MID)


def test_find_adopts_by_message_id(sink: OutboxSink, folder: Path) -> None:
    sink.create(reply(make_draft(subject="other"), message_id_for("k2", "call", "example.com")))
    written = sink.create(reply(make_draft(), MID))
    # a fresh sink (lost state) finds it by the header, even under another file name
    renamed = folder / "1741046400.M1P2.host:2,D.eml"
    sink.path_of(written.ref).rename(renamed)
    fresh = OutboxSink(folder, from_addr="me@example.com", from_name="A", clock=lambda: NOW)
    found = fresh.find(MID)
    assert found == Written(
        ref=renamed.name, version=written.version, content_hash=written.content_hash
    )
    assert found.content_hash and not found.edited
    assert fresh.find(message_id_for("nope", "call", "example.com")) is None


def test_find_ignores_broken_and_foreign_files(sink: OutboxSink, folder: Path) -> None:
    written = sink.create(reply(make_draft(), MID))
    (folder / "garbage.eml").write_bytes(b"\xff\xfe not a message at all")
    (folder / "notes.txt").write_text(f"Message-ID: {MID}\n")
    (folder / "dir.eml").mkdir()
    assert sink.find(MID) == written


def test_adoptable_names_only_ids_an_unknown_file_carries(sink: OutboxSink, folder: Path) -> None:
    other = message_id_for("k2", "call", "example.com")
    assert sink.adoptable(set(), {MID}) == set()  # no folder yet
    known = sink.create(reply(make_draft(subject="other"), other))
    assert sink.adoptable({known.ref}, {MID, other}) == set()
    lost = sink.create(reply(make_draft(), MID))  # written, then the ledger lost it
    (folder / "garbage.eml").write_bytes(b"\xff\xfe not a message at all")
    assert sink.adoptable({known.ref}, {MID}) == {MID}
    renamed = folder / "renamed-by-user.eml"
    sink.path_of(lost.ref).rename(renamed)
    assert sink.adoptable({known.ref}, {MID, other}) == {MID}
    assert sink.adoptable({known.ref, renamed.name}, {MID}) == set()


def test_update_rewrites_atomically(sink: OutboxSink, folder: Path) -> None:
    first = sink.create(reply(make_draft(body="first\n"), MID))
    new_mid = message_id_for("primary/evt-1", "shorten", "example.com")
    second = sink.update(first.ref, reply(make_draft(body="second version\n"), new_mid))
    assert second.ref == first.ref
    assert second.version != first.version
    data = sink.path_of(first.ref).read_bytes()
    assert hashlib.sha256(data).hexdigest() == second.version
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert msg.get_content().replace("\r\n", "\n") == "second version\n"
    assert msg["Message-ID"] == new_mid
    assert mode(sink.path_of(first.ref)) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == [first.ref]
    assert sink.find(new_mid) == second
    assert sink.find(MID) is None


def test_same_content_same_version(sink: OutboxSink) -> None:
    first = sink.create(reply(make_draft(), MID))
    again = sink.update(first.ref, reply(make_draft(), MID))
    assert again == first


def test_failed_write_leaves_no_temp_file(
    sink: OutboxSink, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sink.create(reply(make_draft(body="kept\n"), MID))

    def broken_replace(self: Path, target: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        sink.update(first.ref, reply(make_draft(body="lost\n"), MID))
    assert sorted(p.name for p in folder.iterdir()) == [first.ref]
    assert sink.observe([first.ref]) == {first.ref: first.version}


@pytest.mark.parametrize("ref", ["../x", "..", ".", "", "a/b.eml", "/etc/passwd", "a\\b", "x..eml"])
def test_refuses_refs_that_are_not_plain_names(sink: OutboxSink, ref: str) -> None:
    with pytest.raises(ValueError):
        sink.path_of(ref)
    with pytest.raises(ValueError):
        sink.observe([ref])
    with pytest.raises(ValueError):
        sink.delete(ref)
    with pytest.raises(ValueError):
        sink.update(ref, reply(make_draft(), MID))
    assert not sink.folder.exists()


def test_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    sink = OutboxSink(folder, from_addr="me@example.com", from_name="A", clock=lambda: NOW)
    written = sink.create(reply(make_draft(), MID))
    assert mode(folder) == 0o750
    assert mode(sink.path_of(written.ref)) == 0o600
