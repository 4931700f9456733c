"""A real Dovecot on 127.0.0.1 for the IMAP sink's tests, and a TCP proxy that breaks
connections on cue.

Dovecot runs from a throw-away config in a temp dir (`dovecot -c FILE -F`): an `imaps`
listener on a free port with a self-signed certificate made here (`openssl`, with
`subjectAltName=IP:127.0.0.1`), a plain `imap` listener on another that needs STARTTLS
before a login (`ssl = required`), a passwd-file user whose mail lives in the temp dir, and
Drafts/Sent marked SPECIAL-USE. Every IMAP command a session finishes is logged (the
`imap_command_finished` event at debug level), so a test can count them (`commands`).
Started by a fixture, polled with a deadline, stopped with `doveadm stop`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

USER = "alex@studio.example"
PASSWORD = "drafts-only-42"
INSTALL = "apt-get install -y dovecot-imapd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )


def make_certificate(folder: Path, name: str = "server") -> tuple[Path, Path]:
    """(cert, key): self-signed for 127.0.0.1, made with the openssl CLI."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class Dovecot:
    root: Path
    port: int
    cert: Path  # the CA file a client must trust
    conf: Path
    process: subprocess.Popen[bytes]
    mail: Path
    starttls_port: int = 0  # plain IMAP: STARTTLS first, then the login
    run: Path | None = None  # Dovecot's sockets, when not under `root`

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def commands(self, since: int = 0) -> list[str]:
        """The IMAP commands the user's sessions finished (e.g. 'UID SEARCH ALL'), in
        order, from byte `since` of the log (`len(self.log())` before the act counted).
        LOGIN is answered by the login process: it shows as 'LOGIN'."""
        found: list[str] = []
        for line in self.log()[since:].splitlines():
            if "imap-login: Info: Login:" in line:
                found.append("LOGIN")
            elif ": Debug: Command finished: " in line:
                found.append(line.split(": Debug: Command finished: ", 1)[1].strip())
        return found

    def logins(self, since: int = 0) -> list[str]:
        """How each login from byte `since` was protected: "TLS" (imaps or STARTTLS) or
        "secured" (plain, which Dovecot takes on loopback)."""
        found: list[str] = []
        for line in self.log()[since:].splitlines():
            if "imap-login: Info: Login:" in line:
                found.append("TLS" if ", TLS," in line else "secured")
        return found

    def logouts(self, since: int = 0) -> int:
        """Sessions that ended with a LOGOUT (not a dropped connection)."""
        return self.log()[since:].count("Disconnected: Logged out")

    def client(self) -> IMAPClient:
        """The test's own hands on the mailbox (the user's mail client)."""
        context = ssl.create_default_context(cafile=str(self.cert))
        c = IMAPClient("127.0.0.1", port=self.port, ssl=True, ssl_context=context, timeout=10)
        c.login(USER, PASSWORD)
        return c

    def stop(self) -> None:
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        subprocess.run([doveadm, "-c", str(self.conf), "stop"], capture_output=True, check=False)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.mail, ignore_errors=True)
        if self.run is not None:
            shutil.rmtree(self.run, ignore_errors=True)


def start_dovecot(root: Path) -> Dovecot:
    binary = dovecot_binary()
    assert binary is not None
    root.mkdir(parents=True, exist_ok=True)
    cert, key = make_certificate(root)
    me = pwd.getpwuid(os.getuid())
    # As root, mail is owned by dovenull (Dovecot refuses root as a mail user); else by us.
    owner = pwd.getpwnam("dovenull") if os.getuid() == 0 else me
    if os.getuid() == 0:
        # pytest's temp dirs are 0700 root: dovenull could not reach a mailbox inside them
        mail = Path(tempfile.mkdtemp(prefix="calbot-dovecot-mail-"))
        os.chown(mail, owner.pw_uid, owner.pw_gid)
    else:
        mail = root / "mail"
        mail.mkdir()
    (root / "users").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{owner.pw_uid}:{owner.pw_gid}::{mail}\n", encoding="utf-8"
    )
    port, plain_port = free_port(), free_port()
    # Its sockets live in a short path of their own: a socket's path holds at most 107
    # bytes, and pytest's temp dir for a long test name under xdist comes near that.
    run = Path(tempfile.mkdtemp(prefix="cbdv-"))
    run.chmod(0o755)  # Dovecot's unprivileged processes reach their sockets
    conf = root / "dovecot.conf"
    conf.write_text(
        f"""
protocols = imap
listen = 127.0.0.1
base_dir = {run}
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = required
log_debug = event=imap_command_finished
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain
first_valid_uid = 100
default_internal_user = {me.pw_name}
default_login_user = {"dovenull" if os.getuid() == 0 else me.pw_name}
mail_location = maildir:{mail}/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {plain_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  mailbox Drafts {{
    special_use = \\Drafts
    auto = create
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
""",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    server = Dovecot(root, port, cert, conf, process, mail, plain_port, run)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            out = process.stdout.read().decode(errors="replace") if process.stdout else ""
            log = (
                (root / "dovecot.log").read_text(errors="replace")
                if (root / "dovecot.log").exists()
                else ""
            )
            raise RuntimeError(f"dovecot exited: {out}\n{log}")
        try:
            server.client().logout()
            return server
        except (OSError, ssl.SSLError, Exception):
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.05)


