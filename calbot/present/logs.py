"""The worker's log: one line per event, machine-parseable, never a secret.

Two formats, both one line per record:

- ``kv``: ``ts=2025-01-07T09:30:00.123Z level=info event=scan.done drafted=1 seconds=0.42``.
  A value is quoted (``"..."``) when it is empty or holds a space, ``"`` or ``=``; inside a
  value ``\\``, ``"``, newlines, tabs and every other control character are escaped
  (``\\n``, ``\\t``, ``\\x1b``, ``\\u2028``), so untrusted text (event titles) can never start
  a new line, forge a field or drive a terminal. `parse_kv` reads a line back.
- ``json``: one JSON object per line with the same keys; control and format characters are
  written as ``\\uXXXX`` escapes (``json.loads`` gives the original text back).

Every record has ``ts`` (ISO-8601 UTC), ``level`` and ``event`` (a short dotted name:
``worker.start``, ``scan.done``, ``scan.failed``, ``digest.done``, ``worker.stop``). calbot's
events carry their details as fields: ``emit(log, "scan.done", drafted=1)``. Records from
libraries (or plain ``log.warning("...")`` calls) come out as ``event=log logger=NAME
msg="..."``.

`SecretFilter`, installed on the handler, scrubs every record before it is formatted: the
exact strings it is given (tokens and client secret, see `secrets_from_files`) and, whatever
the list, anything shaped like ``Bearer <...>``, ``access_token=...``, ``refresh_token=...``,
``client_secret=...`` or a Google OAuth token (``ya29.``, ``1//``) becomes ``***``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

from calbot.core.untrusted import escape_text, json_escaped, unescape_text

if TYPE_CHECKING:
    from calbot.config.settings import Settings

__all__ = [
    "FIELDS_ATTR",
    "LEVELS",
    "MASK",
    "LineFormatter",
    "LogFormat",
    "SecretFilter",
    "emit",
    "parse_kv",
    "render_line",
    "secrets_from_files",
    "setup_logging",
    "utc_stamp",
]

LogFormat = Literal["kv", "json"]
LEVELS = ("debug", "info", "warning", "error")
MASK = "***"
FIELDS_ATTR = "calbot_fields"  # the LogRecord attribute carrying an event's fields
MIN_SECRET_LENGTH = 8  # shorter strings would mask ordinary words

_GENERIC = [
    # Authorization: Bearer <token>
    (re.compile(r"(?i)\b(bearer)(\s+)[^\s\"',;]+"), r"\1\2" + MASK),
    # access_token=..., "refresh_token": "...", client_secret: ... (query strings, JSON, repr)
    (
        re.compile(
            r"(?i)\b(access_token|refresh_token|client_secret|id_token|token)"
            r"([\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]+"
        ),
        r"\1\2" + MASK,
    ),
    # Google's OAuth tokens by their shape, wherever they turn up
    (re.compile(r"\bya29\.[\w.\-]+"), MASK),
    (re.compile(r"(?<![\w/])1//[\w.\-]+"), MASK),
]


# --- scrubbing -----------------------------------------------------------------------------


class SecretFilter(logging.Filter):
    """Rewrites every record so that no secret reaches a handler. Thread-safe; the worker
    updates the list with `set_secrets` when the token file changes."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        kept = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}
        with self._lock:
            # longest first: a secret containing another is masked whole
            self._secrets = tuple(sorted(kept, key=len, reverse=True))

    def add_secrets(self, secrets: Iterable[str]) -> None:
        with self._lock:
            current = self._secrets
        self.set_secrets([*current, *secrets])

    def scrub(self, text: str) -> str:
        with self._lock:
            secrets = self._secrets
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern, replacement in _GENERIC:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception as exc:  # a broken %-format must not lose the record
            message = f"{record.msg!r} (bad log arguments: {type(exc).__name__})"
        record.msg = self.scrub(message)
        record.args = None
        fields = getattr(record, FIELDS_ATTR, None)
        if isinstance(fields, Mapping):
            setattr(record, FIELDS_ATTR, {k: self._scrub_value(v) for k, v in fields.items()})
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        record.exc_info = None  # only the scrubbed text is formatted from here on
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True

    def _scrub_value(self, value: object) -> object:
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.scrub(value if isinstance(value, str) else str(value))


def secrets_from_files(settings: Settings) -> list[str]:
    """The strings a log must never show: the access token, refresh token and client secret
    from the token file, and the client secret from the client secret file (when present).
    Unreadable or malformed files give nothing."""
    found: list[str] = []
    token = _read_json(settings.google.token_file)
    if isinstance(token, dict):
        for key in ("token", "access_token", "refresh_token", "client_secret", "id_token"):
            value = token.get(key)
            if isinstance(value, str) and value:
                found.append(value)
    secret = _read_json(settings.google.client_secret_file)
    if isinstance(secret, dict):
        for section in (secret, secret.get("installed"), secret.get("web")):
            if isinstance(section, dict):
                value = section.get("client_secret")
                if isinstance(value, str) and value:
                    found.append(value)
    return found


