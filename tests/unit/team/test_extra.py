"""Without the team extra, `calbot team ...` is one line naming the install, exit 2."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from calbot.cli.main import main
from calbot.team import extra


def test_without_the_extra_the_team_command_names_the_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec

    def no_celery(name: str, *args: Any) -> Any:
        return None if name in ("celery", "psycopg") else real(name, *args)

    monkeypatch.setattr(extra.importlib.util, "find_spec", no_celery)
    for argv in (["team"], ["team", "check"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "pip install 'calbot[team]'" in err and "celery, psycopg" in err


def test_with_the_extra_nothing_is_missing() -> None:
    assert extra.missing_team_modules() == []
