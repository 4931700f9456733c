"""The scan table's short ids and how `calbot explain` finds a meeting from one."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from builders import client, event

from calbot.core.model import Action, Decision, Meeting
from calbot.core.scan_result import Outcome, ScanResult, Window
from calbot.errors import UsageError
from calbot.present import meeting_ids
from calbot.present.meeting_ids import SHORT_ID_MIN, find_meeting, short_ids
from calbot.present.render import table_rows
from calbot.usecases.demo import run_demo

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=BERLIN)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[Outcome]:
    run, _ = run_demo(Path(tmp_path_factory.mktemp("demo")) / "outbox", NOW)
    return run.result.outcomes


def test_every_row_has_a_short_id_that_finds_its_own_meeting(outcomes: list[Outcome]) -> None:
    ids = short_ids(outcomes)
    assert len(set(ids.values())) == len(outcomes)
    assert all(len(i) == SHORT_ID_MIN for i in ids.values())
    rows = table_rows_of(outcomes)
    for o, row in zip(outcomes, rows, strict=True):
        assert row[0] == ids[o.meeting.event.id]
        assert find_meeting(outcomes, row[0]) is o
        assert find_meeting(outcomes, row[0].upper()) is o  # hex in either case


def table_rows_of(outcomes: list[Outcome]) -> list[tuple[str, ...]]:
    window = Window(NOW, NOW, NOW)
    return list(table_rows(ScanResult(NOW, window, outcomes, 0, 0, []), BERLIN))


def test_ids_grow_until_they_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two event ids whose hashes share their first 9 characters get 10-character ids."""
    fake = {"a": "123456789a" + "0" * 54, "b": "123456789b" + "0" * 54, "c": "f" * 64}
    monkeypatch.setattr(meeting_ids, "_digest", fake.__getitem__)
    outcomes = [_outcome_with_id(i) for i in "abc"]
    assert short_ids(outcomes) == {"a": "123456789a", "b": "123456789b", "c": "fffffff"}
    with pytest.raises(UsageError, match="matches 2 meetings"):
        find_meeting(outcomes, "1234567")
    assert find_meeting(outcomes, "123456789b").meeting.event.id == "b"


def _outcome_with_id(event_id: str) -> Outcome:
    m = Meeting(event("2026-12-01 10:00", 30, id=event_id), client(), (), (), False, False)
    return Outcome(m, Decision(Action.NONE, 0, ()))


def test_a_prefix_a_uid_and_the_full_id_find_the_meeting(outcomes: list[Outcome]) -> None:
    o = next(o for o in outcomes if o.decision.action == Action.RESCHEDULE)
    ids = short_ids(outcomes)
    assert find_meeting(outcomes, ids[o.meeting.event.id][:5]) is o
    assert find_meeting(outcomes, o.meeting.event.id) is o
    assert find_meeting(outcomes, o.meeting.event.ical_uid) is o


def test_a_series_id_finds_the_occurrence_calbot_acted_on(outcomes: list[Outcome]) -> None:
    acted = next(o for o in outcomes if o.meeting.event.series_id and o.draft is not None)
    series_id = acted.meeting.event.series_id
    assert series_id is not None  # the demo's weekly status meeting
    earlier = replace(acted, decision=replace(acted.decision, action=Action.NONE))
    assert find_meeting([earlier, acted], series_id) is acted
    assert find_meeting([earlier], series_id) is earlier  # none acted on: the first


@pytest.mark.parametrize("wanted", ["nope", "", "abc"])
def test_an_unknown_or_too_short_id_is_a_usage_error(outcomes: list[Outcome], wanted: str) -> None:
    with pytest.raises(UsageError, match="no client meeting"):
        find_meeting(outcomes, wanted)
