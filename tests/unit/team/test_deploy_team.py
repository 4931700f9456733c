"""The team deploy files (deploy/team/), checked statically: no Docker engine or Kubernetes
cluster runs here. Every YAML file parses; compose and the manifests run the fixed entry
points (`celery -A calbot.team worker|beat`, `calbot team migrate`); beat is one replica,
Recreate; secrets come from files or Secrets, never literals; every file referenced exists
or is made by a README step; the example team config loads as `calbot team check` loads it."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no stubs; only the tests read YAML

from calbot.cli.main import build_parser, main
from calbot.team.config import load_team_settings, read_user_config, user_settings

ROOT = Path(__file__).resolve().parents[3]
TEAM = ROOT / "deploy" / "team"
K8S = TEAM / "k8s"
README = (ROOT / "README.md").read_text(encoding="utf-8")
YAML_FILES = sorted(TEAM.rglob("*.yaml"))
ALL_FILES = sorted(p for p in TEAM.rglob("*") if p.is_file())
CALBOT_SERVICES = ("migrate", "worker", "beat", "admin")
SECRET_ENV = ("CALBOT_DATABASE_URL", "CALBOT_BROKER_URL", "CALBOT_SECRET_KEY")
# Files the operator makes (README "Run it for a team", compose.yaml's header): they hold
# secrets or local choices, so they are not in the repository.
OPERATOR_FILES = {
    "team.toml",
    "secrets/calbot_secret_key",
    "secrets/google_service_account.json",
    "secrets/pgpass",
    "secrets/postgres_password",
}


def load_all(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    assert "\t" not in text, f"{path.name}: YAML forbids tabs for indentation"
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    (doc,) = load_all(TEAM / "compose.yaml")
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def manifests() -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in load_all(path):
            key = (doc["kind"], doc["metadata"]["name"])
            assert key not in found, f"{path.name}: {key} twice"
            found[key] = doc
    return found


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def team_commands() -> set[str]:
    parser = build_parser()
    sub: Any = next(a for a in parser._actions if a.dest == "command")
    team = sub.choices["team"]
    commands: Any = next(a for a in team._actions if a.dest == "team_command")
    return set(commands.choices)


def check_command(argv: list[str]) -> None:
    """A calbot container runs a fixed entry point: Celery's app `calbot.team`, or an existing
    `calbot team` command."""
    if argv[0] == "celery":
        assert argv[1:3] == ["-A", "calbot.team"], argv
        assert argv[3] in ("worker", "beat", "inspect"), argv
    elif argv[0] == "calbot":
        assert argv[1] == "team" and argv[2] in team_commands(), argv
    else:
        assert argv[0] == "install", argv  # the key-copying init container


# --- every file ---------------------------------------------------------------------------


def test_every_yaml_file_parses() -> None:
    names = {p.relative_to(TEAM).as_posix() for p in YAML_FILES}
    assert {
        "compose.yaml",
        "k8s/configmap.yaml",
        "k8s/secrets.yaml",
        "k8s/migrate-job.yaml",
        "k8s/worker-deployment.yaml",
        "k8s/beat-deployment.yaml",
    } <= names
    for path in YAML_FILES:
        assert load_all(path), path


# Key-like strings: a password in a URL, a PEM or service-account private key, a Fernet
# key (url-safe base64 of 32 bytes), a long hex or base64 run, `password: value`. A
# password written in capitals (`USER:PASSWORD@HOST`) is a placeholder in a comment.
SECRET_PATTERNS = (
    re.compile(r"[a-z+]+://[^\s/@:\"']*:(?![A-Z_]+@)[^\s/@\"']+@"),  # PASSWORD: a placeholder
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\"private_key(_id)?\"\s*:"),
    re.compile(r"(?<![\w-])[A-Za-z0-9_-]{43}=(?![\w=])"),
    re.compile(r"(?<![\w-])[0-9a-f]{32,}(?![\w-])"),
    re.compile(r"(?<![\w/+])[A-Za-z0-9+/]{40,}={0,2}(?![\w/+=])"),
    re.compile(r"(?i)password[ \t]*[:=][ \t]*[\"']?(?!\$|/|REPLACE-ME)\w"),
)


def secret_literals(text: str) -> list[str]:
    return [m.group(0) for pattern in SECRET_PATTERNS for m in pattern.finditer(text)]


def test_no_secret_literal_in_any_deploy_file() -> None:
    assert ALL_FILES
    for path in ALL_FILES:
        text = path.read_text(encoding="utf-8")
        assert secret_literals(text) == [], path


@pytest.mark.parametrize(
    "leak",
    [
        "database_url = 'postgresql://calbot:hunter2@db/calbot'",
        "CALBOT_BROKER_URL: redis://:s3cret@redis:6379/0",
        "key: 9Zf3Xy0b6q1u6Xo1eM3pQk1cQxH5tq0d7wJ4y8r2S0M=",
        "POSTGRES_PASSWORD: hunter2",
        '{"private_key": "x"}',
        "-----BEGIN PRIVATE KEY-----",
        "password = 3f9c1e0b7a6d5c4b3a29180f7e6d5c4b",
    ],
)
def test_the_secret_scan_finds_a_leak(leak: str) -> None:
    assert secret_literals(f"# a file\n{leak}\n")


def test_the_placeholders_are_marked_and_only_placeholders(manifests: dict[Any, Any]) -> None:
    secrets = {name: doc for (kind, name), doc in manifests.items() if kind == "Secret"}
    assert set(secrets) == {"calbot-connections", "calbot-secret-key", "calbot-google"}
    for doc in secrets.values():
        assert "data" not in doc  # base64 `data` would hide a real value from review
        for value in doc["stringData"].values():
            assert value.startswith("REPLACE-ME"), value
    assert "PLACEHOLDERS ONLY" in (K8S / "secrets.yaml").read_text(encoding="utf-8")


# --- compose ------------------------------------------------------------------------------


def test_compose_runs_postgres_redis_migrate_two_workers_and_one_beat(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "worker", "beat"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["worker"]["command"][:4] == ["celery", "-A", "calbot.team", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "calbot.team", "beat"]
    assert services["migrate"]["command"] == ["calbot", "team", "migrate"]
    assert services["migrate"]["restart"] == "no"  # one-shot
    for name in CALBOT_SERVICES:
        check_command(services[name]["command"])
        assert services[name]["image"] == "calbot-team:local"
        assert services[name]["build"]["dockerfile"] == "deploy/team/Dockerfile"


def test_compose_starts_workers_and_beat_after_a_successful_migration(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in ("worker", "beat", "admin"):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully", name
        assert needs["postgres"]["condition"] == "service_healthy", name
        assert needs["redis"]["condition"] == "service_healthy", name
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_compose_health_checks_and_persistent_volumes(compose: dict[str, Any]) -> None:
    postgres, redis = compose["services"]["postgres"], compose["services"]["redis"]
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    named = set(compose["volumes"])
    assert {v.split(":")[0] for v in postgres["volumes"]} <= named
    assert "/var/lib/postgresql/data" in {v.split(":")[1] for v in postgres["volumes"]}
    assert "/data" in {v.split(":")[1] for v in redis["volumes"]}
    assert {v.split(":")[0] for v in redis["volumes"]} <= named


def test_compose_passes_secrets_as_files_never_as_environment(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in CALBOT_SERVICES:
        env = services[name]["environment"]
        assert env == {"CALBOT_TEAM_CONFIG": "/etc/calbot/team.toml"}, name
        assert set(services[name]["secrets"]) == {
            "calbot_secret_key",
            "google_service_account",
            "pgpass",
        }
        (config,) = services[name]["configs"]
        assert config == {"source": "team_config", "target": "/etc/calbot/team.toml"}
    postgres_env = services["postgres"]["environment"]
    assert "POSTGRES_PASSWORD" not in postgres_env
    assert postgres_env["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert set(compose["secrets"]) == {
        "calbot_secret_key",
        "google_service_account",
        "pgpass",
        "postgres_password",
    }
    for spec in compose["secrets"].values():
        assert set(spec) == {"file"}


def test_the_example_team_config_reads_the_files_compose_mounts(compose: dict[str, Any]) -> None:
    team = load_team_settings(TEAM / "team.example.toml", {})
    mounted = {f"/run/secrets/{name}" for name in compose["secrets"]}
    assert team.team.secret_key_file in mounted
    assert team.google.service_account_file in mounted
    assert "passfile=/run/secrets/pgpass" in team.team.database_url
    # the hosts are compose's service names, and the database is the one postgres makes
    assert team.team.database_url.startswith("postgresql://calbot@postgres:5432/calbot?")
    assert team.team.broker_url.startswith("redis://redis:6379/")
    flower = compose["services"]["flower"]
    assert flower["environment"]["CELERY_BROKER_URL"] == team.team.broker_url
    assert all(p.startswith("127.0.0.1:") for p in flower["ports"])  # no login: local only


def test_every_file_compose_references_exists_or_the_readme_makes_it(
    compose: dict[str, Any],
) -> None:
    build = compose["services"]["worker"]["build"]
    context = (TEAM / build["context"]).resolve()
    assert context == ROOT
    assert (context / build["dockerfile"]).is_file()
    referenced = [spec["file"] for spec in compose["secrets"].values()]
    referenced += [spec["file"] for spec in compose["configs"].values()]
    section = readme_section()
    header = (TEAM / "compose.yaml").read_text(encoding="utf-8")
    for ref in referenced:
        rel = Path(ref).as_posix().removeprefix("./")
        if (TEAM / rel).exists():
            continue
        assert rel in OPERATOR_FILES, rel
        assert rel in section, f"the README never says how to make {rel}"
        assert rel in header, f"compose.yaml's header never says how to make {rel}"
    assert "./users:/users:ro" in compose["services"]["admin"]["volumes"]


# --- the image ----------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments): comments dropped, continuations joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in (TEAM / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") or (not pending and not line):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        word, _, rest = (pending + line).strip().partition(" ")
        pending = ""
        out.append((word.upper(), rest.strip()))
    return out


def test_the_team_image_installs_the_team_extra_and_runs_a_worker_as_non_root() -> None:
    ops = dockerfile()
    runs = " ".join(args for op, args in ops if op == "RUN")
    assert "pip install '.[team]'" in runs
    copied = [args.split()[0] for op, args in ops if op == "COPY"]
    assert copied == ["pyproject.toml", "calbot"]  # the .dockerignore allow-list
    assert not any(op == "ADD" for op, _ in ops)
    users = [args for op, args in ops if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    cmd = json.loads(dict(ops)["CMD"])
    assert cmd[:4] == ["celery", "-A", "calbot.team", "worker"]
    assert any("CALBOT_TEAM_CONFIG=/etc/calbot/team.toml" in a for op, a in ops if op == "ENV")


# --- Kubernetes ---------------------------------------------------------------------------


def test_beat_is_one_replica_recreated_never_two_at_once(manifests: dict[Any, Any]) -> None:
    beat = manifests[("Deployment", "calbot-beat")]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    (container,) = pod_spec(beat)["containers"]
    assert container["command"][:4] == ["celery", "-A", "calbot.team", "beat"]


def test_workers_run_the_celery_app_and_are_ready_when_they_answer_a_ping(
    manifests: dict[Any, Any],
) -> None:
    worker = manifests[("Deployment", "calbot-worker")]
    assert worker["spec"]["replicas"] >= 2
    (container,) = pod_spec(worker)["containers"]
    assert container["command"][:4] == ["celery", "-A", "calbot.team", "worker"]
    probe = container["readinessProbe"]["exec"]["command"]
    assert probe[:2] == ["sh", "-c"]
    argv = shlex.split(probe[2])
    check_command(argv)
    assert argv[3:5] == ["inspect", "ping"]
    assert "celery@$HOSTNAME" in argv  # this worker, not any worker


def test_the_migrate_job_runs_once_and_never_restarts_in_place(
    manifests: dict[Any, Any],
) -> None:
    job = manifests[("Job", "calbot-migrate")]
    spec = pod_spec(job)
    assert spec["restartPolicy"] == "Never"
    (container,) = spec["containers"]
    assert container["command"] == ["calbot", "team", "migrate"]


WORKLOADS = (
    ("Deployment", "calbot-worker"),
    ("Deployment", "calbot-beat"),
    ("Job", "calbot-migrate"),
)


@pytest.mark.parametrize("key", WORKLOADS, ids=lambda k: f"{k[0]}/{k[1]}")
def test_every_pod_is_non_root_limited_and_reads_secrets_from_secrets(
    manifests: dict[Any, Any], key: tuple[str, str]
) -> None:
    doc = manifests[key]
    spec = pod_spec(doc)
    pod_security = spec["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] not in (0, None)
    config_map = manifests[("ConfigMap", "calbot-team-config")]
    volumes = {v["name"]: v for v in spec["volumes"]}
    for container in spec["initContainers"] + spec["containers"]:
        check_command(container["command"])
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]), container["name"]
        assert {"cpu", "memory"} <= set(resources["limits"]), container["name"]
    (main_container,) = spec["containers"]
    env = {e["name"]: e for e in main_container["env"]}
    for name in SECRET_ENV:
        assert "value" not in env[name], name  # never a literal
        ref = env[name]["valueFrom"]["secretKeyRef"]
        secret = manifests[("Secret", ref["name"])]
        assert ref["key"] in secret["stringData"], name
    # the team config: the ConfigMap's team.toml where $CALBOT_TEAM_CONFIG points
    mounts = {m["name"]: m for m in main_container["volumeMounts"]}
    config_path = Path(env["CALBOT_TEAM_CONFIG"]["value"])
    assert mounts["team-config"]["mountPath"] == str(config_path.parent)
    assert volumes["team-config"]["configMap"]["name"] == config_map["metadata"]["name"]
    assert config_path.name in config_map["data"]
    # the service-account key: copied by the init container into the folder the config names
    team_toml = config_map["data"][config_path.name]
    key_file = re.search(r'service_account_file = "([^"]+)"', team_toml)
    assert key_file is not None
    assert mounts["google"]["mountPath"] == str(Path(key_file.group(1)).parent)
    (init,) = spec["initContainers"]
    assert init["command"][:3] == ["install", "-m", "0600"]  # calbot refuses a shared key
    assert init["command"][-1] == key_file.group(1)
    assert volumes["google-secret"]["secret"]["secretName"] == "calbot-google"
    assert Path(init["command"][-2]).name in manifests[("Secret", "calbot-google")]["stringData"]


def test_the_configmaps_team_config_loads_with_the_secrets_environment(
    manifests: dict[Any, Any], tmp_path: Path
) -> None:
    data = manifests[("ConfigMap", "calbot-team-config")]["data"]["team.toml"]
    path = tmp_path / "team.toml"
    path.write_text(data, encoding="utf-8")
    env = {
        "CALBOT_DATABASE_URL": "postgresql://db.internal/calbot",
        "CALBOT_BROKER_URL": "redis://redis.internal:6379/0",
        "CALBOT_SECRET_KEY": "unused-here",
    }
    team = load_team_settings(path, env)
    assert team.team.database_url == env["CALBOT_DATABASE_URL"]
    assert team.google.service_account_file == "/var/run/calbot/google/service-account.json"


# --- the example configs ------------------------------------------------------------------


def test_the_example_team_config_passes_calbot_team_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    team_file, user_file = TEAM / "team.example.toml", TEAM / "user.example.toml"
    assert main(["team", "check", "--team-config", str(team_file), str(user_file)]) == 0
    out = capsys.readouterr().out
    assert "team config OK" in out and "OK for ana@agency.example" in out
    team = load_team_settings(team_file, {})
    settings = user_settings(team, read_user_config(user_file), path=str(user_file))
    assert [c.name for c in settings.clients] == ["Cobalt"]  # the user's own list wins
    assert settings.user.timezone == "Europe/Berlin"  # from [defaults]


# --- the README ---------------------------------------------------------------------------


def readme_section() -> str:
    match = re.search(r"^## Run it for a team\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, 'README has no "## Run it for a team" section'
    return match.group(1)


def test_the_readme_walks_from_delegation_to_team_status() -> None:
    from calbot.adapters.google.scopes import CALENDAR_EVENTS, GMAIL_COMPOSE

    section = readme_section()
    for needle in (
        "Manage domain-wide delegation",
        "Unique ID",
        CALENDAR_EVENTS,
        GMAIL_COMPOSE,
        "docker compose up -d",
        "calbot team add-user",
        "calbot team status",
        "kubectl apply -f deploy/team/k8s/",
        "kubectl wait",
        "Flower",
        "MultiFernet",
        "statically",
    ):
        assert needle in section, needle
    assert section.index("Manage domain-wide delegation") < section.index("calbot team status")
    for command in re.findall(r"calbot team ([a-z-]+)", section):
        assert command in team_commands(), command


def test_every_deploy_file_the_readme_names_exists() -> None:
    section = readme_section()
    named = set(re.findall(r"deploy/team/[\w./-]*[\w]", section))
    assert "deploy/team/compose.yaml" in named
    for ref in named:
        assert (ROOT / ref).exists(), ref
    for path in sorted(K8S.glob("*.yaml")):
        assert f"deploy/team/k8s/{path.name}" in section, path.name
