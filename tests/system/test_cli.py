"""The command line as a user meets it: real subprocesses for the sacred paths, `main()`
in-process for the rest."""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from builders import DEMO_CLIENTS

from calbot.adapters.lock import StateLock
from calbot.cli.main import build_parser, main
from calbot.usecases.demo import demo_calendar

ROOT = Path(__file__).resolve().parents[2]


def calbot(*args, env=None, cwd=None, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "calbot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture
def home(tmp_path):
    env = dict(os.environ)
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"),
        XDG_DATA_HOME=str(tmp_path / "home" / ".local" / "share"),
        CALBOT_STATE_DIR=str(tmp_path / "state"),
    )
    env.pop("CALBOT_CONFIG", None)
    return env


def ics_config(tmp_path: Path, calendar_text: str, **outputs) -> Path:
    cal = tmp_path / "cal.ics"
    cal.write_text(calendar_text, encoding="utf-8")
    outbox = outputs.get("outbox", str(tmp_path / "outbox"))
    config = tmp_path / "calbot.toml"
    config.write_text(
        f"""
[user]
email = "alex@studio.example"
name = "Alex Doe"
timezone = "Europe/Berlin"
own_domains = ["studio.example"]
signature = "Alex"

[source]
kind = "ics"
path = "{cal}"

[outputs]
gmail_drafts = false
calendar_notes = false
outbox = "{outbox}"

[limits]
lock_wait_seconds = 0.5

{DEMO_CLIENTS}""",
        encoding="utf-8",
    )
    return config


def test_every_command_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert p.description or any(c.dest == name and c.help for c in sub._choices_actions), name
        assert any(c.dest == name and c.help for c in sub._choices_actions), name


def test_help_is_fast_to_import_and_does_not_load_heavy_libraries():
    heavy = "('googleapiclient', 'dateparser', 'jinja2', 'rich', 'icalendar')"
    code = f"import sys, calbot.cli.main; print(','.join(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_demo_piped_prints_a_plain_table_and_where_the_drafts_are(tmp_path, home):
    r = calbot("demo", "--outbox", str(tmp_path / "box"), env=home)
    assert r.returncode == 0, r.stderr
    assert "\x1b[" not in r.stdout  # no terminal codes when piped
    assert "reschedule" in r.stdout and "boundary" in r.stdout
    assert str(tmp_path / "box") in r.stdout
    assert len(list((tmp_path / "box").glob("*.eml"))) == 6


def test_demo_json_is_the_result_document(tmp_path, home):
    r = calbot("demo", "--json", "--outbox", str(tmp_path / "box"), env=home)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) >= {"generated_at", "window", "meetings", "stats"}
    actions = {m["action"] for m in doc["meetings"]}
    assert actions == {"none", "delegate", "call", "email", "shorten", "reschedule", "boundary"}
    for m in doc["meetings"]:
        assert 0 <= m["score"] <= 100
        assert m["start"][-6] in "+-"  # ISO-8601 with offset
        if m["draft"]:
            assert Path(m["draft"]["outbox_path"]).is_file()


def test_scan_without_config_points_to_init_and_demo(home):
    r = calbot("scan", env=home)
    assert r.returncode == 2
    assert "calbot init" in r.stderr and "calbot demo" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_init_writes_a_config_that_validates_and_will_not_overwrite(tmp_path, home):
    cfg = tmp_path / "new" / "calbot.toml"
    assert main(["init", "--config", str(cfg)]) == 0
    from calbot.config.loader import load_settings

    assert load_settings(cfg).user.email
    assert main(["init", "--config", str(cfg)]) == 2


