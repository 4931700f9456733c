"""`calbot digest` end to end (`calbot.cli.digest` over `calbot.usecases.digest`) with a real
SQLite store and an outbox: items marked reported, private files, the state lock, and the
outbox's one message per day."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from digest_rig import ME, NOW, TZ, digest_cli, fill_store, mode, review, soon

from calbot.adapters.outbox import OutboxSink
from calbot.adapters.sqlite import SqliteStore
from calbot.cli.digest import add_digest_command
from calbot.config.loader import load_settings
from calbot.core.records import RunRecord
from calbot.core.vocab import DraftStatus, RunOutcome
from calbot.usecases.digest import run_digest


def test_digest_command_has_help() -> None:
    parser = argparse.ArgumentParser(prog="calbot")
    sub = parser.add_subparsers(dest="command")
    add_digest_command(sub, argparse.ArgumentParser(add_help=False))
    help_text = " ".join(sub.choices["digest"].format_help().split())
    assert "--all" in help_text and "Nothing is sent" in help_text


@pytest.fixture
def ics_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cal.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", encoding="utf-8")
    config = tmp_path / "calbot.toml"
    config.write_text(
        f"""
[user]
email = "{ME}"
name = "Me Myself"
timezone = "Europe/Berlin"
own_domains = ["example.com"]

[source]
kind = "ics"
path = "{tmp_path / "cal.ics"}"

[outputs]
gmail_drafts = false
calendar_notes = false
outbox = "{tmp_path / "outbox"}"

[limits]
lock_wait_seconds = 0.2

[[clients]]
name = "Acme"
domains = ["acme.example"]
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "state"))
    return config


def test_digest_end_to_end_marks_reported_and_writes_private_files(
    ics_config: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    now = datetime.now(TZ)
    fill_store(
        state,
        [review("a", soon(26)), review("b", soon(50), status="user_edited")],
        [
            RunRecord(now - timedelta(minutes=5), now, RunOutcome.OK),
            RunRecord(now - timedelta(minutes=9), now - timedelta(minutes=8), RunOutcome.LOCKED),
        ],
    )
    first = digest_cli(ics_config)
    assert "\x1b" not in first  # piped: plain text
    assert "Acme sync a" in first and "Acme sync b" in first
    assert "you edited this draft — calbot leaves it alone" in first
    assert "another calbot held the state store" in first
    assert f"file: {tmp_path / 'outbox' / 'calbot-a.eml'}" in first
    html_file = state / "digest.html"
    assert f"Digest saved as {html_file}" in first
    assert mode(html_file) == 0o600 and "Acme sync a" in html_file.read_text(encoding="utf-8")
    eml = tmp_path / "outbox" / f"calbot-digest-{now:%Y%m%d}.eml"
    assert f"Digest written to the outbox: {eml}" in first
    assert mode(eml) == 0o600 and mode(eml.parent) == 0o700
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"].addresses[0].addr_spec == ME
    assert msg["Message-ID"] == f"<calbot.digest.{now:%Y%m%d}@example.com>"
    assert msg.get_body(("html",)) is not None and msg.get_body(("plain",)) is not None

    store = SqliteStore.open(state)
    assert all(r.reported_at is not None for r in store.reviews())
    assert store.get_meta("last_digest_at") is not None
    store.close()

    second = digest_cli(ics_config)
    assert "Nothing new drafted since the last digest." in second
    assert "Acme sync a" not in second
    assert "2 older drafts still wait for review" in second
    assert "another calbot held" not in second  # trouble already reported
    # the day's copies still list everything pending
    assert "Acme sync a" in html_file.read_text(encoding="utf-8")
    assert len(list((tmp_path / "outbox").glob("calbot-digest-*.eml"))) == 1

    every = digest_cli(ics_config, "--all")
    assert "Still waiting for your review (2)" in every
    assert "Acme sync a" in every and "Acme sync b" in every


def test_a_changed_item_is_new_again_in_the_next_digest(ics_config: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    fill_store(state, [review("a", soon(26))])
    digest_cli(ics_config)
    fill_store(state, [review("a", soon(30), status="updated")])  # the meeting moved
    assert "Drafted since the last digest (1)" in digest_cli(ics_config)


def test_digest_waits_for_the_state_lock(ics_config: Path, tmp_path: Path) -> None:
    from calbot.adapters.lock import StateLock
    from calbot.errors import LockedError

    state = tmp_path / "state"
    fill_store(state, [review("a", soon(26))])
    with StateLock(state, wait_seconds=0), pytest.raises(LockedError):
        digest_cli(ics_config)
    store = SqliteStore.open(state)
    assert store.reviews()[0].reported_at is None  # nothing marked by the refused digest
    store.close()


def test_the_use_case_says_where_the_digest_went(ics_config: Path, tmp_path: Path) -> None:
    """`run_digest` prints nothing: the CLI and the worker read where the copies went from
    what it returns. The outbox keeps one file per day, replaced by a rerun."""
    state = tmp_path / "state"
    fill_store(state, [review("a", soon(26))])
    settings = load_settings(ics_config)
    now = datetime.now(TZ)
    first = run_digest(settings, state, now=now)
    assert first.gmail is None and first.html_path == state / "digest.html"
    assert first.eml_path == tmp_path / "outbox" / f"calbot-digest-{now:%Y%m%d}.eml"
    assert [i.key for i in first.digest.new] == ["a"] and first.full.pending == 1
    again = run_digest(settings, state, now=now + timedelta(minutes=1))
    assert again.eml_path == first.eml_path and again.digest.new == ()
    assert len(list((tmp_path / "outbox").iterdir())) == 1


def test_the_outbox_leaves_one_message_per_label_and_day(tmp_path: Path) -> None:
    sink = OutboxSink(tmp_path / "out", from_addr=ME, from_name="Me", clock=lambda: NOW)
    first = sink.leave(b"Subject: one\r\n\r\nbody\r\n", "<x@example.com>", label="digest")
    second = sink.leave(b"Subject: two\r\n\r\nbody\r\n", "<x@example.com>", label="digest")
    path = tmp_path / "out" / "calbot-digest-20251202.eml"
    assert (first.status, first.ref) == (DraftStatus.NEW, str(path))
    assert (second.status, second.ref) == (DraftStatus.UPDATED, str(path))
    assert path.read_bytes().startswith(b"Subject: two") and mode(path.parent) == 0o700
