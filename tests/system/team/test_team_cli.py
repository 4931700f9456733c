"""`calbot` in a fresh process: registering `calbot team` loads none of the team extra, and
with the extra's packages absent `calbot team` says how to install them (exit 2)."""

from __future__ import annotations

import subprocess
import sys

TEAM_PACKAGES = ("celery", "kombu", "psycopg", "redis", "cryptography")

BLOCK = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {TEAM_PACKAGES!r}:
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Block())
from calbot.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK, *args], capture_output=True, text=True, timeout=60
    )


def test_building_the_cli_loads_nothing_of_the_team_extra() -> None:
    code = (
        "import sys; from calbot.cli.main import build_parser; build_parser(); "
        f"print(','.join(m for m in {TEAM_PACKAGES!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_without_the_extra_calbot_team_is_one_line_exit_2() -> None:
    done = run("team", "check")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1
    assert "pip install 'calbot[team]'" in done.stderr
    assert run("--help").returncode == 0  # the single-user CLI still works
