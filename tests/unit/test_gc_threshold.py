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
