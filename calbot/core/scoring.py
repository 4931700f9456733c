"""The score: a sum of named factors, weighed by the client's tier.

Every factor's points come from `[scoring]` in the config; `calbot explain` shows each
factor with its points and a sentence (a `Message` here, rendered in the user's language
when shown), so the formula is never hidden.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from functools import lru_cache
from itertools import islice
from zoneinfo import ZoneInfo

from calbot.core.messages import Arg, Hours, message
from calbot.core.model import Factor, Meeting, Tier
from calbot.core.settings import CoreSettings
from calbot.core.workload import Workload, iso_week, working_window

_URL = re.compile(r"\b(?:https?|ftp|webcal|mailto|tel|zoommtg|msteams):\S*|\bwww\.\S+", re.I)
AGENDA_SCAN_CHARS = 20_000  # an agenda sits at the top; no need to read a 1 MB description
# What calendar apps paste into descriptions: not an agenda.
_BOILERPLATE = re.compile(
    r"join (with google meet|zoom meeting|microsoft teams meeting|the meeting)|meeting id|"
    r"passcode|dial-in|join by phone|-::~[:~]*|learn more about meet|"
    r"tham gia bằng google meet|sertai dengan google meet",
    re.IGNORECASE,
)
_VIDEO_WORDS = re.compile(
    r"\b(zoom|google meet|meet\.google|teams|webex|whereby|jitsi|skype|online|virtual|"
    r"phone|call|video)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=1024)  # asked by scoring and by drafting; a series repeats its text
def has_agenda(description: str) -> bool:
    """At least 12 letters or digits once links and what calendar apps paste are gone."""
    text = _URL.sub(" ", description[:AGENDA_SCAN_CHARS])
    text = _BOILERPLATE.sub(" ", text)
    # the 12th one found ends the count: most descriptions have it in their first words
    return next(islice(filter(str.isalnum, text), 11, None), None) is not None


def in_person(meeting: Meeting) -> bool:
    """A physical place and no video link: someone travels."""
    event = meeting.event
    place = event.location.strip()
    if not place or event.video_link or _URL.search(place):
        return False
    return not _VIDEO_WORDS.search(place)


def client_week_counts(meetings: Iterable[Meeting], tz: ZoneInfo) -> Counter[tuple[str, int, int]]:
    """Client meetings per (client, ISO year, ISO week), history included."""
    counts: Counter[tuple[str, int, int]] = Counter()
    for m in meetings:
        year, week = iso_week(m.event.start.astimezone(tz).date())
        counts[(m.client.name, year, week)] += 1
    return counts


def repeat_count(meeting: Meeting, counts: Counter[tuple[str, int, int]], tz: ZoneInfo) -> int:
    year, week = iso_week(meeting.event.start.astimezone(tz).date())
    return counts[(meeting.client.name, year, week)]


def is_repeated(meeting: Meeting, week_count: int, settings: CoreSettings) -> bool:
    limit = settings.thresholds.max_meetings_per_client_per_week
    return meeting.event.series_id is not None or week_count > limit


@dataclass(frozen=True, slots=True)
class Score:
    total: int  # 0-100, what the thresholds compare against
    factors: tuple[Factor, ...]  # including the tier adjustment; their points add up to total
    # `has_agenda` of the description, as scored: deciding asks again (two regex passes
    # over each of thousands of descriptions in a big window)
    agenda: bool


def factors_for(
    meeting: Meeting,
    workload: Workload,
    week_count: int,
    settings: CoreSettings,
    agenda: bool,
) -> list[Factor]:
    """The raw factors, before the tier weight; each says what to tell the user. `agenda`:
    `has_agenda` of the description."""
    event, t, p = meeting.event, settings.thresholds, settings.scoring
    tz = workload.tz
    day = event.start.astimezone(tz).date()
    load = workload.day(day)
    out: list[Factor] = []

    def add(code: str, points: int, detail: str, **args: Arg) -> None:
        if points:
            out.append(Factor(code, points, message(detail, **args)))

    if load.meeting_hours > t.max_meeting_hours_per_day:
        add(
            "day_load",
            p.day_load,
            "factor.day_load",
            day=day,
            hours=Hours(load.meeting_minutes),
            limit=Hours(t.max_meeting_hours_per_day * 60),
        )
    if load.meeting_count > t.max_meetings_per_day:
        add(
            "day_count",
            p.day_count,
            "factor.day_count",
            day=day,
            count=load.meeting_count,
            limit=t.max_meetings_per_day,
        )
    week_minutes = workload.week_minutes(day)
    if week_minutes > t.max_meeting_hours_per_week * 60:
        add(
            "week_load",
            p.week_load,
            "factor.week_load",
            week=iso_week(day)[1],
            hours=Hours(week_minutes),
            limit=Hours(t.max_meeting_hours_per_week * 60),
        )
    longest = load.longest_free_minutes
    if longest is not None and longest < t.min_focus_block_minutes:
        add(
            "no_focus_block",
            p.no_focus_block,
            "factor.no_focus_block",
            minutes=t.min_focus_block_minutes,
            day=day,
            longest=round(longest),
        )
    minutes = event.duration.total_seconds() / 60
    if minutes > t.long_meeting_minutes:
        add(
            "long_meeting",
            p.long_meeting,
            "factor.long_meeting",
            minutes=round(minutes),
            limit=t.long_meeting_minutes,
        )
    if in_person(meeting):
        add("in_person", p.in_person, "factor.in_person", place=event.location.strip()[:60])
    if event.series_id is not None:
        add("repeated", p.repeated, "factor.series")
    elif week_count > t.max_meetings_per_client_per_week:
        add(
            "repeated",
            p.repeated,
            "factor.repeated",
            count=week_count,
            client=meeting.client.name,
            limit=t.max_meetings_per_client_per_week,
        )
    if not agenda:
        add("no_agenda", p.no_agenda, "factor.no_agenda")
    if meeting.user_optional:
        add("optional_or_colleague", p.optional_or_colleague, "factor.optional")
    elif meeting.colleagues:
        who = meeting.colleagues[0]
        add(
            "optional_or_colleague",
            p.optional_or_colleague,
            "factor.colleague",
            who=who.name or who.email,
        )
    if meeting.client.chatty:
        add("chatty", p.chatty, "factor.chatty", client=meeting.client.name)
    if outside_hours(meeting, workload, settings):
        local = event.start.astimezone(tz)
        add(
            "outside_hours",
            p.outside_hours,
            "factor.outside_hours",
            day=local.date(),
            time=local.time(),
        )
    return out


def outside_hours(meeting: Meeting, workload: Workload, settings: CoreSettings) -> bool:
    event = meeting.event
    day = event.start.astimezone(workload.tz).date()
    window = working_window(day, settings.user, workload.tz)
    if window is None:
        return True
    return event.start.astimezone(UTC) < window[0] or event.end.astimezone(UTC) > window[1]


TIER_DETAIL = {Tier.KEY: "factor.tier_key", Tier.LOW: "factor.tier_low"}


def score(meeting: Meeting, workload: Workload, week_count: int, settings: CoreSettings) -> Score:
    agenda = has_agenda(meeting.event.description)
    raw = factors_for(meeting, workload, week_count, settings, agenda)
    subtotal = sum(f.points for f in raw)
    p = settings.scoring
    weight = {Tier.KEY: p.key_weight, Tier.STANDARD: p.standard_weight, Tier.LOW: p.low_weight}[
        meeting.client.tier
    ]
    total = max(0, min(100, round(subtotal * weight)))
    factors = list(raw)
    if total != subtotal:
        detail = message(TIER_DETAIL.get(meeting.client.tier, "factor.tier_other"), weight=weight)
        if total in (0, 100) and subtotal * weight != total:
            detail = message("factor.capped", detail=detail)
        factors.append(Factor("tier", total - subtotal, detail))
    return Score(total, tuple(factors), agenda)
