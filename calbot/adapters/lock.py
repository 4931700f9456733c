"""One scan at a time per state store: an exclusive `flock` on `<state dir>/calbot.lock`.

`flock` belongs to the open file description, so the kernel drops it when the holder exits
or crashes — no stale lock files to clean up. The file itself stays (removing it would
let two processes lock two different files); it holds the last holder's pid, for the message.
A second taker polls without blocking until `wait_seconds`, then raises `LockedError`
(exit code 75). Not re-entrant.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

from calbot.adapters.state_dir import make_state_dir
from calbot.errors import LockedError

LOCK_NAME = "calbot.lock"


class StateLock:
    """`Lock` on a state dir: `with StateLock(dir, wait_seconds=60): scan()`."""

    def __init__(
        self,
        state_dir: Path,
        *,
        wait_seconds: float,
        poll_interval: float = 0.2,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.state_dir = Path(state_dir).expanduser()
        self.path = self.state_dir / LOCK_NAME
        self._wait = max(0.0, wait_seconds)
        self._poll = max(0.001, poll_interval)
        self._monotonic = monotonic
        self._sleep = sleep
        self._fd: int | None = None

    def __enter__(self) -> StateLock:
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this StateLock")
        fd = self._open()
        try:
            self._acquire(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        _write_pid(fd)
        return self

    def __exit__(self, *exc: object) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def _open(self) -> int:
        make_state_dir(self.state_dir)
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def _acquire(self, fd: int) -> None:
        start = self._monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass
            else:
                return
            waited = self._monotonic() - start
            if waited >= self._wait:
                holder = _read_pid(fd)
                who = f"another calbot (pid {holder})" if holder else "another calbot"
                raise LockedError(
                    f"{who} is using the state store at {self.state_dir}"
                    f" (waited {self._wait:g} s); try again later"
                )
            self._sleep(min(self._poll, self._wait - waited))


def _write_pid(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
