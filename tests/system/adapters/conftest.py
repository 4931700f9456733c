"""What the adapter tests share: a real SQLite store in the test's temp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from calbot.adapters.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore.open(tmp_path / "state")
    assert isinstance(s, SqliteStore)
    yield s
    s.close()
