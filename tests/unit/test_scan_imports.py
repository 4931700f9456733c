"""A scan process loads only what a scan uses (issue 12: calbot's own imports are a good part
of an unchanged rescan's time). The modules below serve other commands, a dry run without a
store, or a failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from calbot.cli.run import LEVELS
from calbot.present import logs

NOT_FOR_A_SCAN = (
    "calbot.adapters.memory_state",  # a dry run's empty store
    "calbot.usecases.failures",  # exit codes of a failed command
    "calbot.usecases.doctor_check",  # `calbot doctor`
    "calbot.present.logs",  # `calbot run`
)


def test_parsing_a_command_and_opening_the_store_loads_none_of_them(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from calbot.cli.main import parse_args\n"
        "from calbot.adapters.sqlite import SqliteStore\n"
        "import calbot.usecases.wiring, calbot.usecases.scan, calbot.present.render\n"
        "parse_args(['scan', '--json'])\n"
        "SqliteStore.open(Path(sys.argv[1])).close()\n"
        f"print(','.join(m for m in {NOT_FOR_A_SCAN!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "state")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ""


def test_a_dry_run_without_a_store_still_reads_an_empty_one(tmp_path: Path) -> None:
    from calbot.adapters.sqlite import SqliteStore

    store = SqliteStore.open(tmp_path / "none", readonly=True)
    assert store.holds() == [] and not (tmp_path / "none").exists()


def test_the_run_command_offers_the_log_levels() -> None:
    assert LEVELS == logs.LEVELS
