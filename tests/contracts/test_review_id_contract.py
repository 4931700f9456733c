"""The `ReviewIdKeeper` contract: where the review calendar's id is kept (its source of
truth: a lost id would mean a second calendar), run against every keeper — the single
user's file and team mode's PostgreSQL column."""

from __future__ import annotations

import itertools
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from calbot.adapters.google.review_id import IdFile
from calbot.errors import ServiceError
from calbot.ports.review_id import ReviewIdKeeper

#: a new keeper for `place` that sees what an earlier keeper for the same place saved
Maker = Callable[[Path], ReviewIdKeeper]
_USERS = itertools.count(1)


def file_maker() -> Maker:
    return lambda place: IdFile(place / "review_calendar_id")


def postgres_maker(url: str) -> Maker:
    from calbot.team.pg_store import connect
    from calbot.team.pg_users import ReviewIdColumn, add_user

    users: dict[Path, tuple[int, str]] = {}

    def make(place: Path) -> ReviewIdKeeper:
        conn = connect(url)  # a new connection, as a later scan has
        if place not in users:
            email = f"review-{next(_USERS)}@contract.invalid"
            users[place] = (add_user(conn, email, "").user_id, email)
        user_id, email = users[place]
        return ReviewIdColumn(conn, user_id, email)

    return make


@pytest.fixture(params=["file", pytest.param("postgres", marks=pytest.mark.system)])
def make(request: pytest.FixtureRequest) -> Maker:
    if request.param == "postgres":
        return postgres_maker(request.getfixturevalue("contract_postgres"))
    return file_maker()


def test_none_until_saved(make: Maker, tmp_path: Path) -> None:
    keeper = make(tmp_path)
    assert keeper.load() is None
    assert keeper.where  # named for messages


def test_a_saved_id_outlives_the_keeper(make: Maker, tmp_path: Path) -> None:
    make(tmp_path).save("cal-1@group.calendar.google.com")
    assert make(tmp_path).load() == "cal-1@group.calendar.google.com"


def test_a_save_replaces_the_id(make: Maker, tmp_path: Path) -> None:
    keeper = make(tmp_path)
    keeper.save("cal-1@group.calendar.google.com")
    keeper.save("cal-2@group.calendar.google.com")
    assert make(tmp_path).load() == "cal-2@group.calendar.google.com"


def test_keepers_of_two_places_are_apart(make: Maker, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    make(tmp_path / "a").save("cal-a@group.calendar.google.com")
    assert make(tmp_path / "b").load() is None
    assert make(tmp_path / "a").load() == "cal-a@group.calendar.google.com"


def test_the_file_is_private_and_an_unreadable_one_refuses(tmp_path: Path) -> None:
    keeper = IdFile(tmp_path / "review_calendar_id")
    keeper.save("cal-1@group.calendar.google.com")
    assert stat.S_IMODE(keeper.path.stat().st_mode) == 0o600
    keeper.path.unlink()
    keeper.path.mkdir()  # cannot be read as a file: never "no id yet" (a second calendar)
    with pytest.raises(ServiceError, match="will not create a second calendar"):
        keeper.load()
