"""pytest plugin: the `google` fixture, a started FakeGoogle that fails the test at teardown
when the code under test did something a careful client must never do."""

from __future__ import annotations

import os
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


# --- the fault matrix (tests/system/faults/): rows collected, printed at the end ---

MatrixRow = tuple[str, str, str, str]  # fault, scan kind, expected, outcome
_KEY = "fault_matrix"
TABLE_ENV = "CALBOT_FAULT_TABLE"  # =1: print the whole table, not just its count


@pytest.fixture
def fault_matrix(request: pytest.FixtureRequest) -> Callable[[str, str, str, str], None]:
    """`fault_matrix(fault, kind, expected, outcome)` sets this test's row of the fault-matrix
    table printed in pytest's terminal summary (a later call replaces the row: record early,
    before the asserts, and again when more is known). The row says `ok` only when the test
    passed in every phase; a failed or erroring setup, call or teardown makes it FAILED."""

    def record(fault: str, kind: str, expected: str, outcome: str) -> None:
        request.node.user_properties.append((_KEY, (fault, kind, expected, outcome)))

    return record


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    rows: dict[str, MatrixRow] = {}
    longest: dict[str, int] = {}
    failed: set[str] = set()
    passed: set[str] = set()
    for reports in terminalreporter.stats.values():
        for report in reports:
            nodeid = getattr(report, "nodeid", None)
            if not nodeid or not hasattr(report, "when"):
                continue
            if report.failed:
                failed.add(nodeid)
            elif report.when == "call" and report.passed:
                passed.add(nodeid)
            props = [v for k, v in getattr(report, "user_properties", ()) if k == _KEY]
            if props and len(props) >= longest.get(nodeid, 0):  # the latest phase's rows
                longest[nodeid] = len(props)
                rows[nodeid] = tuple(props[-1])
    if not rows:
        return
    headers = ("fault", "scan", "expected", "outcome", "result")
    table = sorted(
        (
            (*row, "ok" if nodeid in passed and nodeid not in failed else "FAILED")
            for nodeid, row in rows.items()
        ),
        key=_order,
    )
    bad = sum(1 for row in table if row[-1] != "ok")
    if os.environ.get(TABLE_ENV) != "1":
        # the whole table is 100+ rows, 200+ columns: only on request
        terminalreporter.write_line(
            f"fault matrix: {len(table)} rows, {bad} FAILED ({TABLE_ENV}=1 prints the table)"
        )
        return
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]
    terminalreporter.section("fault matrix")
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    terminalreporter.write_line(line)
    terminalreporter.write_line("  ".join("-" * w for w in widths))
    for row in table:
        terminalreporter.write_line("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    terminalreporter.write_line(f"{len(table)} rows, {bad} FAILED")


def _order(row: tuple[str, ...]) -> tuple[str, str]:
    return (row[0], row[1])
