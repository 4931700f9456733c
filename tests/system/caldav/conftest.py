"""A real CalDAV server (Radicale) per test, on a free port of 127.0.0.1 in the test's temp
dir, stopped after. Tests here are `system` (tests/conftest.py marks tests/system/)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import pytest
from servers.caldav_server import CaldavServer, running


@pytest.fixture
def caldav_server(tmp_path) -> Iterator[CaldavServer]:
    if importlib.util.find_spec("radicale") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("radicale is missing: pip install -e '.[test]'")
        pytest.skip("radicale is missing: pip install -e '.[test]'")
    with running(tmp_path / "radicale") as server:
        yield server
