"""The bad-input tests run with their own state dir and no CALBOT_CONFIG from the caller."""

import pytest


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("CALBOT_CONFIG", raising=False)
    return tmp_path / "state"
