"""The worker's log lines: parseable back (kv and JSON), no secrets, untrusted text escaped."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from calbot.config.settings import GoogleSettings, Settings
from calbot.core.settings import UserSettings
from calbot.core.untrusted import escape_text
from calbot.present.logs import (
    MASK,
    SecretFilter,
    emit,
    parse_kv,
    secrets_from_files,
    setup_logging,
)

ACCESS = "ya29.a0AfH6SMBx-secret-access"
REFRESH = "1//0gLongRefresh-secret_token"
CLIENT_SECRET = "GOCSPX-very-secret-client"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def capture(
    fmt: str, secrets: Iterable[str] = (), level: str = "debug"
) -> tuple[io.StringIO, SecretFilter]:
    stream = io.StringIO()
    assert fmt in ("kv", "json")
    scrubber = setup_logging(fmt, level, stream=stream, secrets=secrets)  # type: ignore[arg-type]
    return stream, scrubber


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


NASTY = 'Acme "sync"\nlevel=error event=forged\r\t\x1b[31mred\x7f\u2028\u202eevil = x\\y'


@pytest.mark.usefixtures("restore_logging")
def test_kv_lines_parse_back() -> None:
    stream, _ = capture("kv")
    log = logging.getLogger("calbot.test")
    emit(log, "scan.done", events=12, drafted=1, seconds=0.4321, ok=True, summary=NASTY, empty="")
    out = lines(stream)
    assert len(out) == 1  # the newline in the title did not start a second line
    fields = parse_kv(out[0])
    assert list(fields)[:3] == ["ts", "level", "event"]
    assert fields["level"] == "info" and fields["event"] == "scan.done"
    assert fields["ts"].endswith("Z") and "T" in fields["ts"]
    assert fields["events"] == "12" and fields["drafted"] == "1" and fields["seconds"] == "0.432"
    assert fields["ok"] == "true" and fields["empty"] == ""
    assert fields["summary"] == NASTY  # escaped on the way out, exact on the way back
    # nothing raw that a terminal or a line-based reader would act on
    for ch in ("\n", "\r", "\t", "\x1b", "\x7f", "\u2028", "\u202e"):
        assert ch not in out[0]


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_parse_back() -> None:
    stream, _ = capture("json")
    log = logging.getLogger("calbot.test")
    emit(log, "scan.failed", logging.ERROR, outcome="auth", summary=NASTY, seconds=1.5)
    out = lines(stream)
    assert len(out) == 1
    doc = json.loads(out[0])
    assert doc["level"] == "error" and doc["event"] == "scan.failed"
    assert doc["outcome"] == "auth" and doc["seconds"] == 1.5 and doc["summary"] == NASTY
    for ch in ("\x1b", "\x7f", "\u2028", "\u202e"):
        assert ch not in out[0]


@pytest.mark.usefixtures("restore_logging")
def test_library_records_and_exceptions_are_one_line_each() -> None:
    stream, _ = capture("kv")
    logging.getLogger("googleapiclient.http").warning("Sleeping %.1f s before retry", 1.25)
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        logging.getLogger("calbot.worker").exception("scan raised")
    out = lines(stream)
    assert len(out) == 2
    first, second = parse_kv(out[0]), parse_kv(out[1])
    assert first["event"] == "log" and first["logger"] == "googleapiclient.http"
    assert first["msg"] == "Sleeping 1.2 s before retry" and first["level"] == "warning"
    assert "Traceback" in second["exc"] and "boom\nsecond line" in second["exc"]


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("fmt", ["kv", "json"])
def test_secrets_are_scrubbed(fmt: str) -> None:
    stream, _ = capture(fmt, secrets=[ACCESS, REFRESH, CLIENT_SECRET])
    log = logging.getLogger("calbot.test")
    emit(log, "x.token", token=ACCESS, refresh=REFRESH, note=f"secret is {CLIENT_SECRET}!")
    log.warning("header Authorization: Bearer xyz-opaque-123 sent")
    log.warning("GET https://h.example/x?alt=json&access_token=abc.DEF-123&q=1")
    log.warning("%s", {"refresh_token": "rt-unknown-999", "client_secret": "cs-unknown-777"})
    log.info("form: grant_type=refresh_token&refresh_token=rt-form-555&client_secret=cs-form-4")
    log.info("an unlisted Google token ya29.unlisted-Token_9 and 1//unlisted-refresh")
    try:
        raise RuntimeError(f"token {ACCESS} rejected")
    except RuntimeError:
        log.exception("failed with %s", REFRESH)
    text = stream.getvalue()
    for secret in (
        ACCESS,
        REFRESH,
        CLIENT_SECRET,
        "xyz-opaque-123",
        "abc.DEF-123",
        "rt-unknown-999",
        "cs-unknown-777",
        "rt-form-555",
        "cs-form-4",
        "ya29.unlisted",
        "1//unlisted",
    ):
        assert secret not in text, secret
    assert MASK in text
    # the rest of the line survives
    assert "alt=json" in text and "q=1" in text and "grant_type=refresh_token" in text
    assert "Bearer ***" in text


def test_secret_filter_keeps_short_strings_and_updates() -> None:
    f = SecretFilter(["abc", "", "long-enough-secret"])
    assert f.scrub("abc and long-enough-secret") == f"abc and {MASK}"
    f.add_secrets(["another-secret-1"])
    assert f.scrub("another-secret-1 long-enough-secret") == f"{MASK} {MASK}"


def test_secrets_from_files(tmp_path: Path) -> None:
    token = tmp_path / "token.json"
    token.write_text(
        json.dumps({"token": ACCESS, "refresh_token": REFRESH, "client_secret": CLIENT_SECRET})
    )
    secret = tmp_path / "client_secret.json"
    secret.write_text(json.dumps({"installed": {"client_secret": "GOCSPX-from-the-other-file"}}))
    settings = Settings(
        user=UserSettings(email="me@example.com"),
        google=GoogleSettings(token_file=str(token), client_secret_file=str(secret)),
    )
    assert set(secrets_from_files(settings)) == {
        ACCESS,
        REFRESH,
        CLIENT_SECRET,
        "GOCSPX-from-the-other-file",
    }
    missing = Settings(
        user=UserSettings(email="me@example.com"),
        google=GoogleSettings(
            token_file=str(tmp_path / "nope.json"), client_secret_file=str(token.parent)
        ),
    )
    assert secrets_from_files(missing) == []
    token.write_text("{not json")
    assert secrets_from_files(settings) == ["GOCSPX-from-the-other-file"]


def test_escape_text_and_parse_kv_round_trip() -> None:
    for text in ["plain", "", " lead", 'a "b" = c', NASTY, "trail\\", "ünïcödé — ok", "x=y z"]:
        line = 'k=v t="' + escape_text(text) + '"'
        assert parse_kv(line) == {"k": "v", "t": text}
    with pytest.raises(ValueError):
        parse_kv('k=v "broken')


@pytest.mark.usefixtures("restore_logging")
def test_levels_filter_and_bad_level() -> None:
    stream, _ = capture("kv", level="warning")
    log = logging.getLogger("calbot.test")
    emit(log, "quiet", logging.INFO)
    emit(log, "loud", logging.WARNING)
    assert [parse_kv(x)["event"] for x in lines(stream)] == ["loud"]
    with pytest.raises(ValueError):
        setup_logging("kv", "chatty", stream=io.StringIO())
