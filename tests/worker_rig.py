"""What the worker tests (`tests/system/worker/`) share: the time zone and scopes, and the
config that scans every second."""

from __future__ import annotations

from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/Berlin")
SCOPES = ["calendar.events", "gmail.compose"]


# The tables after the shared Google head (builders.google_toml).
CONFIG = """
[outputs]
gmail_drafts = true
calendar_notes = true
outbox = ""

[schedule]
scan_every = "1 second"
digest_at = "07:30"

[limits]
http_timeout_seconds = 5
retry_budget_seconds = 0.01
lock_wait_seconds = 1

[[clients]]
name = "Acme"
domains = ["acme.example"]
timezone = "Europe/London"
"""
