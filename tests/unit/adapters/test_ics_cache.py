"""The ICS cache between scans (issue 12): an unchanged file or URL is not parsed again, an
unchanged URL is asked for with its validators and answers 304, and what comes from the
cache is what a fresh parse gives."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import calbot.adapters.ics.source as ics_source
from calbot.adapters.ics import IcsSource
from calbot.usecases.demo import demo_calendar

DATA = Path(__file__).parents[2] / "data" / "ics"
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=BERLIN)
WINDOW = (NOW - timedelta(days=14), NOW + timedelta(days=14))


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every parse of a calendar's bytes, by location."""
    seen: list[str] = []
    real = ics_source.parse

    def counting(where: str, data: bytes) -> Any:
        seen.append(where)
        return real(where, data)

    monkeypatch.setattr(ics_source, "parse", counting)
    return seen


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def read(location: str, window: tuple[datetime, datetime] = WINDOW, **kw: Any) -> IcsSource:
    source = IcsSource(location, "alex@studio.example", "Europe/Berlin", **kw)
    source.found = list(source.events(*window))  # type: ignore[attr-defined]
    return source


def same(a: IcsSource, b: IcsSource) -> None:
    assert a.found == b.found  # type: ignore[attr-defined]
    assert a.warnings == b.warnings


def test_an_unchanged_file_is_parsed_once(tmp_path: Path, parses: list[str]) -> None:
    path = tmp_path / "week.ics"
    path.write_text(demo_calendar(NOW.date()), encoding="utf-8")
    first = read(str(path))
    assert first.found and len(parses) == 1  # type: ignore[attr-defined]
    second = read(str(path))
    assert len(parses) == 1
    same(second, first)
    later = (WINDOW[0] + timedelta(days=20), WINDOW[1] + timedelta(days=20))  # inside the span
    assert read(str(path), later).found == read(str(path), later, use_cache=False).found  # type: ignore[attr-defined]
    assert len(parses) == 2  # only the uncached read


def test_a_changed_file_or_a_window_outside_the_span_parses_again(
    tmp_path: Path, parses: list[str]
) -> None:
    path = tmp_path / "week.ics"
    path.write_text(demo_calendar(NOW.date()), encoding="utf-8")
    read(str(path))
    path.write_text(demo_calendar(NOW.date() + timedelta(days=7)), encoding="utf-8")
    changed = read(str(path))
    assert len(parses) == 2
    same(changed, read(str(path), use_cache=False))
    far = (WINDOW[0] + timedelta(days=90), WINDOW[1] + timedelta(days=90))
    read(str(path), far)
    assert len(parses) == 4


@pytest.mark.parametrize(
    "name", sorted(p.name for p in DATA.glob("*.ics") if "not_a" not in p.name)
)
def test_cached_reads_equal_fresh_ones(name: str, tmp_path: Path) -> None:
    """Warnings included, for every sample calendar and several windows."""
    for days in (0, 10, 25):
        window = (datetime(2025, 3, 1, tzinfo=BERLIN) + timedelta(days=days),) * 2
        window = (window[0], window[1] + timedelta(days=28))
        fresh = read(str(DATA / name), window, use_cache=False)
        read(str(DATA / name), window)
        same(read(str(DATA / name), window), fresh)


@dataclass
class _Calendar:
    body: bytes
    etag: str
    hits: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, _Calendar]]:
    cal = _Calendar(demo_calendar(NOW.date()).encode(), '"v1"')

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            cal.hits.append(dict(self.headers))
            if self.headers.get("If-None-Match") == cal.etag:
                self.send_response(304)
                self.send_header("ETag", cal.etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("ETag", cal.etag)
            self.send_header("Content-Length", str(len(cal.body)))
            self.end_headers()
            self.wfile.write(cal.body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/cal.ics", cal
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_an_unchanged_url_gets_a_304_and_is_not_parsed(
    served: tuple[str, _Calendar], parses: list[str]
) -> None:
    url, cal = served
    first = read(url)
    assert len(cal.hits) == 1 and "If-None-Match" not in cal.hits[0]
    second = read(url)
    assert len(cal.hits) == 2 and cal.hits[1]["If-None-Match"] == '"v1"'
    assert len(parses) == 1  # the 304 answer: the kept copy, not parsed
    assert second.requests == 1
    same(second, first)


def test_a_changed_url_is_downloaded_and_parsed(
    served: tuple[str, _Calendar], parses: list[str]
) -> None:
    url, cal = served
    read(url)
    cal.body = demo_calendar(date(2026, 12, 1)).encode()
    cal.etag = '"v2"'
    changed = read(url)
    assert len(parses) == 2
    assert [e.start for e in changed.found] != []  # type: ignore[attr-defined]
    same(changed, read(url, use_cache=False))
    read(url)
    assert len(parses) == 3  # the uncached read only
    assert cal.hits[-1]["If-None-Match"] == '"v2"'


def test_no_cache_dir_means_no_cache(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = tmp_path / "week.ics"
    path.write_text(demo_calendar(NOW.date()), encoding="utf-8")
    same(read(str(path)), read(str(path)))
    assert len(parses) == 2
