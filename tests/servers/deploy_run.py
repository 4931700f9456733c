"""What the deploy-run tests share: a folder standing for a container's file system, the
commands as local processes, and the example user's overloaded day. See
tests/system/team/test_deploy_run.py for what is mapped and what is not."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from fakes.team import TeamFakeGoogle

from calbot.team.pg_store import connect
from calbot.team.secrets import new_key
from servers.celery_procs import CeleryProcess
from servers.team_engine import overload

DEPLOY = Path(__file__).parents[2] / "deploy" / "team"
BIN = Path(sys.executable).parent
ANA = "ana@agency.example"  # deploy/team/user.example.toml's user
DB_PASSWORD = "pw-" + new_key()[:16]


def cobalt_day(fake: TeamFakeGoogle) -> None:
    """Five one-hour meetings with the example user's client, Cobalt: over the defaults'
    max_meetings_per_day (4), so the scan drafts."""
    overload(fake, ANA, organizer=("cy@cobalt.example", "Cy Cobalt"), title="Cobalt review")


class Root:
    """A folder standing for the containers' file system: `/x/y` is `root/x/y`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, container_path: str) -> Path:
        return self.folder / container_path.lstrip("/")

    def put(self, container_path: str, text: str, mode: int = 0o600) -> Path:
        path = self(container_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(mode)
        return path

    def args(self, values: list[str]) -> list[str]:
        """A command's arguments with container paths moved under the root."""
        return [str(self(v)) if v.startswith("/") else v for v in values]


def local_env(root: Root, environment: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALBOT_", "PYTEST", "COV"))}
    env.update({k: str(root(v)) if v.startswith("/") else v for k, v in environment.items()})
    env["HOME"] = str(root("/home/calbot"))  # the image's user: no home of the tester's
    return env


def run(root: Root, command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A one-shot container command (`calbot ...`) with the venv's entry point."""
    assert command[0] == "calbot", command
    argv = [str(BIN / "calbot"), *root.args(command[1:])]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=180, env=env, cwd=root("/"), check=False
    )


def celery(
    root: Root, name: str, command: list[str], env: dict[str, str], node: str = ""
) -> CeleryProcess:
    """A long-running container command; a worker gets its own node name (`node`, else
    NAME@host), as each replica container has its own hostname."""
    assert command[:3] == ["celery", "-A", "calbot.team"], command
    args = root.args(command[3:])
    if args[0] == "worker":
        args += ["-n", node or f"{name}@%h"]
    return CeleryProcess(name, args, root(f"/logs/{name}"), env).start()


def team_toml(root: Root, text: str, db: tuple[str, str, int], redis_url: str, api: str) -> str:
    """The team config as the deploy mounts it, its service names and paths mapped."""
    name, host, port = db
    text = text.replace("@postgres:5432/calbot", f"@{host}:{port}/{name}")
    text = text.replace("redis://redis:6379/0", redis_url)
    text = re.sub(r'"(/(?:run|var/run)/[^"]+)"', lambda m: f'"{root(m[1])}"', text)
    text = text.replace("passfile=/run/secrets/", f"passfile={root('/run/secrets/')}/")
    text = text.replace("[google]\n", f'[google]\napi_root = "{api}"\n', 1)
    return text + "\n[engine]\ntick_seconds = 1\n"


def scanned(db_url: str, email: str) -> Any:
    conn = connect(db_url)
    try:
        return conn.execute(
            "SELECT last_outcome, drafts_pending FROM users WHERE email = %s AND"
            " last_outcome IS NOT NULL",
            (email,),
        ).fetchone()
    finally:
        conn.close()
