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
import shutil
from pathlib import Path

import yaml  # type: ignore[import-untyped]  # no stubs; only the tests read YAML
from fakes.team import TeamFakeGoogle
from servers.celery_procs import CeleryProcess, wait_for
from servers.deploy_run import (
    ANA,
    DB_PASSWORD,
    DEPLOY,
    Root,
    celery,
    cobalt_day,
    local_env,
    run,
    scanned,
    team_toml,
)
from servers.redis_server import RedisServer

from calbot.team.secrets import new_key


def test_the_compose_services_commands_run_and_scan_an_added_user(
    team_google: TeamFakeGoogle,
    calbot_database: tuple[str, str, int],
    redis_server: RedisServer,
    tmp_path: Path,
    procs: list[CeleryProcess],
) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    root = Root(tmp_path / "root")
    root("/tmp").mkdir(parents=True)  # every container has one
    name, host, port = calbot_database

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
    text = team_toml(root, example, calbot_database, redis_server.url, team_google.root)
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
