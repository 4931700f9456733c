"""What the bad-input tests (`tests/system/bad_input/`) share: the configs for both sources,
a scan through the real CLI with its drafts parsed back, and the checks that hold whatever
the event text."""

from __future__ import annotations

import email
import email.policy
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from builders import DRAFT_HEADERS, google_toml
from hostile_events import CONTROL_TITLE, ME

from calbot.cli.main import main

SCOPES = ["calendar.events", "gmail.compose"]
# What event text must never bring to a terminal or into --json: C0 controls but the layout
# ones, DEL, C1 (\x9b is a one-byte CSI), line separators and bidi controls ("Trojan Source").
TERMINAL_CONTROLS = (
    *(chr(c) for c in range(0x20) if chr(c) not in "\t\n"),
    "\x7f",
    *(chr(c) for c in range(0x80, 0xA0)),
    *"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u2028\u2029",
)

# act_at 30: an in-person two-hour meeting of a low-tier client is acted on (a call) even
# with an agenda, so every hostile event that survives gets a draft
CLIENTS = """
[thresholds]
act_at = 30

[[clients]]
name = "Acme"
domains = ["acme.example"]
tier = "low"

[[clients]]
name = "Hostile Ltd"
domains = ["hostile.example"]
tier = "low"
"""


def google_config(tmp: Path, google: Any, *, outputs: str = "", clients: str = CLIENTS) -> Path:
    token = tmp / "token.json"
    if not token.exists():
        google.write_token(token, SCOPES)
    config = tmp / "calbot.toml"
    config.write_text(
        google_toml(google.root, token, tmp / "client_secret.json", user='signature = "Me"')
        + f"""
[outputs]
gmail_drafts = true
calendar_notes = false
outbox = ""
{outputs}

[limits]
retry_budget_seconds = 5
lock_wait_seconds = 1
{clients}""",
        encoding="utf-8",
    )
    return config


def ics_config(tmp: Path, calendar: bytes) -> Path:
    cal = tmp / "cal.ics"
    cal.write_bytes(calendar)
    config = tmp / "calbot.toml"
    config.write_text(
        f"""
[user]
email = "{ME}"
name = "Me Myself"
timezone = "Europe/Berlin"
own_domains = ["example.com"]
signature = "Me"

[source]
kind = "ics"
path = "{cal}"

[outputs]
outbox = "{tmp / "outbox"}"

[limits]
lock_wait_seconds = 1
{CLIENTS}""",
        encoding="utf-8",
    )
    return config


@dataclass
class Scan:
    code: int
    out: str  # the plain (piped) table
    err: str
    doc: dict[str, Any]  # the --json document of a dry run after it
    messages: list[EmailMessage]  # every stored draft, parsed back
    raw: list[bytes]


def run_scan(config: Path, capsys: Any, messages: Callable[[], list[bytes]]) -> Scan:
    out = io.StringIO()
    code = main(["scan", "--config", str(config)], out=out)
    err = capsys.readouterr().err
    raw = messages()
    parsed = [email.message_from_bytes(r, policy=email.policy.default) for r in raw]
    doc: dict[str, Any] = {}
    if code == 0:
        js = io.StringIO()
        assert main(["scan", "--config", str(config), "--json", "--dry-run"], out=js) == 0
        capsys.readouterr()
        doc = json.loads(js.getvalue())
    return Scan(code, out.getvalue(), err, doc, parsed, raw)  # type: ignore[arg-type]


def scan_ics(tmp_path: Path, capsys: Any, calendar: bytes) -> Scan:
    config = ics_config(tmp_path, calendar)
    outbox = tmp_path / "outbox"
    return run_scan(config, capsys, lambda: [p.read_bytes() for p in sorted(outbox.glob("*.eml"))])


def scan_google(tmp_path: Path, capsys: Any, google: Any) -> Scan:
    config = google_config(tmp_path, google)

    def drafts() -> list[bytes]:
        from fakes.gmail import unb64url

        return [unb64url(d["message"]["raw"]) for d in google.drafts.values()]

    return run_scan(config, capsys, drafts)


def to_of(msg: EmailMessage) -> list[str]:
    return [a.addr_spec for a in msg["To"].addresses]


def check_safe(scan: Scan) -> None:
    """What must hold whatever the event text: drafts are well-formed, the control meeting
    is drafted, the terminal gets no control sequence, the JSON parses."""
    assert scan.code == 0, scan.err
    assert "Traceback" not in scan.err
    for ch in TERMINAL_CONTROLS:
        assert ch not in scan.out, (ch, scan.out)
        assert ch not in scan.err, (ch, scan.err)
    for line in scan.err.splitlines():
        assert line.startswith("calbot: warning: "), line
    for raw, msg in zip(scan.raw, scan.messages, strict=True):
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert all(0x20 <= b < 0x7F or b in b"\r\n\t" for b in head), head  # 7-bit headers
        names = [k.lower() for k in msg]
        assert set(names) <= DRAFT_HEADERS, names
        assert len(names) == len(set(names)), names  # each header once
        assert len(msg.get_all("To") or []) == 1 and len(to_of(msg)) == 1
        for value in msg.values():
            assert "\r" not in str(value) and "\n" not in str(value)
        assert not msg.defects, msg.defects
    control = [m for m in scan.messages if to_of(m) == ["ana@acme.example"]]
    assert len(control) == 1, [to_of(m) for m in scan.messages]
    assert CONTROL_TITLE in control[0]["Subject"]
    for meeting in scan.doc["meetings"]:
        if meeting["draft"]:
            subject = meeting["draft"]["subject"]
            assert "\n" not in subject and "\r" not in subject


def hostile_message(scan: Scan) -> EmailMessage:
    (msg,) = [m for m in scan.messages if to_of(m) == ["olivia@hostile.example"]]
    return msg
