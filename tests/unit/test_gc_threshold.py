"""A calbot process collects garbage per 100,000 new objects, not per 700 (issue 12: the
collector's passes cost ~15 % of an unchanged rescan's CPU)."""

from __future__ import annotations

import gc

import pytest

from calbot.cli.main import main


def test_a_calbot_process_collects_less_often(capsys: pytest.CaptureFixture[str]) -> None:
    before = gc.get_threshold()
    gc.set_threshold(700)
    try:
        with pytest.raises(SystemExit):
            main(["--help"])
        assert gc.get_threshold()[0] == 100_000
    finally:
        gc.set_threshold(*before)
    assert "calbot" in capsys.readouterr().out


def test_the_process_entry_point_freezes_the_heap_before_shutdown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Python's shutdown collects over every live object (~65 ms of a rescan): the entry
    point freezes them first, after `main` has returned, on every way out (--help exits)."""
    import runpy

    import calbot.cli.main as cli

    calls: list[str] = []

    def main() -> int:
        calls.append("main")
        return 3

    monkeypatch.setattr(cli, "main", main)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("calbot", run_name="__main__")
    assert exited.value.code == 3
    assert calls == ["main", "freeze"]

    def help_exit() -> int:
        calls.append("help")
        raise SystemExit(0)

    monkeypatch.setattr(cli, "main", help_exit)
    with pytest.raises(SystemExit):
        cli.entry_point()
    assert calls[2:] == ["help", "freeze"]
    capsys.readouterr()


def test_the_calbot_command_is_the_entry_point() -> None:
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["calbot"] == "calbot.cli.main:entry_point"
