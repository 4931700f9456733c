"""Short ids for the scan table, and finding the meeting `calbot explain` was asked about.

An event id can be long (a Google instance id, an ICS UID with a recurrence instant), so the
table shows a short id instead: the first characters of a hash of the event id, as few as
keep the ids of one scan apart (7 at least, as git does for commits). `explain` takes that
short id or any unambiguous prefix of it, the event id, the iCalendar UID, or a recurring
series' id — for a series, the occurrence calbot acted on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from calbot.core.model import Action
from calbot.core.scan_result import Outcome
from calbot.errors import UsageError

SHORT_ID_MIN = 7
PREFIX_MIN = 4  # shorter prefixes would match by chance


def _digest(event_id: str) -> str:
    return hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()


def short_ids(outcomes: Sequence[Outcome]) -> dict[str, str]:
    """Event id → the shortest hash prefix (at least `SHORT_ID_MIN` characters) that no
    other meeting of this scan shares. In sorted order a digest shares the most with its
    neighbours, so one character past the longer of those two common prefixes is enough."""
    digests = {o.meeting.event.id: _digest(o.meeting.event.id) for o in outcomes}
    ordered = sorted(set(digests.values()))
    length: dict[str, int] = {}
    for i, digest in enumerate(ordered):
        shared = max(
            (_common(digest, ordered[j]) for j in (i - 1, i + 1) if 0 <= j < len(ordered)),
            default=0,
        )
        length[digest] = max(SHORT_ID_MIN, shared + 1)
    return {event_id: digest[: length[digest]] for event_id, digest in digests.items()}


def _common(a: str, b: str) -> int:
    """How many leading characters two digests (of equal length) share."""
    return next((k for k, (x, y) in enumerate(zip(a, b, strict=True)) if x != y), len(a))


def find_meeting(outcomes: Sequence[Outcome], wanted: str) -> Outcome:
    """The meeting `wanted` names (see the module's docstring); UsageError when none does,
    or when a prefix names meetings of more than one series."""
    exact = [o for o in outcomes if o.meeting.event.id == wanted]
    if exact:
        return exact[0]
    # a UID or series id names every occurrence of a recurring meeting
    series = [
        o for o in outcomes if wanted in (o.meeting.event.ical_uid, o.meeting.event.series_id)
    ]
    if wanted and series:
        return _acted(series)
    found: list[Outcome] = []
    if len(wanted) >= PREFIX_MIN:
        found = [o for o in outcomes if _digest(o.meeting.event.id).startswith(wanted.lower())]
    if len({o.meeting.event.id for o in found}) > 1:
        raise UsageError(
            f"{wanted!r} matches {len(found)} meetings; give more of the id shown by `calbot scan`"
        )
    if found:
        return found[0]
    raise UsageError(
        f"no client meeting with id {wanted!r} in the scan window; `calbot scan` shows the ids"
    )


def _acted(occurrences: Sequence[Outcome]) -> Outcome:
    """The occurrence of a series that calbot acted on (a series gets one draft), else the
    first."""
    return next((o for o in occurrences if o.decision.action != Action.NONE), occurrences[0])
