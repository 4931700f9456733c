"""pytest plugin: the `google` fixture, a started FakeGoogle that fails the test at teardown
when the code under test did something a careful client must never do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .google import FakeGoogle


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
    problems = [*fake.violations, *(f"fake bug: {e}" for e in fake.fake_errors)]
    if problems:
        pytest.fail("Google API misuse seen by the fake:\n  " + "\n  ".join(problems))


# --- the fault matrix (tests/test_faults.py): rows collected, printed as a table at the end ---

MatrixRow = tuple[str, str, str, str]  # fault, scan kind, expected, outcome
_MATRIX = pytest.StashKey[list[MatrixRow]]()


@pytest.fixture
def fault_matrix(request: pytest.FixtureRequest) -> Callable[[str, str, str, str], None]:
    """`fault_matrix(fault, kind, expected, outcome)` adds one row to the fault-matrix table
    printed in pytest's terminal summary."""
    rows = request.config.stash.setdefault(_MATRIX, [])

    def record(fault: str, kind: str, expected: str, outcome: str) -> None:
        rows.append((fault, kind, expected, outcome))
        request.node.user_properties.append(("fault_matrix", (fault, kind, expected, outcome)))

    return record


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    rows = config.stash.get(_MATRIX, [])
    if not rows:
        return
    passed = {
        tuple(value)
        for report in terminalreporter.stats.get("passed", [])
        for name, value in getattr(report, "user_properties", ())
        if name == "fault_matrix"
    }
    headers = ("fault", "scan", "expected", "outcome", "result")
    table = [(*row, "ok" if row in passed else "FAILED") for row in sorted(rows, key=_order)]
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]
    terminalreporter.section("fault matrix")
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    terminalreporter.write_line(line)
    terminalreporter.write_line("  ".join("-" * w for w in widths))
    for row in table:
        terminalreporter.write_line("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def _order(row: MatrixRow) -> tuple[str, str]:
    return (row[0], row[1])
