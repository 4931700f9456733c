"""When team users are due: a stable offset within `scan_every`, digests at the user's own
`digest_at` in their own zone (DST-safe), broken configs on the default schedule."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from calbot.team.config import TeamSection, TeamSettings
from calbot.team.tick import (
    DEFAULT_SCHEDULE,
    next_digest_at,
    next_scan_at,
    offset_seconds,
    schedule_of,
)

EVERY = timedelta(minutes=30)
NOW = datetime(2026, 12, 7, 15, 41, 23, tzinfo=UTC)


def test_the_offset_is_stable_and_spreads_users_over_scan_every() -> None:
    assert offset_seconds(7, EVERY) == offset_seconds(7, EVERY)  # no salted hash()
    offsets = [offset_seconds(uid, EVERY) for uid in range(1, 1001)]
    assert all(0 <= o < EVERY.total_seconds() for o in offsets)
    # 1,000 users over 30 minutes: every minute gets some, none gets a crowd
    per_minute = [0] * 30
    for o in offsets:
        per_minute[int(o // 60)] += 1
    assert min(per_minute) > 10 and max(per_minute) < 70


def test_next_scan_is_the_next_slot_on_the_users_offset() -> None:
    for uid in (1, 2, 99):
        nxt = next_scan_at(uid, EVERY, NOW)
        assert NOW < nxt <= NOW + EVERY
        # on the user's offset: the same slot phase every round
        after = next_scan_at(uid, EVERY, nxt)
        assert after - nxt == EVERY
        assert next_scan_at(uid, EVERY, nxt - timedelta(microseconds=1)) == nxt


def test_next_digest_is_at_the_users_wall_clock_time_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    nxt = next_digest_at(time(7, 30), berlin, NOW)
    assert nxt.astimezone(berlin).replace(tzinfo=None) == datetime(2026, 12, 8, 7, 30)
    # the night clocks go forward (29 March 2026): still 07:30 local, 05:30 UTC
    spring = next_digest_at(time(7, 30), berlin, datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert spring == datetime(2026, 3, 29, 5, 30, tzinfo=UTC)
    # strictly after: at the digest instant itself, the next one is a day later
    assert next_digest_at(time(7, 30), berlin, nxt) - nxt == timedelta(days=1)


def test_a_broken_config_keeps_the_default_schedule_and_a_good_one_its_own() -> None:
    team = TeamSettings(team=TeamSection("postgresql://h/db", "redis://h/0", "k"))
    assert schedule_of(team, "a@x.example", "not toml [") == DEFAULT_SCHEDULE
    good = (
        '[user]\nemail = "a@x.example"\nname = "A"\ntimezone = "Asia/Ho_Chi_Minh"\n'
        '[schedule]\nscan_every = "2 hours"\ndigest_at = "06:15"\n'
        '[[clients]]\nname = "Acme"\ndomains = ["acme.example"]\n'
    )
    plan = schedule_of(team, "a@x.example", good)
    assert plan.scan_every == timedelta(hours=2) and plan.digest_at == time(6, 15)
    assert plan.tz == ZoneInfo("Asia/Ho_Chi_Minh")


def test_engine_settings_are_read_and_checked() -> None:
    import pytest

    from calbot.errors import ConfigError
    from calbot.team.config import parse_team_settings

    base = {"team": {"database_url": "postgresql://h/db", "broker_url": "redis://h:6379/0"}}
    env = {"CALBOT_SECRET_KEY": "k"}
    team = parse_team_settings(
        {**base, "engine": {"tick_seconds": 45, "visibility_timeout_seconds": 7200}},
        path="team.toml",
        env=env,
    )
    assert team.engine.tick_seconds == 45 and team.engine.visibility_timeout_seconds == 7200
    assert parse_team_settings(base, path="team.toml", env=env).engine.tick_seconds == 30
    with pytest.raises(ConfigError) as caught:
        parse_team_settings({**base, "engine": {"tick_seconds": 0}}, path="team.toml", env=env)
    assert "engine.tick_seconds" in str(caught.value) and "team.toml" in str(caught.value)
