"""The deploy files, RUN as far as this machine allows (no Docker engine, no cluster): each
service's own command from `deploy/team/compose.yaml` (migrate, 2 workers, beat, admin) and
the Kubernetes manifests' commands and environment, run as local processes.

What is mapped, and only this: every container path (a mounted config, a secret, a volume,
/tmp) lives under a throw-away "root" folder; the compose service names `postgres` and
`redis` become the test's own PostgreSQL and Redis on 127.0.0.1; the team config is the
README's `cp team.example.toml team.toml` plus two test-only lines (`[google] api_root`: the
fake Google; `[engine] tick_seconds = 1`: a round in seconds, not 30); each worker replica
gets its own node name (`-n`), as each container has its own hostname. The images, the
health checks, `depends_on`, the users and security contexts are NOT exercised here."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no stubs; only the tests read YAML
from fakes.team import TeamFakeGoogle
from servers.celery_procs import CeleryProcess, wait_for
from servers.postgres_server import PostgresServer
from servers.redis_server import RedisServer
from servers.team_engine import TZ, next_tuesday

from calbot.team.pg_store import connect
from calbot.team.secrets import new_key

DEPLOY = Path(__file__).parents[3] / "deploy" / "team"
BIN = Path(sys.executable).parent
ANA = "ana@agency.example"  # deploy/team/user.example.toml's user
DB_PASSWORD = "pw-" + new_key()[:16]


def cobalt_day(fake: TeamFakeGoogle) -> None:
    """Five one-hour meetings with the example user's client, Cobalt: over the defaults'
    max_meetings_per_day (4), so the scan drafts."""
    day = next_tuesday()
    with fake.as_user(ANA):
        for hour in (9, 10, 11, 13, 14):
            start = datetime(day.year, day.month, day.day, hour, tzinfo=TZ)
            fake.add_event(
                summary=f"Cobalt review {hour}",
                description="Agenda: the plan.",
                start={"dateTime": start.isoformat()},
                end={"dateTime": (start + timedelta(hours=1)).isoformat()},
                organizer={"email": "cy@cobalt.example", "displayName": "Cy Cobalt"},
                attendees=[
                    {"email": "cy@cobalt.example", "organizer": True, "responseStatus": "accepted"},
                    {"email": ANA, "self": True, "responseStatus": "accepted"},
                ],
            )


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


@pytest.fixture
def database(pg_cluster: PostgresServer) -> tuple[str, str, int]:
    """A fresh database owned by a `calbot` role with a password (as in the deploy files):
    (name, host, port)."""
    import psycopg
    from servers.pg_session import fresh_database

    name = fresh_database(pg_cluster).rsplit("/", 1)[1]
    with psycopg.connect(pg_cluster.url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'calbot'").fetchone()
        if not exists:
            conn.execute(f"CREATE ROLE calbot LOGIN PASSWORD '{DB_PASSWORD}'")
        conn.execute(f'ALTER DATABASE "{name}" OWNER TO calbot')
    return name, "127.0.0.1", pg_cluster.port


@pytest.fixture
def procs() -> Iterator[list[CeleryProcess]]:
    started: list[CeleryProcess] = []
    yield started
    for proc in started:
        proc.stop()


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


def celery(root: Root, name: str, command: list[str], env: dict[str, str]) -> CeleryProcess:
    assert command[:3] == ["celery", "-A", "calbot.team"], command
    args = root.args(command[3:])
    if args[0] == "worker":
        args += ["-n", f"{name}@%h"]  # each replica container has its own hostname
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


def test_the_compose_services_commands_run_and_scan_an_added_user(
    team_google: TeamFakeGoogle,
    database: tuple[str, str, int],
    redis_server: RedisServer,
    tmp_path: Path,
    procs: list[CeleryProcess],
) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    root = Root(tmp_path / "root")
    root("/tmp").mkdir(parents=True)  # every container has one
    name, host, port = database

    # the README's steps: secrets (0600), team.toml from the example, a user's config
    files = {
        "postgres_password": DB_PASSWORD,
        "pgpass": f"postgres:5432:calbot:calbot:{DB_PASSWORD}\n".replace(
            "postgres:5432:calbot", f"{host}:{port}:{name}"
        ),
        "calbot_secret_key": new_key() + "\n",
    }
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    for secret, text in files.items():
        (secrets_dir / secret).write_text(text, encoding="utf-8")
    team_google.write_service_account(secrets_dir / "google_service_account.json")
    example = (DEPLOY / "team.example.toml").read_text(encoding="utf-8")
    db_url = f"postgresql://calbot@{host}:{port}/{name}"
    text = team_toml(root, example, database, redis_server.url, team_google.root)
    for secret, spec in compose["secrets"].items():  # mounted at /run/secrets/NAME
        source = secrets_dir / Path(spec["file"]).name
        root.put(f"/run/secrets/{secret}", source.read_text(encoding="utf-8"))
    users = tmp_path / "users"
    users.mkdir()
    shutil.copy(DEPLOY / "user.example.toml", users / "ana.toml")
    cobalt_day(team_google)

    def env_of(service: str) -> dict[str, str]:
        spec = services[service]
        for config in spec.get("configs", []):
            assert compose["configs"][config["source"]]["file"] == "./team.toml"
            root.put(config["target"], text)
        for volume in spec.get("volumes", []):
            source, target = volume.split(":")[:2]
            assert source == "./users"
            root(target).parent.mkdir(parents=True, exist_ok=True)
            if not root(target).exists():
                root(target).symlink_to(users)
        return local_env(root, spec.get("environment", {}))

    # migrate: once, exit 0; then the workers (2 replicas) and one beat
    done = run(root, services["migrate"]["command"], env_of("migrate"))
    assert done.returncode == 0, done.stderr
    replicas = services["worker"]["deploy"]["replicas"]
    assert replicas == 2 and services["beat"]["deploy"]["replicas"] == 1
    for i in range(replicas):
        procs.append(
            celery(root, f"worker{i + 1}", services["worker"]["command"], env_of("worker"))
        )
    procs.append(celery(root, "beat", services["beat"]["command"], env_of("beat")))
    for proc in procs[:replicas]:
        wait_for(f"{proc.name} ready", proc.ready, 120)

    # the admin service: check and add the user, as the README says
    admin = services["admin"]["command"][:2]  # ["calbot", "team"]
    env = env_of("admin")
    for step in (["check", "/users/ana.toml"], ["add-user", "/users/ana.toml"]):
        done = run(root, [*admin, *step], env)
        assert done.returncode == 0, done.stderr

    # the beat picks the new user up at once; a worker scans them: drafts made
    row = wait_for("ana scanned by the workers", lambda: scanned(db_url, ANA), 120)
    assert row[0] == "ok" and row[1] > 0
    assert len(team_google.drafts_of(ANA)) == row[1]
    done = run(root, [*services["admin"]["command"], "--json"], env)
    assert done.returncode == 0, done.stderr
    (status,) = json.loads(done.stdout)
    assert status["email"] == ANA and status["outcome"] == "ok"
    lines = [d for p in procs for d in p.task_lines() if d.get("kind") == "scan"]
    assert any(d["user"] == ANA and d["outcome"] == "ok" for d in lines)
    logs = "".join(p.text() for p in procs) + done.stdout + done.stderr
    for secret in (DB_PASSWORD, files["calbot_secret_key"].strip()):
        assert secret not in logs
