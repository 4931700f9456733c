"""The imperative shell: builds the ports a scan needs from settings, holds the lock, reads
the clock. The CLI calls these; nothing here prints."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from calbot.dates import parse_when
from calbot.domain.settings import Settings
from calbot.errors import UsageError
from calbot.ports import CalendarSource, DraftSink, StateStore
from calbot.service import Ports, Progress, ScanResult, Window, quiet, run_scan


def now_in(settings: Settings) -> datetime:
    """The clock, read at the edge only."""
    return datetime.now(ZoneInfo(settings.user.timezone))


def scan_window(
    settings: Settings, now: datetime, start_text: str | None, end_text: str | None
) -> Window:
    """--from replaces now as the start; the horizon and history count from it."""
    try:
        start = parse_when(start_text, now) if start_text else now
        end = parse_when(end_text, now) if end_text else parse_when(settings.source.horizon, start)
        history = parse_when(settings.source.history, start)
    except ValueError as exc:
        raise UsageError(f"--from/--to: {exc}") from None
    if end <= start:
        raise UsageError(
            f"--to ({end:%Y-%m-%d %H:%M}) is not after --from ({start:%Y-%m-%d %H:%M})"
        )
    return Window(
        start=start, end=end, history_start=min(history, start), full=not (start_text or end_text)
    )


def make_source(settings: Settings) -> CalendarSource:
    if settings.source.kind == "ics":
        from calbot.adapters.ics import IcsSource

        return IcsSource(
            settings.source.path,
            settings.user.email,
            settings.user.timezone,
            http_timeout=settings.limits.http_timeout_seconds,
        )
    raise UsageError(
        f"{settings.path}: source.kind: Google Calendar is not connected in this version yet — "
        'use kind = "ics" with a path, or try `calbot demo`'
    )


def make_sinks(settings: Settings, now: datetime) -> list[DraftSink]:
    sinks: list[DraftSink] = []
    if settings.outputs.outbox:
        from calbot.adapters.outbox import OutboxSink

        tz = ZoneInfo(settings.user.timezone)
        sinks.append(
            OutboxSink(
                settings.outputs.outbox,
                from_addr=settings.user.email,
                from_name=settings.user.name,
                clock=lambda: datetime.now(tz),
            )
        )
    return sinks


@contextlib.contextmanager
def open_state(settings: Settings, state_dir: Path, *, dry_run: bool) -> Iterator[StateStore]:
    """The state store, locked for a real scan; read-only and unlocked for a dry run
    (which writes nothing, not even the lock file)."""
    from calbot.adapters.sqlite_state import SqliteStore

    if dry_run:
        store = SqliteStore.open(state_dir, readonly=True)
        try:
            yield store
        finally:
            store.close()
        return
    from calbot.adapters.lock import StateLock

    with StateLock(state_dir, wait_seconds=settings.limits.lock_wait_seconds):
        store = SqliteStore.open(state_dir)
        try:
            yield store
        finally:
            store.close()


@dataclass(frozen=True, slots=True)
class ScanRun:
    result: ScanResult
    outbox_paths: dict[str, str]  # outbox ref → full path


def outbox_paths(sinks: list[DraftSink], result: ScanResult) -> dict[str, str]:
    paths: dict[str, str] = {}
    for sink in sinks:
        path_of = getattr(sink, "path_of", None)
        if sink.name == "outbox" and path_of is not None:
            for o in result.outcomes:
                if "outbox" in o.refs:
                    paths[o.refs["outbox"]] = str(path_of(o.refs["outbox"]))
    return paths


def scan(
    settings: Settings,
    state_dir: Path,
    *,
    now: datetime,
    start_text: str | None = None,
    end_text: str | None = None,
    dry_run: bool = False,
    progress: Progress = quiet,
    store: StateStore | None = None,
) -> ScanRun:
    """One scan with the configured source and sinks; `store` replaces the state dir's.

    Templates are loaded (and so validated) before anything else is read.
    """
    from calbot.templating import load_templates

    templates = load_templates(settings.outputs.templates_dir, settings.path)
    window = scan_window(settings, now, start_text, end_text)
    source = make_source(settings)
    sinks = make_sinks(settings, now)
    with contextlib.ExitStack() as stack:
        if store is None:
            store = stack.enter_context(open_state(settings, state_dir, dry_run=dry_run))
        ports = Ports(source, store, sinks)
        result = run_scan(
            settings, ports, templates, now=now, window=window, dry_run=dry_run, progress=progress
        )
    return ScanRun(result, outbox_paths(sinks, result))
