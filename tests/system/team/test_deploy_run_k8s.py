"""The Kubernetes manifests, RUN as far as this machine allows (no cluster): each pod's
volumes made as a folder standing for its file system (the ConfigMap's and Secrets' keys as
files, with the Secret volume's mode), its init container's command, then its container's
command with the environment the manifest gives it (plain values and `secretKeyRef`s looked
up in Secrets holding the keys `secrets.yaml` names). Then the README's steps: the migrate
Job, two worker replicas and one beat, the worker's readiness probe, and a user added with
`calbot team add-user` "inside" a worker pod, who gets scanned.

Mapped, and only this: the Secrets' values are real ones for the test's own PostgreSQL,
Redis and fake Google; each pod's paths live under its own folder; `$HOSTNAME` is the pod's
name; the team config gains the fake Google's `api_root` and `tick_seconds = 1`. The image,
the security contexts, resource limits, probes' timing and the scheduler are NOT exercised.
"""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no stubs; only the tests read YAML
from fakes.team import TeamFakeGoogle
from servers.celery_procs import CeleryProcess, wait_for
from servers.deploy_run import (
    ANA,
    BIN,
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

K8S = DEPLOY / "k8s"
Objects = dict[tuple[str, str], dict[str, str]]  # ("ConfigMap"|"Secret", name) -> its data


def manifests(name: str) -> list[dict[str, Any]]:
    text = (K8S / name).read_text(encoding="utf-8")
    return [doc for doc in yaml.safe_load_all(text) if doc]


class Pod:
    """One pod of a workload: its own file system folder, volumes and environment."""

    def __init__(self, name: str, spec: dict[str, Any], folder: Path, objects: Objects) -> None:
        self.name = name
        self.spec = spec
        self.root = Root(folder)
        self.objects = objects

    def container(self, name: str) -> dict[str, Any]:
        (found,) = (c for c in self.spec["containers"] if c["name"] == name)
        return dict(found)

    def mount(self, container: dict[str, Any]) -> None:
        """The container's volume mounts as folders: ConfigMap and Secret keys as files."""
        volumes = {v["name"]: v for v in self.spec["volumes"]}
        for mount in container.get("volumeMounts", []):
            volume = volumes[mount["name"]]
            target = self.root(mount["mountPath"])
            target.mkdir(parents=True, exist_ok=True)
            if "configMap" in volume:
                data = self.objects["ConfigMap", volume["configMap"]["name"]]
                mode = 0o644
            elif "secret" in volume:
                data = self.objects["Secret", volume["secret"]["secretName"]]
                mode = volume["secret"].get("defaultMode", 0o644)
            else:
                assert "emptyDir" in volume, volume
                continue
            for key, value in data.items():
                path = target / key
                if not path.exists():
                    path.write_text(value, encoding="utf-8")
                    path.chmod(mode)

    def env(self, container: dict[str, Any]) -> dict[str, str]:
        values: dict[str, str] = {}
        for item in container.get("env", []):
            if "value" in item:
                values[item["name"]] = item["value"]
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                values[item["name"]] = self.objects["Secret", ref["name"]][ref["key"]]
        env = local_env(self.root, values)
        env["HOSTNAME"] = self.name
        return env

    def init(self) -> None:
        for container in self.spec.get("initContainers", []):
            self.mount(container)
            argv = self.root.args(container["command"])
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, (container["name"], done.stderr)

    def start(self, container_name: str) -> tuple[dict[str, Any], dict[str, str]]:
        container = self.container(container_name)
        self.mount(container)
        return container, self.env(container)


def test_the_kubernetes_manifests_commands_run_and_scan_an_added_user(
    team_google: TeamFakeGoogle,
    calbot_database: tuple[str, str, int],
    redis_server: RedisServer,
    tmp_path: Path,
    procs: list[CeleryProcess],
) -> None:
    name, host, port = calbot_database
    secret_key = new_key()
    account = tmp_path / "service-account.json"
    team_google.write_service_account(account)
    real = {  # what `kubectl create secret generic ...` in the README puts in each Secret
        "calbot-connections": {
            "database-url": f"postgresql://calbot:{DB_PASSWORD}@{host}:{port}/{name}",
            "broker-url": redis_server.url,
        },
        "calbot-secret-key": {"key": secret_key + "\n"},
        "calbot-google": {"service-account.json": account.read_text(encoding="utf-8")},
    }
    objects: Objects = {}
    for doc in manifests("secrets.yaml"):
        secret = doc["metadata"]["name"]
        assert set(doc["stringData"]) == set(real[secret]), secret  # the same keys
        assert all(v.startswith("REPLACE-ME") for v in doc["stringData"].values())
        objects["Secret", secret] = real[secret]
    (config_map,) = manifests("configmap.yaml")
    team_text = config_map["data"]["team.toml"]

    def pod(kind_file: str, pod_name: str) -> Pod:
        (workload,) = manifests(kind_file)
        spec = workload["spec"]["template"]["spec"]
        made = Pod(pod_name, spec, tmp_path / pod_name, dict(objects))
        text = team_toml(made.root, team_text, calbot_database, redis_server.url, team_google.root)
        made.objects["ConfigMap", config_map["metadata"]["name"]] = {"team.toml": text}
        made.root("/tmp").mkdir(parents=True, exist_ok=True)
        made.init()
        return made

    # the migrate Job: its init container, then `calbot team migrate`, exit 0
    job = pod("migrate-job.yaml", "calbot-migrate-x1")
    container, env = job.start("migrate")
    done = run(job.root, container["command"], env)
    assert done.returncode == 0, done.stderr
    copied = job.root("/var/run/calbot/google/service-account.json")
    assert stat.S_IMODE(copied.stat().st_mode) == 0o600  # the init container's `install`

    # the Deployments: the worker's replicas, one beat
    (worker_doc,) = manifests("worker-deployment.yaml")
    (beat_doc,) = manifests("beat-deployment.yaml")
    assert beat_doc["spec"]["replicas"] == 1 and beat_doc["spec"]["strategy"]["type"] == "Recreate"
    workers = [pod("worker-deployment.yaml", f"calbot-worker-{i}") for i in range(2)]
    assert worker_doc["spec"]["replicas"] == len(workers)
    for worker in workers:
        container, env = worker.start("worker")
        # node name celery@POD-NAME: what the readiness probe pings (`--destination
        # celery@$HOSTNAME`); in a pod it is the default, `%h` being the pod's name
        node = f"celery@{worker.name}"
        procs.append(celery(worker.root, worker.name, container["command"], env, node))
    beat = pod("beat-deployment.yaml", "calbot-beat-x1")
    container, env = beat.start("beat")
    procs.append(celery(beat.root, "beat", container["command"], env))
    for proc in procs[:2]:
        wait_for(f"{proc.name} ready", proc.ready, 120)
    for worker in workers:  # the readiness probe's own command, for each pod
        container, env = worker.start("worker")
        argv = container["readinessProbe"]["exec"]["command"]
        env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0 and worker.name in done.stdout, done.stdout + done.stderr

    # the README's users step, inside the first worker pod
    first = workers[0]
    container, env = first.start("worker")
    user_file = first.root.put("/tmp/ana.toml", (DEPLOY / "user.example.toml").read_text())
    assert user_file.exists()
    cobalt_day(team_google)
    done = run(first.root, ["calbot", "team", "add-user", "/tmp/ana.toml"], env)
    assert done.returncode == 0, done.stderr
    db_url = f"postgresql://calbot:{DB_PASSWORD}@{host}:{port}/{name}"
    row = wait_for("ana scanned by the workers", lambda: scanned(db_url, ANA), 120)
    assert row[0] == "ok" and row[1] > 0
    assert len(team_google.drafts_of(ANA)) == row[1]
    done = run(first.root, ["calbot", "team", "status", "--json"], env)
    assert done.returncode == 0, done.stderr
    (status,) = json.loads(done.stdout)
    assert status["email"] == ANA and status["outcome"] == "ok"
    logs = "".join(p.text() for p in procs) + done.stdout + done.stderr
    for secret in (DB_PASSWORD, secret_key):
        assert secret not in logs
