"""A real Dovecot for each test (its own temp dir and free port), stopped after. Tests here
are `system` (they are under tests/system/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers.imap_server import Dovecot, running_dovecot


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    with running_dovecot(tmp_path / "dovecot") as server:
        yield server
