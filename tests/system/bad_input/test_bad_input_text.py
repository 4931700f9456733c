"""Hostile event text stays data, from both sources (an .ics file and the fake Google
server): no extra mail header, one To, the template payload appears literally and is never
evaluated, and no control sequence from event text reaches the terminal."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from email.message import EmailMessage

import pytest
from bad_input_rig import (
    TERMINAL_CONTROLS,
    Scan,
    check_safe,
    google_config,
    hostile_message,
    ics_config,
    scan_google,
    scan_ics,
)
from hostile_events import Hostile, add_google_events, ics_calendar

from calbot.cli.main import main

HOSTILE_CONTROLS = "\x1b[2J\x1b]0;owned\x07Plan\r\x1b[31mred\x9b0m\x90x\x9c\x7f\u202eexe.txt\u2028"


def body_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


# --- events: hostile text is data -------------------------------------------------------------

# name -> (payload, what must appear literally in the subject, what must never appear)
TEXT_PAYLOADS: dict[str, tuple[str, str, str]] = {
    "jinja_expression": ("Plan {{ 7*7 }} ok", "{{ 7*7 }}", "49"),
    "jinja_raw_block": ("Plan {% raw %}x{% endraw %} {% raw %} ok", "{% raw %}x{% endraw %}", ""),
    "jinja_statement": ("{% for x in range(9) %}X{% endfor %}", "{% for x in range(9) %}", "XX"),
    "jinja_sandbox_escape": (
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ''.__class__",
        "<class",
    ),
    "format_attr": ("Plan {0.__class__} {title}", "{0.__class__} {title}", "<class"),
    "percent_format": ("Plan %(x)s %s %d", "%(x)s %s %d", ""),
    # the stdlib's header parser decodes encoded words in a str value: CR LF + Bcc
    "rfc2047_encoded_word": (
        "Plan =?utf-8?q?=0D=0ABcc:_evil@attacker.example=0D=0AX-Injected:_yes?= ok",
        "Bcc:_evil@attacker.example",
        "",
    ),
    "crlf_header": ("Review\r\nBcc: evil@attacker.example\r\nX-Injected: yes", "Bcc:", ""),
    "lf_header_and_body": ("Review\nSubject: owned\n\nfake body", "Subject: owned", ""),
    "emoji": ("Kickoff 😀🎉 👩‍👩‍👧 ok", "😀🎉 👩‍👩‍👧", ""),
    "rtl": ("مراجعة المشروع \u202etxt.exe \u200f שלום", "مراجعة المشروع", ""),
    "html": ("<script>alert(1)</script><b>Plan</b>", "<script>alert(1)</script>", ""),
    "terminal_escape": ("\x1b[31mRed\x1b[0m\x07\x1b]0;owned\x07 plan\x9b2J", "Red", ""),
}


def hostile_from(payload: str) -> Hostile:
    # the payload in every text field the event has: title, description, location, the
    # organizer's and attendees' display names
    return Hostile(
        title=payload,
        name=payload,
        description=f"Agenda:\n{payload}\n<script>alert('x')</script>",
        location=f"Hostile HQ {payload}",
        attendees=2,
    )


def check_payload(scan: Scan, literal: str, never: str) -> None:
    check_safe(scan)
    msg = hostile_message(scan)
    subject = str(msg["Subject"])
    body = body_of(msg)
    assert literal in subject, subject
    assert literal in body, body
    if never:
        assert never not in subject and never not in body, (subject, body)
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    drafted = [m for m in scan.doc["meetings"] if m["event_id"].startswith("hostile")]
    assert len(drafted) == 1
    # modulo whitespace: CPython's header folder can drop the space between two encoded
    # words next to a bidi mark (U+200F), a cosmetic quirk of the stdlib
    assert drafted[0]["draft"]["subject"].split() == subject.split() or (
        "".join(drafted[0]["draft"]["subject"].split()) == "".join(subject.split())
    )


@pytest.mark.parametrize("case", list(TEXT_PAYLOADS), ids=list(TEXT_PAYLOADS))
def test_hostile_text_from_ics_stays_data(case, tmp_path, capsys):
    payload, literal, never = TEXT_PAYLOADS[case]
    scan = scan_ics(tmp_path, capsys, ics_calendar(hostile_from(payload)))
    check_payload(scan, literal, never)


@pytest.mark.parametrize("case", list(TEXT_PAYLOADS), ids=list(TEXT_PAYLOADS))
def test_hostile_text_from_google_stays_data(case, tmp_path, capsys, google):
    payload, literal, never = TEXT_PAYLOADS[case]
    add_google_events(google, hostile_from(payload))
    scan = scan_google(tmp_path, capsys, google)
    check_payload(scan, literal, never)


# --- the terminal, for real: a piped subprocess ---------------------------------------------------


def test_piped_scan_prints_no_control_sequences(tmp_path, google):
    payload = HOSTILE_CONTROLS
    add_google_events(google, hostile_from(payload))
    gdir, idir = tmp_path / "g", tmp_path / "i"
    gdir.mkdir()
    idir.mkdir()
    configs = [google_config(gdir, google), ics_config(idir, ics_calendar(hostile_from(payload)))]
    for config in configs:
        env = dict(os.environ, CALBOT_STATE_DIR=str(config.parent / "state"))
        for extra in ([], ["--json", "--dry-run"]):
            r = subprocess.run(
                [sys.executable, "-m", "calbot", "scan", "--config", str(config), *extra],
                capture_output=True,
                env=env,
                timeout=60,
            )
            assert r.returncode == 0, r.stderr
            out, err = r.stdout.decode(), r.stderr.decode()
            for ch in TERMINAL_CONTROLS:  # the JSON escapes them as \uXXXX too
                assert ch not in out and ch not in err, (ch, out, err)
            if extra:
                doc = json.loads(out)
                (hostile,) = [m for m in doc["meetings"] if m["event_id"].startswith("hostile")]
                assert hostile["summary"] == payload  # escaped, not lost
            else:
                assert "Plan" in out


def test_explain_prints_no_control_sequences(tmp_path, capsys):
    uid = "hostile-\x1b]0;owned\x07-\x9b2J-\u202e"
    h = Hostile(title=HOSTILE_CONTROLS, name=HOSTILE_CONTROLS, uid="hostile-x")
    cal = ics_calendar(h).replace(b"UID:hostile-x", f"UID:{uid}".encode())
    config = ics_config(tmp_path, cal)
    assert main(["scan", "--config", str(config)], out=io.StringIO()) == 0
    out = io.StringIO()
    assert main(["explain", "--config", str(config), uid], out=out) == 0
    err = capsys.readouterr().err
    text = out.getvalue()
    assert "Plan" in text and "owned" in text  # the text is shown, made harmless
    for ch in TERMINAL_CONTROLS:
        assert ch not in text and ch not in err, (ch, text)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_terminal_table_prints_no_control_sequences_from_events(tmp_path, capsys):
    """On a terminal the table is drawn by rich (its own colour codes are fine): none of
    the event's sequences get through, and "[...]" in a title is not read as markup."""
    title = "[bold red]markup[/] " + HOSTILE_CONTROLS
    config = ics_config(tmp_path, ics_calendar(Hostile(title=title)))
    out = Terminal()
    assert main(["scan", "--config", str(config)], out=out) == 0
    text = out.getvalue()
    assert "[bold" in text and "markup" in text  # shown as text (wrapped in its cell)
    # the event's own sequences are gone (their printable rest is harmless text)
    for seq in ("\x1b]", "\x1b[2J", "\x1b[31mred", "\x07", "\x9b", "\x90", "\x7f", "\u202e", "\r"):
        assert seq not in text, (seq, text)
