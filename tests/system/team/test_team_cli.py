"""`calbot` in a fresh process: registering `calbot team` loads none of the team extra, and
with the extra's packages absent `calbot team` says how to install them (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


def test_the_engine_refuses_a_bad_url_variable_in_one_line_exit_2(tmp_path: Path) -> None:
    """`celery -A calbot.team worker` with a bad `$CALBOT_BROKER_URL`: one line naming the
    variable, exit 2, before any banner, the password never shown."""
    config = tmp_path / "team.toml"
    config.write_text(
        '[team]\ndatabase_url = "postgresql://db/calbot"\nbroker_url = "redis://r:6379/0"\n'
        'secret_key_file = "/k"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALBOT_")}
    env.update(
        CALBOT_TEAM_CONFIG=str(config), CALBOT_BROKER_URL="redis://:hunter2-pw@redis:99999/0"
    )
    celery = [sys.executable, "-m", "celery", "-A", "calbot.team", "worker"]
    done = subprocess.run(celery, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "$CALBOT_BROKER_URL" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
