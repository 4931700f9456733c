"""Shared fixtures. The fake Google server's fixture lives in tests/fakes/plugin.py.

Hypothesis runs derandomized (the same examples every run: the suite is deterministic and a
CI failure reproduces locally); `HYPOTHESIS_PROFILE=explore` draws new examples each run.
The "too slow" health check is off: it times the drawing of examples, and on a fresh checkout
the first text strategy builds Hypothesis's Unicode tables (~1.4 s), which failed a test
that ran first; what a test checks never depends on how fast examples come. No deadline per
example either (Hypothesis's default is 200 ms): on a slower or busier machine it fails a
test for its speed alone, and speed is measured by the benches, never by a test."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_CALM = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.register_profile("default", _CALM, derandomize=True, database=None)
settings.register_profile("explore", _CALM, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

_PLUGIN = Path(__file__).parent / "fakes" / "plugin.py"
pytest_plugins = ["fakes.plugin"] if _PLUGIN.exists() else []


_TESTS = Path(__file__).parent
# Fixtures that start a server: a test using one is a system test wherever it lives (the
# contract suites run fast in-process cases beside Gmail-on-the-fake ones).
_SERVER_FIXTURES = frozenset({"google"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`system` on everything under tests/system/ and on every test that starts a server:
    `pytest -m "not system"` is then the fast unit set (no subprocess, no server)."""
    system = pytest.mark.system
    for item in items:
        path = Path(str(item.path))
        fixtures = set(getattr(item, "fixturenames", ()))
        if _TESTS / "system" in path.parents or fixtures & _SERVER_FIXTURES:
            item.add_marker(system)


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """calbot's platform cache dir (compiled templates, parsed ICS) in a temp dir for the
    whole run, never the user's own; subprocesses inherit it."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before
