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


# --- a scripted WebDAV server ---------------------------------------------------------------
# For answers Radicale never gives (a sync-collection cut short with 507) and a login it
# does not offer (Digest only). Answers come from a script, in order; every request is kept.


@dataclass
class Seen:
    method: str
    path: str
    body: str
    authorization: str


class ScriptedDav:
    """An HTTP server on 127.0.0.1 that answers each request with the next `(status, body)`
    of `script`. `digest` set: it demands HTTP Digest auth (RFC 7616, MD5, qop=auth) for
    that user and password and refuses Basic with a Digest challenge."""

    def __init__(
        self, script: list[tuple[int, str]], *, digest: tuple[str, str] | None = None
    ) -> None:
        import hashlib
        import http.server
        import threading

        self.script = list(script)
        self.seen: list[Seen] = []
        self.digest, self.nonce, self.realm = digest, "n0nce-" + os.urandom(6).hex(), "calbot"
        owner = self

        def md5(text: str) -> str:
            return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

        def authorized(header: str, method: str) -> bool:
            if owner.digest is None:
                return True
            if not header.startswith("Digest "):
                return False
            fields = dict(re.findall(r'(\w+)="?([^",]*)"?', header[7:]))
            user, password = owner.digest
            ha1 = md5(f"{user}:{owner.realm}:{password}")
            ha2 = md5(f"{method}:{fields.get('uri', '')}")
            want = md5(
                f"{ha1}:{owner.nonce}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:"
                f"{fields.get('qop', '')}:{ha2}"
            )
            return fields.get("username") == user and fields.get("response") == want

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                return

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                auth = self.headers.get("Authorization") or ""
                owner.seen.append(Seen(self.command, self.path, body, auth))
                if not authorized(auth, self.command):
                    self.send_response(401)
                    self.send_header(
                        "WWW-Authenticate",
                        f'Digest realm="{owner.realm}", nonce="{owner.nonce}", qop="auth", '
                        "algorithm=MD5",
                    )
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, text = owner.script.pop(0) if owner.script else (500, "script ended")
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", 'application/xml; charset="utf-8"')
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_REPORT = do_PROPFIND = do_GET = _answer

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ScriptedDav:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sync_answer(collection: str, objects: dict[str, str], token: str, *, cut: bool) -> str:
    """A sync-collection 207: `objects` (name → iCalendar text) with data, the new `token`;
    `cut`: the collection's own 507 response (RFC 6578 §3.6, the answer was truncated)."""
    from xml.sax.saxutils import escape

    parts = [
        f"<d:response><d:href>{collection}{name}</d:href><d:propstat><d:prop>"
        f'<d:getetag>"{name}-1"</d:getetag><c:calendar-data>{escape(text)}</c:calendar-data>'
        "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
        for name, text in objects.items()
    ]
    if cut:
        parts.append(
            f"<d:response><d:href>{collection}</d:href>"
            "<d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        f"{''.join(parts)}<d:sync-token>{token}</d:sync-token></d:multistatus>"
    )
