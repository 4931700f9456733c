"""`calbot run` as the tests start it: a real worker process, read by its JSON log."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any


def worker_lines(
    config: Path | str, env: dict[str, str], until: str, deadline: float = 120
) -> list[dict[str, Any]]:
    """`calbot run` until it logs the event `until` (then SIGTERM): its JSON log lines.
    Killed at `deadline` seconds, so a worker that never logs it fails the test, never
    hangs it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "calbot", "run", "--log-format", "json", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: list[dict[str, Any]] = []
    killer = threading.Timer(deadline, proc.kill)
    killer.start()
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("{"):
                lines.append(json.loads(line))
                if lines[-1]["event"] == until:
                    break
    finally:
        killer.cancel()
        proc.terminate()
        proc.wait(timeout=deadline)
    assert any(e["event"] == until for e in lines), lines
    return lines
