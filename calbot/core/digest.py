"""The morning review as data: what to show, built from what the state store holds.

Pure: `build_digest` reads no clock, file or network — the store's rows, the settings, `now`
and the few facts the shell found out (the token's expiry warning) come in as arguments,
and a `Digest` comes out. `calbot.present.digest_text` and `digest_html` turn it into
terminal text, plain text and HTML; `calbot.usecases.digest` does the I/O.

What goes in:
- *new*: pending items the previous digest has not shown (`reported_at` is None);
- *waiting*: pending items shown before — listed with `all_items`, else only counted;
- *gone*: items the user deleted or sent (`user_deleted`, `sent`) that were not reported yet;
- pending means: not `user_deleted` nor `sent`, and the meeting has not ended yet;
- the chart: the load per day for the coming two weeks against the day's limits, before
  and after the pending drafts are accepted (`calbot.core.digest_chart`);
- the holds: the slots each pending reschedule offers (busy for every other proposal until
  the hold ends, SPEC §1.7), per item and in all;
- the hours won back: `saved_minutes` of the pending items in this ISO week (and next);
- trouble: runs since the last digest that did not go well and their warnings, grouped
  (48 identical failures overnight are one line), each with its fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from calbot.core.digest_chart import ChartDay, load_chart
from calbot.core.records import DayLoadRecord, HoldRecord, ReviewItem, RunRecord
from calbot.core.settings import CoreSettings
from calbot.core.vocab import DraftStatus, RunOutcome

#: `meta` name under which the digest keeps when it last reported (ISO-8601).
LAST_DIGEST_META = "last_digest_at"
#: Runs looked at by the very first digest (there is no "last digest" yet).
FIRST_LOOKBACK = timedelta(days=1)
#: A digest with no scan in this long (or twice `scan_every`, if longer) reports it.
STALE_AFTER = timedelta(hours=1)

#: Sinks whose drafts the digest links to (the user opens them to review and send).
USER_SINKS = ("gmail", "outbox", "imap")


class TroubleKind(StrEnum):
    """The kinds of trouble a digest reports (run outcomes, plus a few of its own)."""

    FAILED = RunOutcome.FAILED.value
    AUTH = RunOutcome.AUTH.value
    GOOGLE_DOWN = RunOutcome.GOOGLE_DOWN.value
    LOCKED = RunOutcome.LOCKED.value
    WARNING = "warning"  # a warning a run logged (skipped events, expiring access, ...)
    EXPIRY = "expiry"  # the token's 7-day Testing window ends soon
    ACCESS_CHECK = "access_check"  # the token file could not be read to check that
    STALE = "stale"  # no scan ran for a long while
    DELIVERY = "delivery"  # the digest itself could not reach Gmail


RUN_TROUBLE = frozenset(
    {RunOutcome.FAILED, RunOutcome.AUTH, RunOutcome.GOOGLE_DOWN, RunOutcome.LOCKED}
)


@dataclass(frozen=True, slots=True)
class DraftLink:
    """Where the user opens a draft: `target` is a URL (Gmail) or a file path (outbox)."""

    sink: str
    ref: str
    target: str


@dataclass(frozen=True, slots=True)
class HeldSlot:
    """A slot a pending draft offers, kept free for it (in the user's timezone)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class DigestItem:
    key: str
    client: str
    summary: str
    start: datetime  # in the user's timezone
    end: datetime
    action: str
    reason: str
    event_link: str
    drafts: tuple[DraftLink, ...]
    saved_minutes: int
    status: str
    is_new: bool  # not shown by an earlier digest
    holds: tuple[HeldSlot, ...] = ()  # the slots its draft offers, by start

    @property
    def edited(self) -> bool:
        return self.status == DraftStatus.USER_EDITED


@dataclass(frozen=True, slots=True)
class Trouble:
    """One line of trouble: `times` occurrences of the same thing, the last at `last`."""

    kind: TroubleKind
    detail: str
    last: datetime | None = None
    times: int = 1


@dataclass(frozen=True, slots=True)
class Digest:
    now: datetime  # in the user's timezone
    language: str
    user_email: str
    since: datetime | None  # the previous digest; None for the first one
    new: tuple[DigestItem, ...]
    waiting: tuple[DigestItem, ...]  # pending, shown before; empty unless `all_items`
    older_pending: int  # pending items shown before and not listed
    gone: tuple[DigestItem, ...]
    chart: tuple[ChartDay, ...]  # the coming two weeks, before and after the drafts
    held_slots: int  # slots held for pending drafts, in all
    pending_calls: int  # pending `call` drafts: they save travel, not meeting time
    saved_this_week: int  # minutes
    saved_next_week: int
    trouble: tuple[Trouble, ...]
    scans: int  # runs since the last digest
    last_scan: datetime | None  # the newest run that went well, if any
    team: bool = False  # team mode: the user's fixes are the team administrator's

    @property
    def pending(self) -> int:
        return len(self.new) + len(self.waiting) + self.older_pending

    @property
    def shown_keys(self) -> tuple[str, ...]:
        """What this digest reports, so the next one does not report it as new again."""
        return tuple(i.key for i in (*self.new, *self.waiting, *self.gone))


def build_digest(
    reviews: Iterable[ReviewItem],
    runs: Sequence[RunRecord],
    week_load: Iterable[DayLoadRecord],
    settings: CoreSettings,
    now: datetime,
    *,
    all_items: bool = False,
    since: datetime | None = None,
    outbox_dir: Path | None = None,
    extra_trouble: Sequence[Trouble] = (),
    holds: Iterable[HoldRecord] = (),
) -> Digest:
    """The digest as of `now` (aware). `runs` are those since the last digest (`since`);
    `outbox_dir` turns outbox refs into paths; `extra_trouble` comes from the shell;
    `holds` are the store's."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tz = ZoneInfo(settings.user.timezone)
    now = now.astimezone(tz)
    new: list[DigestItem] = []
    waiting: list[DigestItem] = []
    gone: list[DigestItem] = []
    older = 0
    pending: list[ReviewItem] = []
    holds = tuple(holds)
    held = _held_by_key(holds, tz, now)
    saved_this = saved_next = 0
    this_week = now.date().isocalendar()[:2]
    next_week = (now.date() + timedelta(weeks=1)).isocalendar()[:2]
    for review in sorted(reviews, key=lambda r: (r.start, r.key)):
        item = _item(review, tz, settings.user.email, outbox_dir, held.get(review.key, ()))
        if review.status in (DraftStatus.USER_DELETED, DraftStatus.SENT):
            if item.is_new:
                gone.append(item)
            continue
        if review.end <= now:  # over: nothing left to send
            continue
        pending.append(review)
        week = item.start.date().isocalendar()[:2]
        if week == this_week:
            saved_this += max(review.saved_minutes, 0)
        elif week == next_week:
            saved_next += max(review.saved_minutes, 0)
        if item.is_new:
            new.append(item)
        elif all_items:
            waiting.append(item)
        else:
            older += 1
    ok = [r for r in runs if r.outcome not in RUN_TROUBLE]
    # The scan logs the token's expiry warning too; the shell's fresher copy replaces it.
    fresh = {t.detail for t in extra_trouble}
    trouble = [t for t in _run_trouble(runs, tz) if t.detail not in fresh]
    trouble += extra_trouble
    stale = _stale(runs, settings, now, since)
    if stale is not None:
        trouble.append(stale)
    return Digest(
        now=now,
        language=settings.user.language,
        user_email=settings.user.email,
        since=since.astimezone(tz) if since is not None else None,
        new=tuple(new),
        waiting=tuple(waiting),
        older_pending=older,
        gone=tuple(gone),
        chart=tuple(load_chart(week_load, pending, holds, settings, now)),
        held_slots=sum(len(held.get(r.key, ())) for r in pending),
        pending_calls=sum(1 for r in pending if r.action == "call"),
        saved_this_week=saved_this,
        saved_next_week=saved_next,
        trouble=tuple(trouble),
        scans=len(runs),
        last_scan=max(r.finished_at for r in ok).astimezone(tz) if ok else None,
    )


def runs_since(last_digest: datetime | None, now: datetime) -> datetime:
    """Where the digest's look at the runs log starts."""
    return last_digest if last_digest is not None else now - FIRST_LOOKBACK


def gmail_link(user_email: str) -> str:
    """Gmail's Drafts folder of this account (`/u/<address>/` picks the right account when
    several are signed in; a draft id is not something Gmail's web address can open)."""
    return f"https://mail.google.com/mail/u/{quote(user_email, safe='@')}/#drafts"


def _held_by_key(
    holds: Iterable[HoldRecord], tz: ZoneInfo, now: datetime
) -> dict[str, tuple[HeldSlot, ...]]:
    """The slots still ahead that each draft key holds, by start (a passed slot holds
    nothing)."""
    out: dict[str, list[HeldSlot]] = {}
    for hold in sorted(holds, key=lambda h: (h.start, h.key)):
        if hold.end > now:
            out.setdefault(hold.key, []).append(
                HeldSlot(hold.start.astimezone(tz), hold.end.astimezone(tz))
            )
    return {key: tuple(slots) for key, slots in out.items()}


def _item(
    review: ReviewItem,
    tz: ZoneInfo,
    email: str,
    outbox: Path | None,
    holds: tuple[HeldSlot, ...] = (),
) -> DigestItem:
    links = []
    for sink, ref in sorted(review.drafts.items()):
        if not ref or sink not in USER_SINKS:  # the review calendar shows itself
            continue
        target = ""
        if sink == "gmail":
            target = gmail_link(email)
        elif outbox is not None and "/" not in ref and "\\" not in ref and ".." not in ref:
            target = str(outbox / ref)
        links.append(DraftLink(sink, ref, target))
    return DigestItem(
        key=review.key,
        client=review.client,
        summary=review.summary,
        start=review.start.astimezone(tz),
        end=review.end.astimezone(tz),
        action=review.action,
        reason=review.reason,
        event_link=review.event_link,
        drafts=tuple(links),
        saved_minutes=review.saved_minutes,
        status=review.status,
        is_new=review.reported_at is None,
        holds=holds,
    )


def _run_trouble(runs: Sequence[RunRecord], tz: ZoneInfo) -> list[Trouble]:
    """Failed runs and warnings, one line per distinct (kind, detail), in order of first
    appearance, with how often and when last."""
    seen: dict[tuple[TroubleKind, str], Trouble] = {}
    for run in runs:
        at = run.finished_at.astimezone(tz)
        found: list[tuple[TroubleKind, str]] = []
        if run.outcome != RunOutcome.OK:
            kind = TroubleKind(run.outcome) if run.outcome in RUN_TROUBLE else TroubleKind.FAILED
            detail = run.error or (run.outcome if kind == TroubleKind.FAILED else "")
            found.append((kind, detail))
        found += [(TroubleKind.WARNING, w) for w in run.warnings]
        for ident in found:
            known = seen.get(ident)
            times = known.times + 1 if known else 1
            seen[ident] = Trouble(ident[0], ident[1], at, times)
    return list(seen.values())


def _stale(
    runs: Sequence[RunRecord], settings: CoreSettings, now: datetime, since: datetime | None
) -> Trouble | None:
    """No scan at all for a while: the worker (or the timer) is probably not running."""
    start = runs_since(since, now)
    quiet = max(STALE_AFTER, 2 * settings.schedule.scan_every)
    if runs or now - start < quiet:
        return None
    return Trouble(TroubleKind.STALE, "", start.astimezone(now.tzinfo))