class Proxy:
    """A TCP proxy in front of the server that can break the connection mid-command.

    TLS passes through untouched, so it tells commands apart by size: the client's first
    chunk over `big` bytes is an APPEND's message literal (imaplib sends its closing CRLF
    apart, and the TLS handshake's ClientHello is some 500 bytes). `mode`:
    - "drop_before": close both sides instead of forwarding that chunk (not stored);
    - "drop_after": forward it, then close instead of forwarding the answer (stored, the
      client never hears so);
    - "hold_after": forward it and its answer, then stop forwarding the client's next
      command and set `held` (a test kills the client there).
    Only the first connection that sends a big chunk is broken; later ones pass.
    """

    def __init__(self, target_port: int, mode: str = "", big: int = 1500) -> None:
        self.port = free_port()
        self.mode, self.big, self._target = mode, big, target_port
        self.tripped = threading.Event()
        self.held = threading.Event()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop = True
        self._server.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._target))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        # armed: the big chunk went up in this connection; answered: the server spoke since
        state = {"armed": False, "answered": False}

        def down() -> None:
            while True:
                try:
                    data = upstream.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                if state["armed"] and self.mode == "drop_after":
                    break
                try:
                    client.sendall(data)
                except OSError:
                    break
                if state["armed"]:
                    state["answered"] = True
            _close(client, upstream)

        threading.Thread(target=down, daemon=True).start()
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                break
            if not data:
                break
            if state["answered"] and self.mode == "hold_after":
                self.held.set()
                continue  # swallowed: the command after the APPEND never reaches the server
            if len(data) > self.big and self.mode and not self.tripped.is_set():
                self.tripped.set()
                if self.mode == "drop_before":
                    break
                state["armed"] = True
            try:
                upstream.sendall(data)
            except OSError:
                break
        if not (state["armed"] and self.mode == "hold_after"):
            _close(client, upstream)


def _close(*socks: socket.socket) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()


def messages(server: Dovecot, folder: str = "Drafts") -> Iterator[tuple[int, bytes]]:
    """(uid, whole message) of every message in `folder`, as the user's client sees them."""
    c = server.client()
    try:
        c.select_folder(folder, readonly=True)
        uids = c.search("ALL")
        got = c.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
        for uid in sorted(got):
            yield uid, got[uid][b"BODY[]"]
    finally:
        c.logout()


@contextlib.contextmanager
def running_dovecot(folder: Path) -> Iterator[Dovecot]:
    """A Dovecot in `folder` for the block; without the binary the test skips naming the
    package — except when CI=true, where a missing server is a failure."""
    if dovecot_binary() is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"dovecot is missing: {INSTALL}")
        pytest.skip(f"dovecot is missing: {INSTALL}")
    server = start_dovecot(folder)
    try:
        yield server
    finally:
        server.stop()


def user_edits(server: Dovecot, message_id: str, old: bytes, new: bytes) -> None:
    """What a mail client does when the user edits a draft: saves a new message (same
    Message-ID, other text) and removes the old one."""
    c = server.client()
    try:
        c.select_folder("Drafts")
        uids = c.search(["HEADER", "Message-ID", message_id])
        raw = c.fetch(uids, ["BODY.PEEK[]"])[max(uids)][b"BODY[]"]
        c.append("Drafts", raw.replace(old, new), flags=(b"\\Draft", b"\\Seen"))
        c.add_flags(uids, [b"\\Deleted"])
        c.uid_expunge(uids)
    finally:
        c.logout()


def user_deletes(server: Dovecot, message_id: str, *, sends: bool = False) -> None:
    """The user deletes the draft — or sends it: the client stores a copy in Sent first."""
    c = server.client()
    try:
        c.select_folder("Drafts")
        uids = c.search(["HEADER", "Message-ID", message_id])
        if sends and uids:
            raw = c.fetch(uids, ["BODY.PEEK[]"])[max(uids)][b"BODY[]"]
            c.append("Sent", raw, flags=(b"\\Seen",))
        if uids:
            c.add_flags(uids, [b"\\Deleted"])
            c.uid_expunge(uids)
    finally:
        c.logout()
