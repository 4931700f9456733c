"""The deploy files: systemd units checked by `systemd-analyze verify` (system mode: a user
manager does not run here), the Dockerfile and compose file parsed (no Docker engine runs
here either)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("calbot.service", "calbot-scan.service", "calbot-scan.timer")
CALBOT_BIN = "%h/.local/bin/calbot"
# Need file-system namespaces or privileges a per-user service manager does not have.
PRIVILEGED = {
    "User",
    "Group",
    "DynamicUser",
    "PrivateTmp",
    "PrivateDevices",
    "PrivateNetwork",
    "PrivateMounts",
    "ProtectSystem",
    "ProtectHome",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "ProtectClock",
    "ProtectHostname",
    "ProtectProc",
    "ReadOnlyPaths",
    "ReadWritePaths",
    "InaccessiblePaths",
    "TemporaryFileSystem",
    "BindPaths",
    "BindReadOnlyPaths",
    "RootDirectory",
    "CapabilityBoundingSet",
    "AmbientCapabilities",
}


# --- systemd ------------------------------------------------------------------------------


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values]}} (comments and blank lines dropped)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{name}: {line!r} outside a section"
        key, sep, value = line.partition("=")
        assert sep, f"{name}: not key=value: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(section: dict[str, list[str]], key: str) -> str:
    values = section.get(key, [])
    assert len(values) == 1, f"{key}: {values}"
    return values[0]


@pytest.fixture(scope="module")
def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    return found


def verify(systemd_analyze: str, tmp_path: Path, *names: str) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze verify` in system mode on copies whose ExecStart runs an existing
    binary (verify checks that the command exists; `%h/.local/bin/calbot` does not here)."""
    copies = []
    for name in names:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        copy = tmp_path / name
        copy.write_text(text.replace(CALBOT_BIN, sys.executable), encoding="utf-8")
        copies.append(str(copy))
    return subprocess.run(
        [systemd_analyze, "verify", "--man=no", *copies],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def complaints(result: subprocess.CompletedProcess[str], names: tuple[str, ...]) -> list[str]:
    # verify only warns (exit 0) about an unknown key or a bad value; any line naming one
    # of our units is a complaint
    return [line for line in result.stderr.splitlines() if any(n in line for n in names)]


def test_systemd_analyze_verify_accepts_the_worker_service(systemd_analyze, tmp_path):
    r = verify(systemd_analyze, tmp_path, "calbot.service")
    assert r.returncode == 0, r.stderr
    assert complaints(r, ("calbot.service",)) == []


def test_systemd_analyze_verify_accepts_the_scan_service_and_timer(systemd_analyze, tmp_path):
    r = verify(systemd_analyze, tmp_path, "calbot-scan.service", "calbot-scan.timer")
    assert r.returncode == 0, r.stderr
    assert complaints(r, ("calbot-scan.service", "calbot-scan.timer")) == []


def test_verify_would_catch_a_broken_unit(systemd_analyze, tmp_path):
    """The check above has teeth: a typo in a value is reported."""
    bad = (DEPLOY / "calbot.service").read_text(encoding="utf-8")
    bad = bad.replace("Restart=on-failure", "Restart=on-falure")
    (tmp_path / "src").mkdir()
    broken = tmp_path / "src" / "calbot.service"
    broken.write_text(bad.replace(CALBOT_BIN, sys.executable), encoding="utf-8")
    r = subprocess.run(
        [systemd_analyze, "verify", "--man=no", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "on-falure" in r.stderr


def test_the_timer_schedule_is_every_half_hour(systemd_analyze):
    timer = unit("calbot-scan.timer")
    spec = one(timer["Timer"], "OnCalendar")
    assert spec == "*:0/30"
    r = subprocess.run(
        [systemd_analyze, "calendar", spec], capture_output=True, text=True, timeout=30
    )
    assert r.returncode == 0, r.stderr
    assert "*-*-* *:00/30:00" in r.stdout


def test_worker_service_runs_calbot_run_and_restarts_on_failure():
    u = unit("calbot.service")
    service = u["Service"]
    argv = shlex.split(one(service, "ExecStart"))
    assert argv == [CALBOT_BIN, "run"]
    assert one(service, "Restart") == "on-failure"
    assert "2" in one(service, "RestartPreventExitStatus").split()  # bad config: no loop
    assert one(u["Install"], "WantedBy") == "default.target"  # a user unit's target


def test_scan_service_is_oneshot_and_exit_75_is_not_a_failure():
    u = unit("calbot-scan.service")
    service = u["Service"]
    assert one(service, "Type") == "oneshot"
    assert shlex.split(one(service, "ExecStart")) == [CALBOT_BIN, "scan"]
    assert "75" in one(service, "SuccessExitStatus").split()
    assert "Install" not in u  # started by the timer only
    timer = unit("calbot-scan.timer")
    assert one(timer["Timer"], "Persistent") == "true"
    assert one(timer["Timer"], "Unit") == "calbot-scan.service"
    assert one(timer["Install"], "WantedBy") == "timers.target"


@pytest.mark.parametrize("name", ["calbot.service", "calbot-scan.service"])
def test_services_set_config_state_and_a_user_mode_hardening(name):
    service = unit(name)["Service"]
    env = dict(v.split("=", 1) for v in service["Environment"])
    assert env["CALBOT_CONFIG"] == "%h/.config/calbot/calbot.toml"
    assert env["CALBOT_STATE_DIR"] == "%h/.local/share/calbot"
    assert one(service, "UMask") == "0077"
    assert one(service, "NoNewPrivileges") == "yes"
    assert one(service, "SystemCallFilter") == "@system-service"
    # options a user manager cannot apply (the unit would fail to start) stay out
    assert sorted(PRIVILEGED & set(service)) == []


# --- Dockerfile ---------------------------------------------------------------------------


def dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: comments and parser directives dropped,
    backslash continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continuation
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        word, _, rest = full.partition(" ")
        instructions.append((word.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continuation"
    return instructions


def exec_form(args: str) -> list[str] | None:
    """["a", "b"] (JSON exec form) as a list; None for the shell form."""
    import json

    if not args.startswith("["):
        return None
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


@pytest.fixture(scope="module")
def docker() -> list[tuple[str, str]]:
    return dockerfile(DEPLOY / "Dockerfile")


def test_dockerfile_builds_on_slim_python_311(docker):
    froms = [args for op, args in docker if op == "FROM"]
    assert froms, "no FROM"
    image = froms[-1].split()[0]  # the final stage is what runs
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]{64})?", image), image


def test_dockerfile_runs_calbot_run_as_a_non_root_user(docker):
    ops = [op for op, _ in docker]
    assert ops.count("CMD") == 1
    cmd_at = ops.index("CMD")
    users = [args for op, args in docker[:cmd_at] if op == "USER"]
    assert users, "no USER before CMD: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), user
    assert exec_form(dict(docker)["CMD"]) == ["calbot", "run"]
    assert "ENTRYPOINT" not in ops  # so `docker compose run calbot calbot auth` works
    assert dict(docker).get("STOPSIGNAL") == "SIGTERM"


def test_dockerfile_keeps_config_token_and_state_in_volumes(docker: list[tuple[str, str]]) -> None:
    volumes: list[str] = []
    for op, args in docker:
        if op == "VOLUME":
            volumes += exec_form(args) or args.split()
    assert {"/config", "/state"} <= set(volumes)
    env = " ".join(args for op, args in docker if op == "ENV")
    assert "CALBOT_CONFIG=/config/calbot.toml" in env
    assert "CALBOT_STATE_DIR=/state" in env


def test_dockerfile_installs_calbot_from_the_context_and_copies_no_secret(
    docker: list[tuple[str, str]],
) -> None:
    copied: list[str] = []
    for op, args in docker:
        if op == "ADD":
            pytest.fail(f"ADD {args}: use COPY (ADD fetches URLs and unpacks archives)")
        if op == "COPY":
            parts = [p for p in (exec_form(args) or args.split()) if not p.startswith("--")]
            copied += parts[:-1]  # sources; the last is the destination
    assert set(copied) == {"pyproject.toml", "README.md", "calbot"}, copied
    for source in copied:
        assert not re.search(r"token|secret|\.json$|state|\.sqlite|outbox|\.env", source), source
    assert any(
        op == "RUN" and re.search(r"\bpip install\b.* \.(\s|$)", args) for op, args in docker
    )
    # the .dockerignore is an allow-list that lets only those three in
    ignore = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignore[0] == "*"
    assert {line for line in ignore if line.startswith("!")} == {
        "!pyproject.toml",
        "!README.md",
        "!calbot/",
    }


def test_dockerfile_copies_what_pyproject_needs_to_build():
    """pip install . reads the readme named in pyproject.toml and the package data."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["readme"] == "README.md"
    assert project["scripts"]["calbot"] == "calbot.cli.main:entry_point"


# --- compose ------------------------------------------------------------------------------


def compose_service(text: str, name: str) -> dict[str, object]:
    """The keys of one service in a compose file (PyYAML is not a dependency): top-level
    keys of the service as text, lists as lists, one level of nested mappings as dicts."""
    lines = [
        line.split(" #")[0].rstrip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    start = lines.index("services:")
    head = lines.index(f"  {name}:", start)
    body: dict[str, Any] = {}
    key = ""
    for line in lines[head + 1 :]:
        indent = len(line) - len(line.lstrip())
        if indent <= 2:
            break
        stripped = line.strip()
        if indent == 4:
            key, _, value = stripped.partition(":")
            body[key] = value.strip() if value.strip() else None
        elif stripped.startswith("- "):
            items: list[str] = body[key] if isinstance(body[key], list) else []
            items.append(stripped[2:].strip().strip("\"'"))
            body[key] = items
        else:
            sub, _, value = stripped.partition(":")
            nested: dict[str, str] = body[key] if isinstance(body[key], dict) else {}
            nested[sub.strip()] = value.strip().strip("\"'")
            body[key] = nested
    return body


@pytest.fixture(scope="module")
def compose() -> tuple[str, dict[str, object]]:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert "\t" not in text, "YAML forbids tabs for indentation"
    return text, compose_service(text, "calbot")


def test_compose_builds_the_dockerfile_and_restarts_unless_stopped(compose):
    _, svc = compose
    assert svc["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (DEPLOY / str(svc["build"]["context"]) / "deploy" / "Dockerfile").is_file()  # type: ignore[index]
    assert svc["restart"] == "unless-stopped"
    assert svc["init"] == "true"
    assert svc["stop_signal"] == "SIGTERM"


def test_compose_mounts_config_and_state(compose):
    _, svc = compose
    volumes = svc["volumes"]
    assert isinstance(volumes, list)
    targets = {v.split(":")[1] for v in volumes}
    assert targets == {"/config", "/state"}
    env = svc["environment"]
    assert isinstance(env, dict)
    assert env["CALBOT_CONFIG"] == "/config/calbot.toml"
    assert env["CALBOT_STATE_DIR"] == "/state"


def test_compose_says_how_to_sign_in_once(compose):
    text, _ = compose
    assert "docker compose run --rm calbot calbot auth --no-browser" in text
    assert "docker compose up -d" in text


# --- the docs say the same ----------------------------------------------------------------


def test_unattended_docs_name_the_files_and_commands():
    doc = (ROOT / "README.md").read_text(encoding="utf-8")
    for needle in (
        "calbot init",
        "calbot auth",
        "~/.config/systemd/user/",
        "systemctl --user daemon-reload",
        "systemctl --user enable --now calbot.service",
        "systemctl --user enable --now calbot-scan.timer",
        "loginctl enable-linger",
        "journalctl --user -u calbot",
        "docker compose run --rm calbot calbot auth --no-browser",
        "calbot digest",
    ):
        assert needle in doc, needle
    for name in (*UNITS, "Dockerfile", "compose.yaml"):
        assert (DEPLOY / name).is_file()
        assert f"deploy/{name}" in doc, name