def _read_json(path_text: str) -> object:
    if not path_text:
        return None
    try:
        path = Path(path_text).expanduser()
        if path.stat().st_size > 1_000_000:
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# --- key=value lines -----------------------------------------------------------------------


def _kv_value(value: object) -> str:
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 3))
    text = escape_text(value if isinstance(value, str) else str(value))
    if not text or any(c in text for c in ' ="') or text != text.strip():
        return f'"{text}"'
    return text


_KEY_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def _kv_key(key: str) -> str:
    return _KEY_SAFE.sub("_", key) or "_"


_KV_PAIR = re.compile(r'\s*([^=\s]+)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_kv(line: str) -> dict[str, str]:
    """Read a ``kv`` line back into its fields (every value a string)."""
    fields: dict[str, str] = {}
    pos = 0
    line = line.rstrip("\n")
    while pos < len(line):
        m = _KV_PAIR.match(line, pos)
        if m is None:
            if line[pos:].strip():
                raise ValueError(f"not a key=value log line at {pos}: {line!r}")
            break
        key, raw = m.group(1), m.group(2)
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = raw[1:-1]
        fields[key] = unescape_text(raw)
        pos = m.end()
    return fields


# --- formatting ----------------------------------------------------------------------------


class LineFormatter(logging.Formatter):
    """One record → one ``kv`` or ``json`` line (see the module docstring)."""

    def __init__(self, fmt: LogFormat = "kv", scrubber: SecretFilter | None = None) -> None:
        super().__init__()
        if fmt not in ("kv", "json"):
            raise ValueError(f"log format must be kv or json, not {fmt!r}")
        self.fmt = fmt
        self.scrubber = scrubber

    def fields_of(self, record: logging.LogRecord) -> dict[str, object]:
        out: dict[str, object] = {
            "ts": utc_stamp(record.created),
            "level": record.levelname.lower(),
        }
        fields = getattr(record, FIELDS_ATTR, None)
        message = record.getMessage()
        if isinstance(fields, Mapping):
            out["event"] = message
            for key, value in fields.items():
                if key not in out:
                    out[str(key)] = value
        else:
            out["event"] = "log"
            out["logger"] = record.name
            out["msg"] = message
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        return out

    def format(self, record: logging.LogRecord) -> str:
        line = render_line(self.fmt, self.fields_of(record))
        # belt and braces: the filter scrubbed the record; scrub the finished line too
        return self.scrubber.scrub(line) if self.scrubber is not None else line


def utc_stamp(created: float) -> str:
    """A log timestamp: ISO-8601 UTC with milliseconds (``2025-01-07T09:30:00.123Z``)."""
    ts = datetime.fromtimestamp(created, UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def render_line(fmt: LogFormat, fields: Mapping[str, object]) -> str:
    """Fields → one ``kv`` or ``json`` line, escaped but not scrubbed. Takes no lock, so a
    signal handler may use it (with `os.write`) where `logging` could deadlock."""
    if fmt == "json":
        plain = {
            k: v if v is None or isinstance(v, bool | int | float | str) else str(v)
            for k, v in fields.items()
        }
        return json_escaped(json.dumps(plain, ensure_ascii=False, default=str))
    return " ".join(f"{_kv_key(k)}={_kv_value(v)}" for k, v in fields.items())


def emit(log: logging.Logger, event: str, level: int = logging.INFO, /, **fields: object) -> None:
    """Log one event with its fields: ``emit(log, "scan.done", drafted=1, seconds=0.4)``."""
    if log.isEnabledFor(level):
        log.log(level, "%s", event, extra={FIELDS_ATTR: fields})


def setup_logging(
    format: LogFormat = "kv",
    level: str | int = "info",
    stream: TextIO | None = None,
    secrets: Iterable[str] = (),
) -> SecretFilter:
    """Send every log record (calbot's and the libraries') to `stream` (stderr), one line
    each, scrubbed. Replaces the root logger's handlers; returns the filter so the caller
    can update the secrets it hides."""
    numeric = level if isinstance(level, int) else logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, not {level!r}")
    scrubber = SecretFilter(secrets)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(LineFormatter(format, scrubber))
    handler.addFilter(scrubber)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    quiet = numeric if numeric <= logging.DEBUG else logging.ERROR
    # the scheduler's own chatter ("Running job ...", skipped instances) is not news; the
    # worker logs what matters itself
    for name in ("apscheduler", "googleapiclient.discovery_cache"):
        logging.getLogger(name).setLevel(quiet)
    return scrubber
