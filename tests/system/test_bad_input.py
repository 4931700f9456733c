"""The bad-input matrix: hostile configs and hostile events, through the
real CLI.

Config: every broken config stops `calbot scan` with exit 2 and exactly one stderr line naming
the file, the key and the reason, before any request reaches the (fake) Google server.

Events: every hostile event goes through a full scan from both sources (an .ics file and the
fake Google server). A broken event is skipped with a warning naming it while the other
meetings are still drafted; hostile text stays data: no extra mail header, one To, the
template payload appears literally and is never evaluated, and no control sequence from event
text reaches the terminal.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from builders import DRAFT_HEADERS, GOOGLE_USER, google_toml

from calbot.cli.main import main

TZ = ZoneInfo("Europe/Berlin")
SCOPES = ["calendar.events", "gmail.compose"]
ME = GOOGLE_USER  # the address google_toml configures
CONTROL_TITLE = "Acme quarterly planning"
# What event text must never bring to a terminal or into --json: C0 controls but the layout
# ones, DEL, C1 (\x9b is a one-byte CSI), line separators and bidi controls ("Trojan Source").
TERMINAL_CONTROLS = (
    *(chr(c) for c in range(0x20) if chr(c) not in "\t\n"),
    "\x7f",
    *(chr(c) for c in range(0x80, 0xA0)),
    *"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u2028\u2029",
)
HOSTILE_CONTROLS = "\x1b[2J\x1b]0;owned\x07Plan\r\x1b[31mred\x9b0m\x90x\x9c\x7f\u202eexe.txt\u2028"


def next_tuesday() -> date:
    today = datetime.now(TZ).date()
    return today + timedelta(days=7 - today.weekday() + 1)


DAY = next_tuesday()


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("CALBOT_CONFIG", raising=False)
    return tmp_path / "state"


# --- configs ----------------------------------------------------------------------------------

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


# --- config matrix ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BadConfig:
    edit: Callable[[str], str]
    key: str  # the dotted key the message must name ("" for the whole file)
    reason: str  # a fragment of the reason
    template: str = ""  # a broken override: (file name, text)
    template_text: str = ""


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return edit


CONFIG_MATRIX = {
    "malformed_toml": BadConfig(_replace("[limits]", "[limits"), "", "not valid TOML"),
    "unknown_key": BadConfig(
        _replace("[limits]", "[limits]\nlock_wait_secs = 3"),
        "limits.lock_wait_secs",
        "did you mean 'lock_wait_seconds'?",
    ),
    "wrong_type_number": BadConfig(
        _replace("[limits]", '[limits]\nhttp_timeout_seconds = "thirty"'),
        "limits.http_timeout_seconds",
        "expected a number, got 'thirty'",
    ),
    "wrong_type_list": BadConfig(
        _replace('own_domains = ["example.com"]', 'own_domains = "example.com"'),
        "user.own_domains",
        "expected a list",
    ),
    "wrong_type_table": BadConfig(
        _replace("[limits]", "[[limits]]"),
        "limits",
        "expected a [limits] table, got a list",
    ),
    "bad_timezone": BadConfig(
        _replace('timezone = "Europe/Berlin"', 'timezone = "Europe/Berlln"'),
        "user.timezone",
        "unknown timezone 'Europe/Berlln' (did you mean 'Europe/Berlin'?)",
    ),
    "working_hours_inverted": BadConfig(
        _replace('signature = "Me"', 'signature = "Me"\nworking_hours = "18:00-09:00"'),
        "user.working_hours",
        "start 18:00 is not before end 09:00",
    ),
    "empty_clients": BadConfig(
        lambda text: text.split("[[clients]]")[0], "clients", "no [[clients]]"
    ),
    "unknown_language": BadConfig(
        _replace('tier = "low"', 'tier = "low"\nlanguage = "fr"'),
        "clients[0].language",
        "unknown language 'fr'",
    ),
    "template_syntax_error": BadConfig(
        lambda t: t,
        "outputs.templates_dir",
        "line 3: syntax error",
        template="call.en.txt.j2",
        template_text="Subject: {{ title }}\n\n{% if %}\n",
    ),
    "template_unknown_variable": BadConfig(
        lambda t: t,
        "outputs.templates_dir",
        "unknown variable: secret_key",
        template="shorten.vi.txt.j2",
        template_text="Subject: {{ title }}\n\nHi {{ secret_key }}\n",
    ),
    "template_unknown_name": BadConfig(
        lambda t: t,
        "outputs.templates_dir",
        "unknown template name",
        template="reschedul.en.txt.j2",
        template_text="Subject: x\n\nbody\n",
    ),
}


@pytest.mark.parametrize("case", list(CONFIG_MATRIX), ids=list(CONFIG_MATRIX))
def test_bad_config_is_one_line_exit_2_before_any_request(case, google, tmp_path, capsys):
    bad = CONFIG_MATRIX[case]
    outputs = ""
    where = tmp_path / "calbot.toml"
    if bad.template:
        folder = tmp_path / "templates"
        folder.mkdir()
        (folder / bad.template).write_text(bad.template_text, encoding="utf-8")
        outputs = f'templates_dir = "{folder}"'
        where = folder / bad.template
    # an expired token: a scan that reached Google would have to refresh it first
    google.write_token(tmp_path / "token.json", SCOPES, expired=True)
    config = google_config(tmp_path, google, outputs=outputs)
    config.write_text(bad.edit(config.read_text(encoding="utf-8")), encoding="utf-8")

    out = io.StringIO()
    code = main(["scan", "--config", str(config)], out=out)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith(f"calbot: {where}: ")
    if bad.key:
        assert f": {bad.key}: " in err, err
    assert bad.reason in err, err
    assert out.getvalue() == ""
    assert google.requests == []
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").iterdir())


# --- events: builders -------------------------------------------------------------------------


@dataclass
class Hostile:
    """One event with attacker-chosen text, for both sources."""

    title: str = "Hostile review"
    name: str = "Olivia"  # the organizer's display name (greeted in the draft)
    description: str = ""
    location: str = "Hostile HQ, 1 Main Street"
    uid: str = "hostile-1"
    attendees: int = 0  # extra hostile attendees
    start: tuple[int, int] | None = (14, 0)  # hour, minute on DAY
    end: tuple[int, int] | None = (16, 0)
    floating: bool = False  # a local time with no zone
    extra_ics: str = ""  # raw lines added to the VEVENT
    google: dict[str, Any] = field(default_factory=dict)  # raw overrides


def _ics_escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _ics_param(text: str) -> str:
    # A quoted parameter holds no '"' and no control character (RFC 5545 §3.1; the parser
    # drops such a line: see test_ics_unreadable_attendee_line_is_a_warning). Line breaks
    # go as RFC 6868's ^n, as a hostile calendar would write them.
    text = text.replace('"', "'").replace("\r\n", "^n").replace("\n", "^n")
    return '"' + "".join(ch for ch in text if ch >= " " and ch != "\x7f") + '"'


def _fold(line: str) -> str:
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    out, chunk = [], b""
    for ch in line:
        b = ch.encode("utf-8", "surrogatepass")
        if len(chunk) + len(b) > 74:
            out.append(chunk.decode("utf-8", "surrogatepass"))
            chunk = b""
        chunk += b
    out.append(chunk.decode("utf-8", "surrogatepass"))
    return "\r\n ".join(out)


def _stamp(hm: tuple[int, int]) -> str:
    return f"{DAY:%Y%m%d}T{hm[0]:02d}{hm[1]:02d}00"


def vevent(
    uid: str,
    title: str,
    org: str,
    org_name: str,
    start: tuple[int, int] | None,
    end: tuple[int, int] | None,
    *,
    description: str = "",
    location: str = "",
    attendees: int = 0,
    floating: bool = False,
    extra: str = "",
) -> str:
    tz = "" if floating else ";TZID=Europe/Berlin"
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
    ]
    if start:
        lines.append(f"DTSTART{tz}:{_stamp(start)}")
    if end:
        lines.append(f"DTEND{tz}:{_stamp(end)}")
    lines.append(f"SUMMARY:{_ics_escape(title)}")
    if description:
        lines.append(f"DESCRIPTION:{_ics_escape(description)}")
    if location:
        lines.append(f"LOCATION:{_ics_escape(location)}")
    lines.append(f"ORGANIZER;CN={_ics_param(org_name)}:mailto:{org}")
    lines.append(f"ATTENDEE;CN={_ics_param(org_name)};PARTSTAT=ACCEPTED:mailto:{org}")
    lines.append(f"ATTENDEE;PARTSTAT=ACCEPTED:mailto:{ME}")
    domain = org.partition("@")[2]
    lines += [
        f"ATTENDEE;CN={_ics_param(f'{org_name} {i}')};PARTSTAT=NEEDS-ACTION:mailto:p{i}@{domain}"
        for i in range(attendees)
    ]
    if extra:
        lines.append(extra)
    lines.append("END:VEVENT")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def control_vevent() -> str:
    return vevent(
        "control-1",
        CONTROL_TITLE,
        "ana@acme.example",
        "Ana",
        (10, 0),
        (12, 0),
        location="Acme office, Berlin",
    )


def calendar_bytes(*events: str) -> bytes:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calbot tests//EN\r\n"
    return (head + "".join(events) + "END:VCALENDAR\r\n").encode("utf-8", "surrogatepass")


def ics_calendar(h: Hostile) -> bytes:
    hostile = vevent(
        h.uid,
        h.title,
        "olivia@hostile.example",
        h.name,
        h.start,
        h.end,
        description=h.description,
        location=h.location,
        attendees=h.attendees,
        floating=h.floating,
        extra=h.extra_ics,
    )
    return calendar_bytes(control_vevent(), hostile)


def google_time(hm: tuple[int, int], floating: bool = False) -> dict[str, str]:
    moment = datetime(DAY.year, DAY.month, DAY.day, hm[0], hm[1], tzinfo=TZ)
    if floating:
        return {"dateTime": moment.replace(tzinfo=None).isoformat()}
    return {"dateTime": moment.isoformat(), "timeZone": "Europe/Berlin"}


def google_event(
    title: str,
    org: str,
    org_name: str,
    start: tuple[int, int] | None,
    end: tuple[int, int] | None,
    *,
    description: str = "",
    location: str = "",
    attendees: int = 0,
    floating: bool = False,
) -> dict[str, Any]:
    domain = org.partition("@")[2]
    ev: dict[str, Any] = {
        "summary": title,
        "organizer": {"email": org, "displayName": org_name},
        "attendees": [
            {
                "email": org,
                "displayName": org_name,
                "organizer": True,
                "responseStatus": "accepted",
            },
            {"email": ME, "self": True, "responseStatus": "accepted"},
            *(
                {"email": f"p{i}@{domain}", "displayName": f"{org_name} {i}"}
                for i in range(attendees)
            ),
        ],
    }
    if start:
        ev["start"] = google_time(start, floating)
    if end:
        ev["end"] = google_time(end, floating)
    if description:
        ev["description"] = description
    if location:
        ev["location"] = location
    return ev


def add_google_events(google: Any, h: Hostile) -> str:
    google.user_email = ME
    google.add_event(
        id="control1",
        **google_event(
            CONTROL_TITLE,
            "ana@acme.example",
            "Ana",
            (10, 0),
            (12, 0),
            location="Acme office, Berlin",
        ),
    )
    ev = google_event(
        h.title,
        "olivia@hostile.example",
        h.name,
        h.start or (14, 0),
        h.end,
        description=h.description,
        location=h.location,
        attendees=h.attendees,
        floating=h.floating,
    )
    ev.update(h.google)
    added = google.add_event(id="hostile1", **ev)
    if h.end is None:
        google.update_event("primary", "hostile1", end=None)  # no end at all
    return str(added["id"])


# --- events: running and checking -------------------------------------------------------------


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


def body_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def warnings_of(scan: Scan) -> list[str]:
    return [w for w in scan.doc.get("warnings", []) if "skipped" in w]


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


# --- events: broken events are skipped, the rest goes on ----------------------------------------


def test_ics_event_without_start_is_skipped_with_a_warning(tmp_path, capsys):
    scan = scan_ics(tmp_path, capsys, ics_calendar(Hostile(title="No start", start=None)))
    check_safe(scan)
    assert "hostile-1" in scan.err and "no DTSTART" in scan.err
    assert any("hostile-1" in w and "No start" in w for w in warnings_of(scan))
    assert len(scan.messages) == 1  # the control meeting only


def test_google_event_without_start_is_skipped_with_a_warning():
    """The fake (like Google) cannot serve a timed event without a start, so this one is
    checked at the adapter: it is a BadEvent naming the event."""
    from calbot.adapters.google.events import BadEvent, to_event

    for item in (
        {"id": "x1", "summary": "No start", "end": {"dateTime": "2026-03-10T10:00:00+01:00"}},
        {"id": "x1", "summary": "No start", "start": {}},
        {"id": "x1", "summary": "No start", "start": "2026-03-10"},
    ):
        with pytest.raises(BadEvent, match=r"'No start' \(id x1\): no start"):
            to_event(item, "primary", ME, "Europe/Berlin")


def test_ics_unreadable_attendee_line_is_a_warning(tmp_path, capsys):
    cal = ics_calendar(Hostile(title="Bell in a name", attendees=1))
    cal = cal.replace(b'ORGANIZER;CN="Olivia"', b'ORGANIZER;CN="Oli\x07via\x1b[2J"')
    cal = cal.replace(b'ATTENDEE;CN="Olivia"', b'ATTENDEE;CN="Oli\x07via"')
    scan = scan_ics(tmp_path, capsys, cal)
    check_safe(scan)
    warning = "ics: event 'hostile-1' 'Bell in a name': ignored unreadable ATTENDEE, ORGANIZER"
    assert warning in scan.err
    # the rest of the event is kept: its other hostile.example attendees still make it a
    # client meeting, and the draft goes to them
    (m,) = [m for m in scan.doc["meetings"] if m["event_id"] == "hostile-1"]
    assert m["draft"]["to"] == ["p0@hostile.example"]


def test_ics_event_ending_before_it_starts_is_skipped(tmp_path, capsys):
    h = Hostile(title="Backwards", start=(16, 0), end=(14, 0))
    scan = scan_ics(tmp_path, capsys, ics_calendar(h))
    check_safe(scan)
    assert "hostile-1" in scan.err and "ends before it starts" in scan.err
    assert len(scan.messages) == 1


def test_google_event_ending_before_it_starts_is_skipped(tmp_path, capsys, google):
    add_google_events(google, Hostile(title="Backwards", start=(16, 0), end=(14, 0)))
    scan = scan_google(tmp_path, capsys, google)
    check_safe(scan)
    assert "'Backwards' (id hostile1): ends before it starts" in scan.err
    assert len(scan.messages) == 1


def test_ics_event_without_end_is_a_zero_length_event(tmp_path, capsys):
    # RFC 5545 §3.6.1: a DTSTART date-time without DTEND/DURATION ends where it starts
    scan = scan_ics(tmp_path, capsys, ics_calendar(Hostile(title="Open end", end=None)))
    check_safe(scan)
    (m,) = [m for m in scan.doc["meetings"] if m["event_id"] == "hostile-1"]
    assert m["start"] == m["end"]


def test_google_event_without_end_is_a_zero_length_event(tmp_path, capsys, google):
    add_google_events(google, Hostile(title="Open end", end=None))
    assert "end" not in google.event("primary", "hostile1")
    scan = scan_google(tmp_path, capsys, google)
    check_safe(scan)
    (m,) = [m for m in scan.doc["meetings"] if m["event_id"] == "hostile1"]
    assert m["start"] == m["end"]


def test_ics_floating_time_is_read_in_the_users_zone(tmp_path, capsys):
    scan = scan_ics(tmp_path, capsys, ics_calendar(Hostile(title="Floating", floating=True)))
    check_safe(scan)
    (m,) = [m for m in scan.doc["meetings"] if m["event_id"] == "hostile-1"]
    expected = datetime(DAY.year, DAY.month, DAY.day, 14, tzinfo=TZ)
    assert datetime.fromisoformat(m["start"]) == expected


def test_google_datetime_without_offset_or_zone_is_read_in_the_users_zone(tmp_path, capsys, google):
    google.set_time_zone("primary", "Europe/Berlin")
    add_google_events(google, Hostile(title="Floating", floating=True))
    assert "timeZone" not in google.event("primary", "hostile1")["start"]
    scan = scan_google(tmp_path, capsys, google)
    check_safe(scan)
    (m,) = [m for m in scan.doc["meetings"] if m["event_id"] == "hostile1"]
    expected = datetime(DAY.year, DAY.month, DAY.day, 14, tzinfo=TZ)
    assert datetime.fromisoformat(m["start"]) == expected


def test_google_unreadable_times_are_skipped_with_a_warning(tmp_path, capsys, google):
    google.user_email = ME
    add_google_events(google, Hostile(title="Fine"))
    google.add_event(
        id="mixed1",
        summary="Date and time mixed",
        start={"date": DAY.isoformat()},
        end=google_time((12, 0)),
        attendees=[{"email": "olivia@hostile.example"}, {"email": ME}],
    )
    scan = scan_google(tmp_path, capsys, google)
    check_safe(scan)
    assert "'Date and time mixed' (id mixed1): start and end mix" in scan.err
    hostile_message(scan)  # the good hostile-client meeting is still drafted


# --- events: size -------------------------------------------------------------------------------


def test_ics_10000_attendees_and_1mb_description(tmp_path, capsys):
    h = Hostile(title="Town hall", attendees=10_000, description="D" * (1024 * 1024))
    scan = scan_ics(tmp_path, capsys, ics_calendar(h))
    check_safe(scan)
    msg = hostile_message(scan)
    assert len(msg.as_bytes()) < 20_000  # neither the crowd nor the description is copied


def test_google_10000_attendees_and_1mb_description(tmp_path, capsys, google):
    h = Hostile(title="Town hall", attendees=10_000, description="D" * (1024 * 1024))
    add_google_events(google, h)
    scan = scan_google(tmp_path, capsys, google)
    check_safe(scan)
    msg = hostile_message(scan)
    assert len(msg.as_bytes()) < 20_000


# --- events: text that is not valid Unicode -----------------------------------------------------


def test_google_lone_surrogates_are_data(tmp_path, capsys, google):
    # JSON "\ud800" is valid JSON and decodes to a lone surrogate, which no UTF-8 encoder
    # accepts (state store, .eml, stdout)
    h = Hostile(
        title="Plan \ud800 review \udfff",
        name="Oli\udc80via",
        description="x\ud83d",
        location="HQ \udbff",
    )
    add_google_events(google, h)
    scan = scan_google(tmp_path, capsys, google)
    check_safe(scan)
    msg = hostile_message(scan)
    assert "Plan" in str(msg["Subject"]) and "review" in str(msg["Subject"])
    json.dumps(scan.doc, ensure_ascii=False).encode("utf-8")


def test_ics_bytes_that_are_not_utf8(tmp_path, capsys):
    cal = calendar_bytes(
        control_vevent(),
        vevent(
            "hostile-1",
            "PLACEHOLDER",
            "olivia@hostile.example",
            "Olivia",
            (14, 0),
            (16, 0),
            location="Hostile HQ",
        ),
    )
    cal = cal.replace(
        b"PLACEHOLDER", b"Caf\xe9 \xff\xfe \xed\xa0\x80 review"
    )  # latin-1, junk, CESU
    scan = scan_ics(tmp_path, capsys, cal)
    check_safe(scan)
    msg = hostile_message(scan)
    assert "review" in str(msg["Subject"])
    json.dumps(scan.doc, ensure_ascii=False).encode("utf-8")


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


def test_a_template_that_fails_on_one_meetings_text_skips_only_that_meeting(tmp_path, capsys):
    """A user's template passes the load-time check (it renders the samples) but fails on
    one event's text: that meeting gets a warning naming it and the template, its existing
    draft is left alone, and the others are drafted."""
    config = ics_config(tmp_path, ics_calendar(Hostile(title="Hostile urgent review")))
    outbox = tmp_path / "outbox"
    assert main(["scan", "--config", str(config)], out=io.StringIO()) == 0
    before = {p.name: p.read_bytes() for p in outbox.glob("*.eml")}
    assert len(before) == 2
    capsys.readouterr()

    folder = tmp_path / "templates"
    folder.mkdir()
    for lang in ("en",):
        (folder / f"call.{lang}.txt.j2").write_text(
            "Subject: {{ title }}\n\n{% if 'urgent' in title %}{{ title.nope }}{% endif %}"
            "Could we talk by phone instead? {{ signature }}\n",
            encoding="utf-8",
        )
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("[outputs]\n", f'[outputs]\ntemplates_dir = "{folder}"\n'),
        encoding="utf-8",
    )
    js = io.StringIO()
    code = main(["scan", "--config", str(config), "--json"], out=js)
    err = capsys.readouterr().err
    assert code == 0, err
    doc = json.loads(js.getvalue())
    (warning,) = [w for w in doc["warnings"] if "no draft" in w]
    assert "hostile-1" in warning and "call.en.txt.j2" in warning and "nope" in warning
    after = {p.name: p.read_bytes() for p in outbox.glob("*.eml")}
    assert set(after) == set(before)  # the hostile meeting's draft is still there
    (hostile_name,) = [n for n in before if b"olivia@hostile.example" in before[n]]
    assert after[hostile_name] == before[hostile_name]  # and untouched
    control = [m for m in doc["meetings"] if m["event_id"] == "control-1"]
    assert control[0]["draft"]["status"] in ("updated", "unchanged")
