"""`parse_when` reads "in N days/weeks" and "N days/weeks ago" (the defaults of
`source.horizon`/`history`) without building its grammar; the answer must be the
grammar's own, DST days included."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import pytz  # type: ignore[import-untyped]

from calbot.config import dates
from calbot.config.date_grammar import grammar_for
from calbot.config.date_phrases import read_phrase

PHRASES = [
    "in 14 days",
    "14 days ago",
    "in 1 day",
    "1 day ago",
    "in 2 weeks",
    "3 weeks ago",
    "in 0 days",
    "in 400 days",
]
NOWS = [
    datetime(2025, 3, 20, 2, 30, tzinfo=ZoneInfo("Europe/Berlin")),  # 14 days: a spring gap
    datetime(2025, 10, 12, 2, 30, tzinfo=ZoneInfo("Europe/Berlin")),  # 14 days ago: fold
    datetime(2025, 3, 30, 2, 30, tzinfo=ZoneInfo("America/New_York")),
    pytz.timezone("Asia/Ho_Chi_Minh").localize(datetime(2025, 6, 1, 23, 59)),
]


@pytest.mark.parametrize("now", NOWS, ids=str)
@pytest.mark.parametrize("phrase", PHRASES)
def test_the_short_way_gives_the_grammars_answer(phrase: str, now: datetime) -> None:
    fast = dates._whole_days(phrase, now, dates.DEFAULT_LANGUAGES)
    assert fast is not None
    slow = read_phrase(phrase, now, grammar_for(dates.DEFAULT_LANGUAGES))
    assert (fast, fast.utcoffset()) == (slow, slow.utcoffset())
    assert dates.parse_when(phrase, now) == slow


@pytest.mark.parametrize("phrase", ["in 14 days ago", "14 days", "in 1.5 days", "in 2 months"])
def test_other_shapes_are_left_to_the_grammar(phrase: str) -> None:
    assert dates._whole_days(phrase, NOWS[0], dates.DEFAULT_LANGUAGES) is None


def test_the_default_window_builds_no_grammar() -> None:
    grammar_for.cache_clear()
    dates.parse_when("in 14 days", NOWS[0])
    dates.parse_when("14 days ago", NOWS[0])
    assert grammar_for.cache_info().misses == 0
