"""Real `celery -A calbot.team worker` / `beat` processes for tests: each in its own session
(so a whole worker, children included, can be SIGKILLed), its stderr in a file whose JSON
lines (one per task) the test reads back."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

CELERY = str(Path(sys.executable).with_name("celery"))


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.2) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


class CeleryProcess:
    def __init__(self, name: str, args: list[str], folder: Path, env: Mapping[str, str]) -> None:
        self.name, self.args, self.folder = name, args, folder
        self.env = dict(env)
        self.log = folder / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> CeleryProcess:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [CELERY, "-A", "calbot.team", *self.args],
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker and its pool processes."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        # orphaned pool processes, if any
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def task_lines(self) -> list[dict[str, Any]]:
        """The JSON line of every task this process ran so far."""
        docs = []
        for line in self.text().splitlines():
            if line.startswith("{") and '"kind"' in line:
                try:
                    docs.append(json.loads(line))
                except ValueError:
                    continue
        return docs

    def ready(self) -> bool:
        return "ready." in self.text() or "beat: Starting" in self.text()
