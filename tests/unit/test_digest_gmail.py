"""The digest's Gmail copy, against the fake Google server: one draft to the user, updated on
a rerun, never made twice, left alone once edited, and the outbox when access is revoked."""

from __future__ import annotations

import json
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from builders import google_toml
from digest_rig import ME, TZ, digest_cli, fill_store, mode, review, soon


@pytest.fixture
def google_config(google: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    google.user_email = ME
    token = tmp_path / "token.json"
    google.write_token(token, ["calendar.events", "gmail.compose"])
    config = tmp_path / "calbot.toml"
    config.write_text(
        google_toml(google.root, token, tmp_path / "client_secret.json", user='language = "en"')
        + f"""
[outputs]
gmail_drafts = true
calendar_notes = false
outbox = "{tmp_path / "outbox"}"

[limits]
retry_budget_seconds = 5
lock_wait_seconds = 2

[[clients]]
name = "Acme"
domains = ["acme.example"]
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "state"))
    return config


def test_digest_is_one_gmail_draft_to_the_user_updated_on_rerun(
    google: Any, google_config: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    fill_store(state, [review("a", soon(26), drafts={"gmail": "r-1"})])
    first = digest_cli(google_config)
    assert google.count("gmail.drafts.create") == 1 and len(google.drafts) == 1
    (draft_id,) = google.drafts
    msg = google.draft_message(draft_id)
    assert [a.addr_spec for a in msg["To"].addresses] == [ME]
    assert msg["Subject"].startswith("calbot: 1 reply to review — ")
    assert msg["Message-ID"] == f"<calbot.digest.{datetime.now(TZ):%Y%m%d}@example.com>"
    assert "Acme sync a" in msg.get_body(("plain",)).get_content()
    assert msg.get_body(("html",)) is not None
    assert f"Left in your Gmail drafts: {msg['Subject']}" in first
    assert not (tmp_path / "outbox").exists()  # Gmail took it: no outbox copy

    fill_store(state, [review("b", soon(28), drafts={"gmail": "r-2"})])
    second = digest_cli(google_config)
    assert google.count("gmail.drafts.create") == 1 and google.count("gmail.drafts.update") == 1
    assert list(google.drafts) == [draft_id]
    updated = google.draft_message(draft_id)
    assert updated["Subject"].startswith("calbot: 2 replies to review — ")
    assert "Updated in your Gmail drafts" in second
    assert all(r.route not in ("gmail.drafts.send", "gmail.messages.send") for r in google.requests)


def test_a_digest_draft_answered_too_late_is_not_made_twice(
    google: Any, google_config: Path, tmp_path: Path
) -> None:
    """Gmail made the draft but its answer came after the timeout: the retry finds it by
    its Message-ID instead of making a second one."""
    text = google_config.read_text(encoding="utf-8")
    google_config.write_text(
        text.replace("[limits]\n", "[limits]\nhttp_timeout_seconds = 0.3\n"), encoding="utf-8"
    )
    fill_store(tmp_path / "state", [review("a", soon(26))])
    google.delay("gmail.drafts.create", 0.4)
    out = digest_cli(google_config)
    google.wait_idle()
    assert google.count("gmail.drafts.create") == 1
    assert len(google.drafts) == 1
    assert "Left in your Gmail drafts" in out


def test_a_digest_draft_gone_just_before_its_update_is_made_anew(
    google: Any, google_config: Path, tmp_path: Path
) -> None:
    fill_store(tmp_path / "state", [review("a", soon(26))])
    digest_cli(google_config)
    google.fail("gmail.drafts.update", 404)  # deleted between the search and the update
    out = digest_cli(google_config)
    assert google.count("gmail.drafts.update") == 1 and google.count("gmail.drafts.create") == 2
    assert "Left in your Gmail drafts" in out


def test_edited_digest_draft_is_left_alone(
    google: Any, google_config: Path, tmp_path: Path
) -> None:
    fill_store(tmp_path / "state", [review("a", soon(26))])
    digest_cli(google_config)
    (draft_id,) = google.drafts
    google.user_edits_draft(draft_id, "my own notes")
    out = digest_cli(google_config)
    assert "You edited today's digest in Gmail, so calbot left it as it is" in out
    assert google.count("gmail.drafts.update") == 0 and len(google.drafts) == 1


def test_revoked_access_sends_the_digest_to_the_outbox_and_says_why(
    google: Any, google_config: Path, tmp_path: Path
) -> None:
    token = tmp_path / "token.json"
    google.write_token(token, ["calendar.events", "gmail.compose"], expired=True)
    google.revoke()
    fill_store(tmp_path / "state", [review("a", soon(26))])
    out = digest_cli(google_config)
    assert google.drafts == {}
    assert "the digest could not be left in Gmail" in out
    assert "run `calbot auth`" in out
    eml = tmp_path / "outbox" / f"calbot-digest-{datetime.now(TZ):%Y%m%d}.eml"
    assert f"Digest written to the outbox: {eml}" in out and mode(eml) == 0o600
    body = message_from_bytes(eml.read_bytes(), policy=policy.default).get_body(("plain",))
    assert body is not None and "the digest could not be left in Gmail" in body.get_content()
    secrets = json.loads(token.read_text())
    for secret in (secrets["token"], secrets["refresh_token"], secrets["client_secret"]):
        assert secret not in out
