"""The imperative shell: builds the ports a scan needs from settings, holds the lock, reads
the clock. The CLI calls these; nothing here prints."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from calbot.adapters.lock import StateLock
from calbot.adapters.sqlite import SqliteStore
from calbot.config.dates import FIRST_YEAR, LAST_YEAR, check_moment, check_span, parse_when
from calbot.config.settings import Settings
from calbot.core.messages import Message, message
from calbot.core.scan_result import Window
from calbot.errors import (
    ConfigError,
    LockedError,
    UsageError,
)
from calbot.ports.calendar import CalendarSource
from calbot.ports.review_id import ReviewIdKeeper
from calbot.ports.sinks import DraftSink, NoteSink
from calbot.ports.store import StateStore
from calbot.present.messages import say, section
from calbot.usecases.runlog import failed_run, ok_run, record_quietly, record_run, record_unlocked

# The scan use case, the templates (Jinja2, Babel) and the outbox (e-mail) are imported in
# the functions that use them: a Google scan sends its first request before it loads them,
# so their import overlaps Google's answer (see `scan`).
if TYPE_CHECKING:
    from calbot.adapters.caldav import Dav
    from calbot.adapters.google.api import GoogleApi
    from calbot.adapters.google.review import ReviewCalendar
    from calbot.usecases.scan import Ports, Progress, ScanResult


def now_in(settings: Settings) -> datetime:
    """The clock, read at the edge only."""
    return datetime.now(ZoneInfo(settings.user.timezone))


def scan_window(
    settings: Settings, now: datetime, start_text: str | None, end_text: str | None
) -> Window:
    """--from replaces now as the start; the horizon and history count from it."""
    try:  # each bound checked before any arithmetic on it (year 9999 + 14 days overflows)
        start = check_moment("--from", parse_when(start_text, now)) if start_text else now
        if end_text:
            end = check_moment("--to", parse_when(end_text, now))
        else:
            end = check_moment("--to", parse_when(settings.source.horizon, start))
        history = parse_when(settings.source.history, start)
        if end > start:
            check_span(start, end)
    except ValueError as exc:
        text = str(exc)
        raise UsageError(text if text.startswith("--") else f"--from/--to: {text}") from None
    except OverflowError:  # defensive: the checks above keep the dates far from the edges
        raise UsageError(f"--from/--to: outside the years {FIRST_YEAR}–{LAST_YEAR}") from None
    if end <= start:
        raise UsageError(
            f"--to ({end:%Y-%m-%d %H:%M}) is not after --from ({start:%Y-%m-%d %H:%M})"
        )
    return Window(
        start=start, end=end, history_start=min(history, start), full=not (start_text or end_text)
    )


def make_ports(
    settings: Settings,
    store: StateStore,
    now: datetime,
    *,
    dry_run: bool,
    api: GoogleApi | None = None,
    closing: contextlib.ExitStack | None = None,
    review_ids: ReviewIdKeeper | None = None,
    prefetch_from: datetime | None = None,
    memo: bool = False,
) -> tuple[Ports, list[Message]]:
    """The adapters one scan talks to, chosen by the config, and warnings about that choice.

    ICS: read a file or URL, drafts to the outbox. Google: Calendar, Gmail drafts and
    calendar notes as configured, plus the outbox when one is set. The ICS and Google
    adapters are imported only when chosen: each pulls in a heavy library the other
    configuration never needs (icalendar, googleapiclient). `api`: Google clients built by
    the caller (team mode: per-user credentials, shared request budgets). `closing`: where
    a sink holding a connection (IMAP) registers its close, for the end of the scan.
    `review_ids`: where the review calendar's id is kept (team mode: PostgreSQL), instead of
    the file beside the token.
    `prefetch_from`: the scan's first moment; a Google source sends its first request at
    once (`GoogleCalendarSource.prefetch`), before the rest is built.
    `memo`: a Google source keeps its converted window in the cache dir (`converted`)."""
    if settings.outputs.outbox and not dry_run:  # before any sink exists, let alone writes
        from calbot.adapters.outbox import folder_problem  # imported only when configured

        problem = folder_problem(settings.outputs.outbox)
        if problem:
            raise ConfigError(str(settings.path), "outputs.outbox", problem)
    sinks: list[DraftSink] = []
    notes: NoteSink | None = None
    warnings: list[Message] = []
    if settings.source.kind == "ics":
        from calbot.adapters.ics import IcsSource

        source: CalendarSource = IcsSource(
            settings.source.path,
            settings.user.email,
            settings.user.timezone,
            http_timeout=settings.limits.http_timeout_seconds,
            download_timeout=settings.limits.download_timeout_seconds,
            retry_budget=settings.limits.retry_budget_seconds,
        )
        if settings.outputs.gmail_drafts or settings.outputs.calendar_notes:
            warnings.append(message("warn.ics_outputs"))
    elif settings.source.kind == "caldav":
        source, review = caldav_ports(settings, store, dry_run=dry_run)
        sinks.extend(review)
    else:
        from calbot.adapters.google.api import connect
        from calbot.adapters.google.auth import testing_expiry_warning
        from calbot.adapters.google.calendar import GoogleCalendarSource

        if api is None:
            api = connect(settings)
        google = GoogleCalendarSource(
            api, settings, store, writable=not dry_run, now=now, keep_converted=memo
        )
        if prefetch_from is not None:
            google.prefetch(prefetch_from)
        source = google
        from calbot.adapters.google.gmail import GmailSink
        from calbot.adapters.google.notes import CalendarNotes

        if settings.outputs.review_calendar:
            sinks.append(review_calendar(api, settings, store, review_ids))
        if settings.outputs.gmail_drafts:
            sinks.append(
                GmailSink(
                    api,
                    from_addr=settings.user.email,
                    from_name=settings.user.name,
                    clock=lambda: datetime.now(ZoneInfo(settings.user.timezone)),
                )
            )
        if settings.outputs.calendar_notes:
            notes = CalendarNotes(api, colors=[settings.outputs.note_color])
        warning = testing_expiry_warning(settings, now)
        if warning:
            warnings.append(warning)
    sinks.extend(make_imap(settings, closing))
    sinks.extend(make_outbox(settings))
    from calbot.usecases.scan import Ports

    return Ports(source, store, sinks, notes), warnings


def make_imap(settings: Settings, closing: contextlib.ExitStack | None = None) -> list[DraftSink]:
    """The IMAP drafts sink when `outputs.imap_drafts` is on (imported only then). It
    connects on its first request, so building it costs nothing; `closing` logs it out."""
    if not settings.outputs.imap_drafts:
        return []
    from calbot.adapters.imap.connect import Session
    from calbot.adapters.imap.sink import ImapSink

    tz = ZoneInfo(settings.user.timezone)
    session = Session(
        settings.imap,
        timeout=settings.limits.http_timeout_seconds,
        retry_budget=settings.limits.retry_budget_seconds,
    )
    if closing is not None:  # LOGOUT at the end of the scan, not a dropped socket at exit
        closing.callback(session.close)
    return [
        ImapSink(
            session,
            from_addr=settings.user.email,
            from_name=settings.user.name,
            clock=lambda: datetime.now(tz),
        )
    ]


def review_calendar(
    api: GoogleApi, settings: Settings, store: StateStore, keeper: ReviewIdKeeper | None = None
) -> ReviewCalendar:
    """The private "calbot review" calendar: a review sink, so a meeting shows its status
    only when no mail sink has one."""
    # imported here like the other Google adapters (see make_ports): googleapiclient is slow
    from calbot.adapters.google.review import ReviewCalendar
    from calbot.adapters.google.review_id import META_KEY, IdFile, id_file_for

    def save_id(value: str) -> None:
        with store.transaction():
            store.put_meta(META_KEY, value)

    return ReviewCalendar(
        api,
        settings,
        labels=section("review.", settings.user.language),
        keeper=keeper or IdFile(id_file_for(settings)),
        load_id=lambda: store.get_meta(META_KEY),
        save_id=save_id,
    )


def make_outbox(settings: Settings) -> list[DraftSink]:
    if not settings.outputs.outbox:
        return []
    from calbot.adapters.outbox import OutboxSink

    tz = ZoneInfo(settings.user.timezone)
    return [
        OutboxSink(
            settings.outputs.outbox,
            from_addr=settings.user.email,
            from_name=settings.user.name,
            clock=lambda: datetime.now(tz),
        )
    ]


@contextlib.contextmanager
def open_state(settings: Settings, state_dir: Path, *, dry_run: bool) -> Iterator[StateStore]:
    """The state store, locked for a real scan; read-only and unlocked for a dry run
    (which writes nothing, not even the lock file)."""
    if dry_run:
        store = SqliteStore.open(state_dir, readonly=True)
        try:
            yield store
        finally:
            store.close()
        return
    with StateLock(state_dir, wait_seconds=settings.limits.lock_wait_seconds):
        store = SqliteStore.open(state_dir)
        try:
            yield store
        finally:
            store.close()


@dataclass(frozen=True, slots=True)
class ScanRun:
    result: ScanResult
    outbox_paths: dict[str, str]  # draft ref → full path, for the sinks that keep files


def outbox_paths(sinks: Sequence[DraftSink], result: ScanResult) -> dict[str, str]:
    """The local file of each draft the meetings refer to, where its sink keeps one."""
    paths: dict[str, str] = {}
    for sink in sinks:
        for o in result.outcomes:
            ref = o.refs.get(sink.name)
            if ref is not None and (path := sink.path_of(ref)) is not None:
                paths[ref] = str(path)
    return paths


def scan(
    settings: Settings,
    state_dir: Path,
    *,
    now: datetime,
    start_text: str | None = None,
    end_text: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    store: StateStore | None = None,
    api: GoogleApi | None = None,
    review_ids: ReviewIdKeeper | None = None,
    memo: bool = True,
) -> ScanRun:
    """One scan with the configured source and sinks; `store` replaces the state dir's,
    `api` the Google clients `connect(settings)` would build, `review_ids` the keeper of the
    review calendar's id (by default the file beside the token). `memo`: keep rendered
    drafts (`draft_memo`) and a Google calendar's converted window in the cache dir for
    the next scan; team mode keeps no local files, least of all users' draft text on a
    shared worker.

    Templates are validated before anything else is read (`TemplateSource`). A real scan
    (not a dry run) is logged in the store's runs, failures included, for the digest.
    A Google source sends its first request as soon as it is built (`make_ports`), so
    Google's answer overlaps importing and building the rest of the scan.
    """
    from calbot.config.template_files import TemplateSource
    from calbot.usecases.draft_memo import open_memo

    # checked now unless checked before; Jinja2 and Babel load only if a draft is rendered
    templates = TemplateSource(settings.outputs.templates_dir, settings.path)
    window = scan_window(settings, now, start_text, end_text)
    try:
        with contextlib.ExitStack() as stack:
            if store is None:
                store = stack.enter_context(open_state(settings, state_dir, dry_run=dry_run))
            try:
                ports, notices = make_ports(
                    settings,
                    store,
                    now,
                    dry_run=dry_run,
                    api=api,
                    closing=stack,
                    review_ids=review_ids,
                    prefetch_from=window.history_start,
                    memo=memo,
                )
                from calbot.usecases.scan import quiet, run_scan

                result = run_scan(
                    settings,
                    ports,
                    templates,
                    now=now,
                    window=window,
                    dry_run=dry_run,
                    progress=progress or quiet,
                    memo=open_memo(templates.digest, settings, settings.path) if memo else None,
                )
            except Exception as exc:
                if not dry_run:
                    record_quietly(store, failed_run(exc, now))
                raise
            result.warnings[:0] = [say(n, settings.user.language) for n in notices]
            if not dry_run:
                record_run(store, ok_run(result, now))
    except LockedError as exc:
        if not dry_run:
            record_unlocked(state_dir, failed_run(exc, now))
        raise
    return ScanRun(result, outbox_paths(ports.sinks, result))


def caldav_ports(
    settings: Settings, store: StateStore, *, dry_run: bool
) -> tuple[CalendarSource, list[DraftSink]]:
    """The CalDAV source, and the CalDAV review calendar when `outputs.review_calendar` is on
    (imported only when chosen: the `caldav` library is heavy)."""
    from calbot.adapters.caldav import CaldavSource, connect

    dav = connect(settings)
    source = CaldavSource(dav, settings, store, writable=not dry_run)
    if not settings.outputs.review_calendar:
        return source, []
    return source, [caldav_review_calendar(dav, settings, store, dry_run=dry_run)]


def caldav_review_calendar(
    dav: Dav, settings: Settings, store: StateStore, *, dry_run: bool = False
) -> DraftSink:
    """The "calbot review" calendar on the CalDAV server; its URL kept in the store (a dry
    run keeps nothing: it only reads)."""
    from calbot.adapters.caldav.review import META_KEY, CaldavReviewCalendar

    def save_url(value: str) -> None:
        if dry_run:
            return
        with store.transaction():
            store.put_meta(META_KEY, value)

    return CaldavReviewCalendar(
        dav,
        labels=section("review.", settings.user.language),
        tz_name=settings.user.timezone,
        load_url=lambda: store.get_meta(META_KEY),
        save_url=save_url,
    )
