"""How a calbot process steers the garbage collector (`calbot.collector`, issue 12: the
collector's passes cost ~15 % of an unchanged rescan's CPU): per 100,000 new objects, not
per 700; none while a scan runs; the heap frozen after the scan of a short-lived process
and before shutdown."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

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

    def main(*, whole_process: bool = False) -> int:
        calls.append("main" if whole_process else "main in a process going on")
        return 3

    monkeypatch.setattr(cli, "main", main)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("calbot", run_name="__main__")
    assert exited.value.code == 3
    assert calls == ["main", "freeze"]

    def help_exit(*, whole_process: bool = False) -> int:
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


@pytest.fixture
def collector_as_it_was(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from calbot import collector

    monkeypatch.setattr(collector, "_short_lived", False)
    enabled = gc.isenabled()
    yield
    gc.unfreeze()  # what a test froze goes back to the collector
    if enabled:
        gc.enable()


@pytest.mark.usefixtures("collector_as_it_was")
def test_no_collection_during_a_scan_and_nothing_frozen_in_a_process_going_on() -> None:
    from calbot import collector

    gc.enable()
    frozen = gc.get_freeze_count()
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():  # nested: the outer one puts it back
            kept: list[list[int]] = [[] for _ in range(1000)]
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen  # a worker's next scans still collect them
    assert kept


@pytest.mark.usefixtures("collector_as_it_was")
def test_a_short_lived_process_freezes_what_its_scan_left() -> None:
    from calbot import collector

    gc.enable()
    collector.short_lived()
    with collector.paused():
        kept: list[list[int]] = [[] for _ in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(kept)  # never walked again before the exit


@pytest.mark.usefixtures("collector_as_it_was")
def test_only_the_scanning_commands_of_a_whole_process_are_short_lived(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from calbot import collector
    from calbot.cli.main import parse_args

    demo = ["demo", "--json", "--outbox", str(tmp_path / "outbox")]
    assert main(demo) == 0  # as tests and any caller going on: not short-lived
    assert collector._short_lived is False
    assert main(demo, whole_process=True) == 0
    assert collector._short_lived is True
    capsys.readouterr()
    assert parse_args(["scan"]).short_lived and parse_args(["explain", "x"]).short_lived
    # the commands that go on scanning never are
    assert not getattr(parse_args(["run"]), "short_lived", False)
    assert not getattr(parse_args(["digest"]), "short_lived", False)
