"""The `--json` document of two fixed scans, for the golden files in tests/data/golden/:
the demo week and the same week with hostile text in every title and description (bidi
overrides, C1 controls, DEL, line separators, joiners, non-ASCII words, quotes and
backslashes). Both at a fixed clock, so a rerun on any commit gives the same document.

    python tests/json_golden.py   # rewrites the golden files (only on the parent commit)
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from calbot.adapters.memory_state import MemoryStore
from calbot.usecases.demo import demo_calendar, demo_settings
from calbot.usecases.wiring import scan

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
GOLDEN = Path(__file__).parent / "data" / "golden"
# every unsafe class beside text that must stay as it is (ICS escapes: \\ \, \; \n)
HOSTILE = (
    " \u202eevil\u202c \u2066iso\u2069 C1\u0085\u009b DEL\x7f LS\u2028PS\u2029"
    ' "quoted" back\\\\slash \u00a0nbsp Cập nhật Tiếng Việt 👩\u200d💻 zw\u200cnj'
    " 日本語 \u200bzwsp\ufeffbom"
)


def hostile_calendar(text: str) -> str:
    return re.sub(r"^(SUMMARY|DESCRIPTION):(.*)$", rf"\1:\2{HOSTILE}", text, flags=re.M)


def documents(write: Callable[[dict[str, object]], str]) -> dict[str, str]:
    """name → the JSON text `write` makes of that scan's document, the outbox path
    replaced by <outbox> (it is a fresh temp dir each run)."""
    from calbot.present.render import result_doc

    out = {}
    for name, calendar in (
        ("demo", demo_calendar(NOW.date())),
        ("hostile", hostile_calendar(demo_calendar(NOW.date()))),
    ):
        with tempfile.TemporaryDirectory(prefix="calbot-golden-") as tmp:
            folder = Path(tmp)
            path = folder / "week.ics"
            path.write_text(calendar, encoding="utf-8")
            settings = demo_settings(path, folder / "outbox", NOW)
            run = scan(settings, folder, now=NOW, store=MemoryStore())
            doc = result_doc(run.result, run.outbox_paths, settings.user.language)
            text = write(doc)
            out[name] = text.replace(json.dumps(str(folder / "outbox"))[1:-1], "<outbox>")
    return out


def main() -> None:
    from calbot.core.untrusted import json_escaped  # the writer of the parent commit

    docs = documents(lambda d: json_escaped(json.dumps(d, ensure_ascii=False, indent=2)))
    for name, text in docs.items():
        (GOLDEN / f"scan-{name}.json").write_text(text + "\n", encoding="utf-8")
        print(f"wrote {GOLDEN / f'scan-{name}.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
