"""The score: a sum of named factors, weighed by the client's tier (SPEC §1 step 5).

Every factor's points come from `[scoring]` in the config; `calbot explain` shows each
factor with its points and a sentence, so the formula is never hidden.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date
from functools import lru_cache
from zoneinfo import ZoneInfo

from calbot.domain.model import Factor, Meeting, Tier
from calbot.domain.settings import Settings
from calbot.domain.workload import Workload, iso_week, working_window

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Anchored on a scheme word: a pattern like r"\S+://" backtracks quadratically through a
# long description without spaces (a 1 MB one took minutes).
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


@lru_cache(maxsize=4096)
def day_label(day: date) -> str:
    return f"{DAY_NAMES[day.weekday()]} {day.day} {MONTHS[day.month - 1]}"


@lru_cache(maxsize=4096)
def hours(minutes: float) -> str:
    """90 → '1.5 h', 240 → '4 h'."""
    return f"{minutes / 60:.1f}".rstrip("0").rstrip(".") + " h"


def has_agenda(description: str) -> bool:
    text = _URL.sub(" ", description[:AGENDA_SCAN_CHARS])
    text = _BOILERPLATE.sub(" ", text)
    return sum(map(str.isalnum, text)) >= 12


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


def is_repeated(meeting: Meeting, week_count: int, settings: Settings) -> bool:
    limit = settings.thresholds.max_meetings_per_client_per_week
    return meeting.event.series_id is not None or week_count > limit


@dataclass(frozen=True, slots=True)
class Score:
    total: int  # 0-100, what the thresholds compare against
    factors: tuple[Factor, ...]  # including the tier adjustment; their points add up to total


def factors_for(
    meeting: Meeting, workload: Workload, week_count: int, settings: Settings
) -> list[Factor]:
    """The raw factors, before the tier weight."""
    event, t, p = meeting.event, settings.thresholds, settings.scoring
    tz = workload.tz
    day = event.start.astimezone(tz).date()
    load = workload.day(day)
    out: list[Factor] = []

    def add(code: str, points: int, detail: str) -> None:
        if points:
            out.append(Factor(code, points, detail))

    if load.meeting_hours > t.max_meeting_hours_per_day:
        add(
            "day_load",
            p.day_load,
            f"{day_label(day)} has {hours(load.meeting_minutes)} of meetings, "
            f"limit {hours(t.max_meeting_hours_per_day * 60)}",
        )
    if load.meeting_count > t.max_meetings_per_day:
        add(
            "day_count",
            p.day_count,
            f"{day_label(day)} has {load.meeting_count} meetings, limit {t.max_meetings_per_day}",
        )
    week_minutes = workload.week_minutes(day)
    if week_minutes > t.max_meeting_hours_per_week * 60:
        add(
            "week_load",
            p.week_load,
            f"week {iso_week(day)[1]} has {hours(week_minutes)} of meetings, "
            f"limit {hours(t.max_meeting_hours_per_week * 60)}",
        )
    if (
        load.longest_free_minutes is not None
        and load.longest_free_minutes < t.min_focus_block_minutes
    ):
        add(
            "no_focus_block",
            p.no_focus_block,
            f"no free block of {t.min_focus_block_minutes} min left on {day_label(day)} "
            f"(longest {load.longest_free_minutes:.0f} min)",
        )
    minutes = event.duration.total_seconds() / 60
    if minutes > t.long_meeting_minutes:
        add(
            "long_meeting",
            p.long_meeting,
            f"{minutes:.0f} min long, over {t.long_meeting_minutes} min",
        )
    if in_person(meeting):
        add(
            "in_person",
            p.in_person,
            f"in person at {event.location.strip()[:60]}: travel both ways",
        )
    if event.series_id is not None:
        add("repeated", p.repeated, "a recurring meeting")
    elif week_count > t.max_meetings_per_client_per_week:
        add(
            "repeated",
            p.repeated,
            f"{week_count} meetings with {meeting.client.name} that week, "
            f"limit {t.max_meetings_per_client_per_week}",
        )
    if not has_agenda(event.description):
        add("no_agenda", p.no_agenda, "no agenda in the invitation")
    if meeting.user_optional:
        add("optional_or_colleague", p.optional_or_colleague, "you are marked optional")
    elif meeting.colleagues:
        who = meeting.colleagues[0]
        add(
            "optional_or_colleague",
            p.optional_or_colleague,
            f"{who.name or who.email} from your team attends too",
        )
    if meeting.client.chatty:
        add(
            "chatty",
            p.chatty,
            f"meetings with {meeting.client.name} tend to run over with small talk",
        )
    if outside_hours(meeting, workload, settings):
        local = event.start.astimezone(tz)
        add(
            "outside_hours",
            p.outside_hours,
            f"{day_label(local.date())} {local:%H:%M} is outside your working hours",
        )
    return out


def outside_hours(meeting: Meeting, workload: Workload, settings: Settings) -> bool:
    event = meeting.event
    day = event.start.astimezone(workload.tz).date()
    window = working_window(day, settings.user, workload.tz)
    if window is None:
        return True
    return event.start.astimezone(UTC) < window[0] or event.end.astimezone(UTC) > window[1]


TIER_LABEL = {Tier.KEY: "key client: protected", Tier.LOW: "low-priority client"}


def score(meeting: Meeting, workload: Workload, week_count: int, settings: Settings) -> Score:
    raw = factors_for(meeting, workload, week_count, settings)
    subtotal = sum(f.points for f in raw)
    p = settings.scoring
    weight = {Tier.KEY: p.key_weight, Tier.STANDARD: p.standard_weight, Tier.LOW: p.low_weight}[
        meeting.client.tier
    ]
    total = max(0, min(100, round(subtotal * weight)))
    factors = list(raw)
    if total != subtotal:
        label = TIER_LABEL.get(meeting.client.tier, "client tier")
        capped = " (capped at 0-100)" if total in (0, 100) and subtotal * weight != total else ""
        factors.append(Factor("tier", total - subtotal, f"{label}, ×{weight:g}{capped}"))
    return Score(total, tuple(factors))
