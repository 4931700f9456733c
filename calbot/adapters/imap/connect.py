"""One verified, logged-in IMAP connection, and the retry rules every IMAP call shares.

- TLS only: implicit TLS (port 993) or STARTTLS (port 143), per `[imap] security`. The
  certificate is always verified — against `ca_file` when set, else the system's CA store —
  and a certificate that does not verify is a clear error, never a retry without checks.
- The password comes from `$CALBOT_IMAP_PASSWORD` when set (it wins), else from
  `password_file`, which must be private (mode 0600): others must not read it.
- A refused login is `ImapAuthError` (exit 3) naming where the password came from; a server
  that cannot be reached, or drops the connection, is retried with back-off within
  `limits.retry_budget_seconds`, then `ServiceError` (exit 4). A NO/BAD answer to a command
  is not retried: it is `ServiceError` at once, naming the command.

The password is never logged, printed or put in an error message.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import socket
import ssl
import stat
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from calbot.config.settings import ImapSettings
from calbot.errors import CalbotError, OpenSecretFileError, PasswordRefused, ServiceError

PASSWORD_ENV = "CALBOT_IMAP_PASSWORD"  # noqa: S105 (a variable's name)
_T = TypeVar("_T")


class ImapAuthError(PasswordRefused):
    """No IMAP password, or the server refused it: the message ends with the fix."""

    service = "imap"


class CertificateError(CalbotError):
    """The server's TLS certificate does not verify: calbot will not talk to it."""

    exit_code = 4


class Dropped(Exception):
    """The connection broke during a command: what the server did with it is unknown."""


def password(settings: ImapSettings, env: Mapping[str, str]) -> tuple[str, str]:
    """(the password, where it came from for messages). ImapAuthError when there is none,
    OpenSecretFileError when its file is readable by others."""
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV], f"${PASSWORD_ENV}"
    path = Path(settings.password_file).expanduser()
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ImapAuthError(
            f"IMAP password file {path} does not exist (write your IMAP password or app "
            "password there, mode 0600)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImapAuthError(f"IMAP password file {path} cannot be read ({exc})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise OpenSecretFileError(
            f"IMAP password file {path} is open to others — run `chmod 600 {path}`", path
        )
    if not text:
        raise ImapAuthError(f"IMAP password file {path} is empty")
    return text, str(path)


def tls_context(settings: ImapSettings) -> ssl.SSLContext:
    """A context that verifies the certificate and the host name (never turned off)."""
    try:
        return ssl.create_default_context(cafile=settings.ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateError(
            f"[imap] ca_file {settings.ca_file}: not a readable CA bundle ({exc})"
        ) from None


def open_connection(
    settings: ImapSettings, env: Mapping[str, str], *, timeout: float
) -> IMAPClient:
    """Connect, secure and log in. Raises ImapAuthError, CertificateError, ServiceError (a
    server answer), or OSError/imaplib.IMAP4.abort (unreachable, dropped: retryable)."""
    secret, source = password(settings, env)
    context = tls_context(settings)
    where = f"{settings.host}:{settings.effective_port}"
    try:
        client = IMAPClient(
            settings.host,
            port=settings.effective_port,
            ssl=settings.security == "tls",
            ssl_context=context,
            timeout=timeout,
        )
        if settings.security == "starttls":
            client.starttls(context)
    except ssl.SSLCertVerificationError as exc:
        raise CertificateError(
            f"IMAP server {where}: its TLS certificate does not verify ({exc.verify_message}) — "
            "set [imap] ca_file to the CA that signed it; calbot never connects unverified"
        ) from None
    try:
        client.login(settings.username, secret)
    except LoginError:
        raise ImapAuthError(
            f"IMAP server {where} refused the login of {settings.username!r} with the password "
            f"from {source} (Gmail, iCloud and Fastmail need an app password)"
        ) from None
    return client


class Session:
    """A lazily opened connection, reopened after a drop; `run` retries what may be."""

    def __init__(
        self,
        settings: ImapSettings,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 30,
        retry_budget: float = 120,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._env = os.environ if env is None else env
        self._timeout = timeout
        self._budget = retry_budget
        self._sleep = sleep
        self._monotonic = monotonic
        self._client: IMAPClient | None = None
        self.selected: str | None = None  # the folder selected on the open connection

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.effective_port}"

    def client(self) -> IMAPClient:
        if self._client is None:
            self._client = open_connection(self.settings, self._env, timeout=self._timeout)
            self.selected = None
        return self._client

    def close(self) -> None:
        client, self._client, self.selected = self._client, None, None
        if client is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):  # going away anyway
                client.logout()

    def _drop(self) -> None:
        client, self._client, self.selected = self._client, None, None
        if client is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.shutdown()

    def run(
        self,
        what: str,
        action: Callable[[IMAPClient], _T],
        *,
        recheck: Callable[[], _T | None] | None = None,
    ) -> _T:
        """`action` on the connection, retried after a drop or an unreachable server until
        the retry budget is spent (then ServiceError, exit 4). `recheck`, for an action not
        safe to repeat (APPEND), runs before each retry and its answer, when not None, is
        taken instead: the dropped try may have landed."""
        deadline = self._monotonic() + self._budget
        attempt = 0
        while True:
            try:
                if attempt and recheck is not None:
                    found = recheck()
                    if found is not None:
                        return found
                return action(self.client())
            except (OSError, imaplib.IMAP4.abort, Dropped) as exc:
                if isinstance(exc, ssl.SSLCertVerificationError):
                    raise CertificateError(
                        f"IMAP server {self.where}: its TLS certificate does not verify "
                        f"({exc.verify_message}) — set [imap] ca_file to the CA that signed it"
                    ) from None
                self._drop()
                wait = min(0.5 * 2**attempt, 8.0)
                if self._monotonic() + wait > deadline:
                    raise ServiceError(
                        f"IMAP server {self.where}: {what} still failing after retries "
                        f"({_reason(exc)})"
                    ) from None
                self._sleep(wait)
                attempt += 1
            except imaplib.IMAP4.error as exc:
                raise ServiceError(f"IMAP server {self.where} refused {what}: {exc}") from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "no answer in time"
    return str(exc) or type(exc).__name__
