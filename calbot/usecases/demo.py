"""`calbot demo`: a full scan of a bundled sample week, no Google account needed.

The week is package data (`data/demo.ics`, `data/demo.toml`); its dates are placeholders
filled relative to today, so the demo always shows the coming week.
"""

from __future__ import annotations

import tempfile
import tomllib
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from calbot.adapters.memory_state import MemoryStore
from calbot.config.loader import parse_settings
from calbot.config.settings import Settings
from calbot.usecases.scan import Progress, quiet
from calbot.usecases.wiring import ScanRun, scan

DAYS = ("MON", "TUE", "WED", "THU", "FRI")
DEMO_TIMEZONE = "Europe/Berlin"  # the demo user's zone (data/demo.toml)


def demo_monday(today: date) -> date:
    """The Monday of next week: far enough ahead for every action, rescheduling included."""
    return today + timedelta(days=7 - today.weekday())


def demo_calendar(today: date) -> str:
    monday = demo_monday(today)
    text = resources.files("calbot").joinpath("data/demo.ics").read_text(encoding="utf-8")
    marks = {f"@{name}@": monday + timedelta(days=i) for i, name in enumerate(DAYS)}
    marks["@SERIES@"] = monday + timedelta(days=1 - 21)  # a weekly series begun 3 weeks ago
    for mark, day in marks.items():
        text = text.replace(mark, f"{day:%Y%m%d}")
    return text


def demo_settings(calendar_path: Path, outbox: Path, now: datetime) -> Settings:
    raw = resources.files("calbot").joinpath("data/demo.toml").read_text(encoding="utf-8")
    data: dict[str, Any] = tomllib.loads(raw)
    data["source"]["path"] = str(calendar_path)
    data["outputs"]["outbox"] = str(outbox)
    return parse_settings(data, path="<demo config>", now=now, check_templates=False)


def write_demo_calendar(folder: Path, today: date) -> Path:
    path = folder / "demo-week.ics"
    path.write_text(demo_calendar(today), encoding="utf-8")
    return path


def run_demo(outbox: Path, now: datetime, progress: Progress = quiet) -> tuple[ScanRun, Settings]:
    """Scan the sample week as of `now`, drafts to `outbox`.

    The demo keeps no state store: a rerun finds its earlier drafts in the outbox by their
    Message-ID and leaves them as they are.
    """
    with tempfile.TemporaryDirectory(prefix="calbot-demo-") as tmp:
        calendar = write_demo_calendar(Path(tmp), now.date())
        settings = demo_settings(calendar, outbox, now)
        run = scan(settings, Path(tmp), now=now, progress=progress, store=MemoryStore())
    return run, settings
