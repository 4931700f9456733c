"""pytest plugin: the `google` fixture, a started FakeGoogle that fails the test at teardown
when the code under test did something a careful client must never do."""

from __future__ import annotations

from collections.abc import Iterator

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