def test_bad_config_is_one_line_exit_2(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[user]\nemail = "me@x.example"\ntimezone = "Mars/Base"\n', encoding="utf-8")
    assert main(["scan", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "user.timezone" in err and str(cfg) in err and err.count("\n") == 1


def test_scan_writes_drafts_and_state_then_rerun_is_quiet(tmp_path, home, monkeypatch):
    cfg = ics_config(tmp_path, demo_calendar(__import__("datetime").date.today()))
    r = calbot("scan", "--config", str(cfg), "--json", env=home)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["stats"]["drafted"] >= 5
    state = tmp_path / "state"
    assert state.is_dir() and (state.stat().st_mode & 0o777) == 0o700
    r2 = calbot("scan", "--config", str(cfg), "--json", env=home)
    doc2 = json.loads(r2.stdout)
    assert doc2["stats"]["drafted"] == 0
    assert {m["draft"]["status"] for m in doc2["meetings"] if m["draft"]} == {"unchanged"}


def test_dry_run_writes_nothing_anywhere(tmp_path, home):
    cfg = ics_config(tmp_path, demo_calendar(__import__("datetime").date.today()))
    r = calbot("scan", "--config", str(cfg), "--dry-run", "--json", env=home)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {m["draft"]["status"] for m in doc["meetings"] if m["draft"]} == {"dry_run"}
    assert not (tmp_path / "state").exists()
    assert not (tmp_path / "outbox").exists()


def test_second_scan_waits_then_exits_75(tmp_path, home):
    cfg = ics_config(tmp_path, demo_calendar(__import__("datetime").date.today()))
    with StateLock(tmp_path / "state", wait_seconds=0):
        r = calbot("scan", "--config", str(cfg), env=home)
    assert r.returncode == 75
    assert "another calbot" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "outbox").exists()


def test_explain_shows_factors_action_and_draft(tmp_path, home):
    cfg = ics_config(tmp_path, demo_calendar(__import__("datetime").date.today()))
    r = calbot("explain", "demo-northwind-pricing@studio.example", "--config", str(cfg), env=home)
    assert r.returncode == 0, r.stderr
    assert "day_load" in r.stdout and "action:  reschedule" in r.stdout and "Subject:" in r.stdout
    assert not (tmp_path / "state").exists()  # explain writes nothing
    r = calbot("explain", "nope", "--config", str(cfg), env=home)
    assert r.returncode == 2 and "no client meeting" in r.stderr


def test_explain_takes_the_short_id_the_table_shows(tmp_path, home):
    cfg = ics_config(tmp_path, demo_calendar(__import__("datetime").date.today()))
    r = calbot("scan", "--dry-run", "--config", str(cfg), env=home)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split("\t")[0] == "id"
    row = next(line.split("\t") for line in lines if "Northwind pricing" in line)
    r = calbot("explain", row[0], "--config", str(cfg), env=home)
    assert r.returncode == 0, r.stderr
    assert "Northwind pricing questions" in r.stdout and "action:  reschedule" in r.stdout


HOSTILE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:hostile-1
DTSTAMP:20261101T000000Z
DTSTART;TZID=Europe/Berlin:{day}T180000
DTEND;TZID=Europe/Berlin:{day}T200000
SUMMARY:Review\\r\\nBcc: evil@attacker.example\\nX-Injected: yes {{{{ 7*7 }}}} 😀 مراجعة
DESCRIPTION:{{% for x in range(10**9) %}}x{{% endfor %}} {{{{ ''.__class__.__mro__ }}}} {big}
LOCATION:Northwind HQ\\, {esc}[31mRed{esc}[0m
ORGANIZER;CN="Evil\\r\\nBcc: x@y.example":mailto:oliver@northwind.example
ATTENDEE;CN="Oliver\\nBcc: z@y.example";PARTSTAT=ACCEPTED:mailto:oliver@northwind.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:alex@studio.example
END:VEVENT
END:VCALENDAR
"""


def test_hostile_event_text_is_data(tmp_path, home):
    from datetime import date, timedelta

    day = date.today() + timedelta(days=8)
    text = HOSTILE.format(day=f"{day:%Y%m%d}", big="A" * (1024 * 1024), esc="\x1b")
    cfg = ics_config(tmp_path, text)
    r = calbot("scan", "--config", str(cfg), "--json", env=home)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    (meeting,) = doc["meetings"]
    assert meeting["action"] == "call"
    draft = meeting["draft"]
    assert "49" not in draft["subject"] and "{{ 7*7 }}" in draft["subject"]
    assert "\n" not in draft["subject"] and "\r" not in draft["subject"]
    raw = Path(draft["outbox_path"]).read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    assert len(msg.get_all("To")) == 1
    assert [a.addr_spec for a in msg["To"].addresses] == ["oliver@northwind.example"]
    # and the plain table never carries terminal escapes from event text
    r = calbot("scan", "--config", str(cfg), "--dry-run", env=home)
    assert r.returncode == 0 and "\x1b" not in r.stdout


def test_broken_template_override_stops_the_scan_before_reading(tmp_path, home):
    overrides = tmp_path / "tpl"
    overrides.mkdir()
    (overrides / "call.en.txt.j2").write_text("Subject: x\n\n{% if %}\n", encoding="utf-8")
    cfg = ics_config(tmp_path, "not even a calendar")
    text = cfg.read_text(encoding="utf-8").replace(
        "[outputs]\n", f'[outputs]\ntemplates_dir = "{overrides}"\n'
    )
    cfg.write_text(text, encoding="utf-8")
    r = calbot("scan", "--config", str(cfg), env=home)
    assert r.returncode == 2
    assert "call.en.txt.j2" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_terminal_table_treats_event_text_as_text(tmp_path, monkeypatch):
    """rich reads "[...]" as markup; a title like "[/]" must not crash the table."""
    import io
    from dataclasses import replace
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from calbot.cli.main import show
    from calbot.usecases.demo import run_demo

    now = datetime(2026, 11, 25, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    run, settings = run_demo(tmp_path / "box", now)
    o = run.result.outcomes[0]
    o.meeting = replace(o.meeting, event=replace(o.meeting.event, summary="[/] [bold]x[/bold]"))

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    show(run, settings, out, as_json=False)
    assert "[/]" in out.getvalue() and "[bold]x" in out.getvalue()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("thứ hai tuần sau", "chủ nhật tuần sau"),
        ("isnin depan", "dalam 2 minggu"),
        ("next monday", "in 2 weeks"),
    ],
)
def test_scan_window_in_three_languages(tmp_path, home, start, end):
    from datetime import date, timedelta

    cfg = ics_config(tmp_path, demo_calendar(date.today()))
    r = calbot(
        "scan", "--config", str(cfg), "--dry-run", "--json", "--from", start, "--to", end, env=home
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    monday = date.today() + timedelta(days=7 - date.today().weekday())
    assert doc["window"]["from"].startswith(monday.isoformat())
    assert any(m["action"] == "reschedule" for m in doc["meetings"])


def test_unreadable_when_is_a_usage_error(tmp_path, home):
    from datetime import date

    cfg = ics_config(tmp_path, demo_calendar(date.today()))
    r = calbot("scan", "--config", str(cfg), "--dry-run", "--from", "blorp", env=home)
    assert r.returncode == 2 and "blorp" in r.stderr and "Traceback" not in r.stderr
