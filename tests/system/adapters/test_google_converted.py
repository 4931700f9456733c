"""The converted window kept in the cache dir (issue 12, `converted`): an unchanged rescan
in a new source (as in a new process) reads no cached row and converts nothing, yet gives
the same events; any change to the rows, a window past the kept span, a dry run or a
corrupt file never gives a stale event. Real googleapiclient against the fake Google, the
real SQLite store."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from builders import plain_google_settings
from window_rows import HISTORY, HORIZON, NOW, CountingCache, hourly, lists

from calbot.adapters.google import calendar as calendar_module
from calbot.adapters.google.api import connect
from calbot.adapters.google.calendar import GoogleCalendarSource
from calbot.adapters.sqlite import SqliteStore
from calbot.config.settings import Settings
from calbot.core.model import Event
from calbot.ports.store import SyncCache


@pytest.fixture
def settings(google: Any, tmp_path: Path) -> Settings:
    return plain_google_settings(google, tmp_path, NOW)


@pytest.fixture(autouse=True)
def own_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the items the source converts."""
    seen: list[str] = []
    real = calendar_module.to_event

    def counting(item: Any, *args: Any, **kwargs: Any) -> Event | None:
        seen.append(str(item.get("id")))
        return real(item, *args, **kwargs)

    monkeypatch.setattr(calendar_module, "to_event", counting)
    return seen


def kept_files() -> list[Path]:
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "calbot" / "google"
    return sorted(folder.glob("*.pickle")) if folder.is_dir() else []


def scan(
    settings: Settings,
    cache: SyncCache,
    *,
    keep: bool = True,
    writable: bool = True,
    shift: timedelta = timedelta(0),
) -> list[Event]:
    api = connect(settings, sleep=lambda s: None)
    src = GoogleCalendarSource(
        api, settings, cache, writable=writable, now=NOW + shift, keep_converted=keep
    )
    return list(src.events(NOW + shift - HISTORY, NOW + shift + HORIZON))


def test_an_unchanged_rescan_unpickles_instead_of_reading_and_converting(
    google: Any, settings: Settings, store: SqliteStore, conversions: list[str]
) -> None:
    hourly(google)
    first = scan(settings, store)
    assert len(kept_files()) == 1
    assert first == scan(settings, store, keep=False)  # what a scan without it gives
    conversions.clear()
    google.requests.clear()
    counting = CountingCache(store)
    again = scan(settings, cast(SyncCache, counting))
    assert again == first
    assert counting.rows == 0 and counting.whole_reads == 0
    assert conversions == []
    assert len(lists(google)) == 1 and "syncToken" in lists(google)[0].query
    # a window moved by less than the span's extra day: still kept, and still right
    later = scan(settings, cast(SyncCache, counting), shift=timedelta(hours=20))
    assert counting.rows == 0 and conversions == []
    assert later == scan(settings, store, keep=False, shift=timedelta(hours=20))


def test_a_changed_calendar_is_converted_again_and_kept_anew(
    google: Any, settings: Settings, store: SqliteStore, conversions: list[str]
) -> None:
    series = hourly(google)
    scan(settings, store)
    instance = next(i for i in scan(settings, store) if i.start > NOW)
    google.update_event("primary", instance.id, summary="Moved ping")
    conversions.clear()
    changed = scan(settings, store)
    assert conversions  # the rows were read and converted again
    assert [e.summary for e in changed if e.id == instance.id] == ["Moved ping"]
    assert changed == scan(settings, store, keep=False)
    conversions.clear()
    assert scan(settings, store) == changed  # the new rows kept: no conversion
    assert conversions == []
    google.delete_event("primary", series)
    assert scan(settings, store) == []


def test_a_window_past_the_kept_span_converts(
    google: Any, settings: Settings, store: SqliteStore, conversions: list[str]
) -> None:
    hourly(google)
    scan(settings, store)
    conversions.clear()
    shifted = scan(settings, store, shift=timedelta(days=2))
    assert conversions
    assert shifted == scan(settings, store, keep=False, shift=timedelta(days=2))


def test_a_dry_run_reads_what_is_kept_but_writes_nothing(
    google: Any, settings: Settings, store: SqliteStore, conversions: list[str]
) -> None:
    hourly(google)
    scan(settings, store, keep=False)
    dry = scan(settings, store, writable=False)
    assert kept_files() == []
    real = scan(settings, store)
    assert dry == real and len(kept_files()) == 1
    conversions.clear()
    assert scan(settings, store, writable=False) == real
    assert conversions == []


def test_a_corrupt_or_foreign_file_is_a_miss(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    hourly(google)
    first = scan(settings, store)
    (path,) = kept_files()
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_bytes(b"not a pickle")
    assert scan(settings, store) == first
    assert len(kept_files()) == 1
    # rows changed behind the kept file's back (a scan that does not keep it): the
    # stored stamp changed with them, so the file no longer stands for the rows
    google.add_event(
        summary="New",
        start={"dateTime": (NOW + timedelta(hours=3)).isoformat()},
        end={"dateTime": (NOW + timedelta(hours=4)).isoformat()},
    )
    changed = scan(settings, store, keep=False)
    assert len(changed) == len(first) + 1
    assert scan(settings, store) == changed


def test_without_keeping_no_file_or_folder_is_made(
    google: Any, settings: Settings, store: SqliteStore
) -> None:
    """Team mode builds the source without it: no local files."""
    hourly(google)
    scan(settings, store, keep=False)
    scan(settings, store, keep=False)
    assert not (Path(os.environ["XDG_CACHE_HOME"]) / "calbot" / "google").exists()


def test_events_gone_from_the_file_after_its_head_was_read_are_converted(
    google: Any,
    settings: Settings,
    store: SqliteStore,
    conversions: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from calbot.adapters.google.converted import ConvertedCache

    hourly(google)
    first = scan(settings, store)
    monkeypatch.setattr(ConvertedCache, "events", lambda self, entry: None)
    conversions.clear()
    assert scan(settings, store) == first
    assert conversions
