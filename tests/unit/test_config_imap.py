"""The `[imap]` section and `outputs.imap_drafts`: checked with the rest of the config, one
mail sink per user."""

from __future__ import annotations

from typing import Any

import pytest

from calbot.config.loader import ConfigProblems, parse_settings
from calbot.config.settings import Settings


def parse(outputs: dict[str, Any], imap: dict[str, Any] | None = None) -> Settings:
    data: dict[str, Any] = {
        "user": {"email": "me@studio.example"},
        "source": {"kind": "ics", "path": "cal.ics"},
        "clients": [{"name": "Acme", "domains": ["acme.example"]}],
        "outputs": outputs,
    }
    if imap is not None:
        data["imap"] = imap
    return parse_settings(data, path="calbot.toml", check_templates=False)


FULL = {"host": "imap.fastmail.com", "username": "me@studio.example"}


def problems(outputs: dict[str, Any], imap: dict[str, Any] | None = None) -> dict[str, str]:
    with pytest.raises(ConfigProblems) as caught:
        parse(outputs, imap)
    return dict(caught.value.problems)


def test_defaults_are_tls_on_993_and_starttls_on_143() -> None:
    tls = parse({"imap_drafts": True}, FULL)
    assert tls.outputs.imap_drafts and tls.imap.security == "tls"
    assert tls.imap.effective_port == 993 and tls.imap.drafts_folder == ""
    starttls = parse({"imap_drafts": True}, {**FULL, "security": "STARTTLS"})
    assert starttls.imap.effective_port == 143
    assert parse({"imap_drafts": True}, {**FULL, "port": 1993}).imap.effective_port == 1993


def test_gmail_and_imap_drafts_together_are_refused() -> None:
    found = problems({"imap_drafts": True, "gmail_drafts": True}, FULL)
    assert "one mail sink per user" in found["outputs.imap_drafts"]
    # the outbox may stay on beside it
    assert parse({"imap_drafts": True, "outbox": "/tmp/o"}, FULL).outputs.outbox


def test_imap_drafts_need_a_host_and_a_username() -> None:
    found = problems({"imap_drafts": True}, {})
    assert set(found) == {"imap.host", "imap.username"}


def test_imap_values_are_checked() -> None:
    found = problems(
        {"imap_drafts": True}, {**FULL, "security": "plain", "port": 0, "passwrod_file": "x"}
    )
    assert "use one of tls, starttls" in found["imap.security"]
    assert "imap.port" in found
    assert "did you mean 'password_file'" in found["imap.passwrod_file"]


def test_an_imap_section_without_imap_drafts_is_only_type_checked() -> None:
    settings = parse({}, {"host": "imap.example.net"})
    assert not settings.outputs.imap_drafts and settings.imap.host == "imap.example.net"
