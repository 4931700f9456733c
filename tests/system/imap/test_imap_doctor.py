"""`calbot doctor` with the IMAP sink on, against a real Dovecot: login, Drafts (and the right
to APPEND there), Sent; each failure with its fix and exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from servers import imap_server
from servers.imap_server import Dovecot

from calbot.config.loader import parse_settings
from calbot.config.settings import Settings
from calbot.errors import AUTH_FIXES
from calbot.usecases.doctor_check import exit_code_for
from calbot.usecases.doctor_imap import imap_checks


def settings(dovecot: Dovecot, tmp: Path, **imap: Any) -> Settings:
    return parse_settings(
        {
            "user": {"email": imap_server.USER, "timezone": "Europe/Berlin"},
            "source": {"kind": "ics", "path": str(tmp / "cal.ics")},
            "clients": [{"name": "Acme", "domains": ["acme.example"]}],
            "outputs": {"imap_drafts": True, "outbox": ""},
            "imap": {
                "host": "127.0.0.1",
                "port": dovecot.port,
                "username": imap_server.USER,
                "password_file": str(tmp / "nowhere"),
                "ca_file": str(dovecot.cert),
                **imap,
            },
            "limits": {"retry_budget_seconds": 2},
        },
        path="test.toml",
        check_templates=False,
    )


GOOD = {"CALBOT_IMAP_PASSWORD": imap_server.PASSWORD}


def test_all_green(dovecot, tmp_path):
    checks = imap_checks(settings(dovecot, tmp_path), env=GOOD)
    assert [c.name for c in checks] == ["IMAP login", "IMAP Drafts", "IMAP Sent"]
    assert all(c.ok and not c.warning for c in checks), checks
    assert "'Drafts' (marked \\Drafts)" in checks[1].detail and "read-write" in checks[1].detail


def test_wrong_password_is_exit_3_with_the_fix(dovecot, tmp_path):
    checks = imap_checks(settings(dovecot, tmp_path), env={"CALBOT_IMAP_PASSWORD": "nope"})
    assert len(checks) == 1 and not checks[0].ok
    assert exit_code_for(checks) == 3
    assert "$CALBOT_IMAP_PASSWORD" in checks[0].detail and "nope" not in checks[0].detail
    assert checks[0].fix == AUTH_FIXES["imap"]  # the same fix as the scan's


def test_a_missing_drafts_folder_is_named(dovecot, tmp_path):
    checks = imap_checks(settings(dovecot, tmp_path, drafts_folder="Entwürfe"), env=GOOD)
    drafts = {c.name: c for c in checks}["IMAP Drafts"]
    assert not drafts.ok and "drafts_folder" in drafts.fix
    assert exit_code_for(checks) == 2


def test_an_unverified_certificate_fails_the_login_check(dovecot, tmp_path):
    checks = imap_checks(settings(dovecot, tmp_path, ca_file=""), env=GOOD)
    assert len(checks) == 1 and not checks[0].ok
    assert "does not verify" in checks[0].detail and "ca_file" in checks[0].fix


def test_calbot_doctor_runs_the_imap_checks(dovecot, tmp_path):
    (tmp_path / "cal.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", encoding="utf-8")
    config = tmp_path / "calbot.toml"
    config.write_text(
        f"""
[user]
email = "{imap_server.USER}"
timezone = "Europe/Berlin"
[source]
kind = "ics"
path = "{tmp_path / "cal.ics"}"
[outputs]
imap_drafts = true
outbox = ""
[imap]
host = "127.0.0.1"
port = {dovecot.port}
username = "{imap_server.USER}"
ca_file = "{dovecot.cert}"
[[clients]]
name = "Acme"
domains = ["acme.example"]
""",
        encoding="utf-8",
    )
    env = dict(os.environ, CALBOT_IMAP_PASSWORD=imap_server.PASSWORD)
    env["CALBOT_STATE_DIR"] = str(tmp_path / "state")
    done = subprocess.run(
        [sys.executable, "-m", "calbot", "doctor", "--config", str(config)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert "IMAP login" in done.stdout and "IMAP Drafts" in done.stdout, done.stdout
    assert imap_server.PASSWORD not in done.stdout + done.stderr
