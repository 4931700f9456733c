"""The state lock: real flock on a real file, a second process, and faked waiting."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from calbot.adapters.lock import LOCK_NAME, StateLock
from calbot.errors import LockedError
from calbot.ports.store import Lock

HOLDER = """
import sys
from pathlib import Path
from calbot.adapters.lock import StateLock
with StateLock(Path(sys.argv[1]), wait_seconds=0):
    print("locked", flush=True)
    sys.stdin.read()  # hold until the test closes our stdin
"""


class FakeTime:
    """monotonic/sleep pair: sleeping advances the clock, and can run a hook."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.sleeps.append(seconds)
        self.now += seconds


def test_is_a_lock(tmp_path: Path) -> None:
    lock: Lock = StateLock(tmp_path, wait_seconds=0)
    with lock as held:
        assert held is lock


def test_creates_private_dir_and_file(tmp_path: Path) -> None:
    state = tmp_path / "a" / "state"
    with StateLock(state, wait_seconds=0):
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        path = state / LOCK_NAME
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text().strip() == str(os.getpid())


def test_second_lock_waits_then_raises(tmp_path: Path) -> None:
    fake = FakeTime()
    waiter = StateLock(
        tmp_path,
        wait_seconds=0.5,
        poll_interval=0.2,
        monotonic=fake.monotonic,
        sleep=fake.sleep,
    )
    with StateLock(tmp_path, wait_seconds=0), pytest.raises(LockedError) as info:
        waiter.__enter__()
    assert fake.sleeps == pytest.approx([0.2, 0.2, 0.1])  # polled until exactly 0.5 s
    message = str(info.value)
    assert message == (
        f"another calbot (pid {os.getpid()}) is using the state store at {tmp_path}"
        " (waited 0.5 s); try again later"
    )
    assert info.value.exit_code == 75
    assert not waiter.held


def test_zero_wait_tries_once(tmp_path: Path) -> None:
    fake = FakeTime()
    with StateLock(tmp_path, wait_seconds=0), pytest.raises(LockedError):
        StateLock(tmp_path, wait_seconds=0, monotonic=fake.monotonic, sleep=fake.sleep).__enter__()
    assert fake.sleeps == []


def test_waiter_gets_the_lock_when_released(tmp_path: Path) -> None:
    fake = FakeTime()
    holder = StateLock(tmp_path, wait_seconds=0)
    holder.__enter__()

    def sleep(seconds: float) -> None:
        fake.sleep(seconds)
        if len(fake.sleeps) == 3:
            holder.__exit__(None, None, None)

    waiter = StateLock(
        tmp_path, wait_seconds=60, poll_interval=0.2, monotonic=fake.monotonic, sleep=sleep
    )
    with waiter:
        assert waiter.held
        assert len(fake.sleeps) == 3


def test_released_lock_can_be_taken_again(tmp_path: Path) -> None:
    lock = StateLock(tmp_path, wait_seconds=0)
    with lock:
        pass
    with lock:
        assert lock.held
    with StateLock(tmp_path, wait_seconds=0):
        pass
    assert not lock.held


def test_released_on_exception(tmp_path: Path) -> None:
    with pytest.raises(KeyError), StateLock(tmp_path, wait_seconds=0):
        raise KeyError("scan failed")
    with StateLock(tmp_path, wait_seconds=0):
        pass


def test_not_reentrant(tmp_path: Path) -> None:
    lock = StateLock(tmp_path, wait_seconds=0)
    with lock, pytest.raises(RuntimeError, match="already held"):
        lock.__enter__()


@pytest.fixture
def other_process(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A second calbot process holding the lock on tmp_path until its stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"  # blocks until it holds the lock
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_another_process_holding_the_lock(
    tmp_path: Path, other_process: subprocess.Popen[str]
) -> None:
    start = time.monotonic()
    expected = rf"pid {other_process.pid}\) .*waited 0.5 s"
    with (
        pytest.raises(LockedError, match=expected),
        StateLock(tmp_path, wait_seconds=0.5, poll_interval=0.05),
    ):
        pass
    assert time.monotonic() - start >= 0.5

    # the holder lets go (and exits); a patient waiter then gets the lock
    assert other_process.stdin is not None
    other_process.stdin.close()
    with StateLock(tmp_path, wait_seconds=30, poll_interval=0.05) as lock:
        assert lock.held
    assert other_process.wait(timeout=10) == 0


def test_lock_dies_with_its_process(tmp_path: Path, other_process: subprocess.Popen[str]) -> None:
    other_process.kill()  # a crash: no __exit__, the kernel drops the flock
    other_process.wait(timeout=10)
    with StateLock(tmp_path, wait_seconds=0):
        pass
