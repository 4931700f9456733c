"""A real CalDAV server for tests: Radicale (from PyPI, the `test` extra) on a free port of
127.0.0.1, its collections in a temp dir, one user with a plain htpasswd password (so a
wrong password is a real 401). `running(tmp)` starts it, polls until it answers (with a
deadline, never a fixed sleep) and stops it after. Radicale also counts as the server log:
every request it served is in `requests()` (method and path), so tests count what calbot
asked for from the server's side."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

USER = "alex"
PASSWORD = "correct horse"  # a test account on a throw-away server
_REQUEST_LINE = re.compile(
    r'"?(PROPFIND|REPORT|GET|PUT|DELETE|MKCALENDAR|PROPPATCH|OPTIONS|'
    r"POST|MKCOL|HEAD) request for \'?([^\s\']+)"
)


@dataclass(frozen=True)
class CaldavServer:
    url: str  # the server root, e.g. http://127.0.0.1:PORT/
    user: str
    password: str
    home: str  # the user's calendar home, e.g. http://127.0.0.1:PORT/alex/
    log: Path

    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request served so far, oldest first."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return [(m.group(1), m.group(2)) for m in _REQUEST_LINE.finditer(text)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key) that no system CA signed."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@contextlib.contextmanager
def running(
    tmp: Path, *, deadline_seconds: float = 30, tls: tuple[Path, Path] | None = None
) -> Iterator[CaldavServer]:
    """Radicale on a free port of 127.0.0.1 with its storage under `tmp`; over https with
    `tls` = (certificate, key)."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    users = tmp / "users"
    users.write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
    config = tmp / "radicale.conf"
    config.write_text(
        "\n".join(
            [
                "[server]",
                f"hosts = 127.0.0.1:{port}",
                *(["ssl = True", f"certificate = {tls[0]}", f"key = {tls[1]}"] if tls else []),
                "[auth]",
                "type = htpasswd",
                f"htpasswd_filename = {users}",
                "htpasswd_encryption = plain",
                "delay = 0",
                "[storage]",
                f"filesystem_folder = {tmp / 'collections'}",
                "[rights]",
                "type = owner_only",
                "[logging]",
                "level = debug",
                "mask_passwords = True",
                "",
            ]
        ),
        encoding="utf-8",
    )
    log = tmp / "radicale.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, log, deadline_seconds)
        server = CaldavServer(url, USER, PASSWORD, f"{url}{USER}/", log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"radicale exited {process.returncode}: {log.read_text()[-2000:]}")
        try:
            probe = ssl._create_unverified_context()  # only asks "is it up?"
            with urllib.request.urlopen(url + ".web/", timeout=2, context=probe):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.05)  # polling with a deadline, not a fixed wait
    raise RuntimeError(f"radicale did not answer on {url} within {limit:g} s")
