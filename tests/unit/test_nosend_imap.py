"""The no-send check (calbot.usecases.nosend) covers IMAP and SMTP as well as Gmail: the IMAP
sink may APPEND to Drafts and remove its own drafts, never move or copy mail to Sent, and no
module may reach smtplib by any route."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from calbot.usecases.nosend import package_send_calls, send_calls

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text",
    [
        'client.move([uid], "Sent")',
        'client.copy(uids, folder="Sent")',
        'client.uid_copy(uids, "[Gmail]/Sent Mail")',
        'imap.uid("MOVE", "1:3", "Sent")',
        'imap._command("COPY", "1", "Sent")',
        'importlib.import_module("smtplib")',
        '__import__("smtplib")',
        "import smtplib as s",
        "from smtplib import SMTP_SSL",
    ],
)
def test_imap_transfers_and_smtp_are_caught(text: str) -> None:
    assert send_calls(ast.parse(text)), text


@pytest.mark.parametrize(
    "text",
    [
        "saved = self._tables.copy()",
        "client.append(drafts, data, flags=flags)",
        "client.uid_expunge(uids)",
        'client.add_flags(uids, [b"\\\\Deleted"])',
        'imap.uid("FETCH", "1", "(FLAGS)")',
        'client.select_folder("Sent", readonly=True)',
    ],
)
def test_what_the_imap_sink_does_is_not_flagged(text: str) -> None:
    assert not send_calls(ast.parse(text)), text


def test_the_imap_adapter_passes() -> None:
    _, problems = package_send_calls(ROOT / "calbot")
    assert problems == {}
    assert (ROOT / "calbot" / "adapters" / "imap" / "sink.py").is_file()
