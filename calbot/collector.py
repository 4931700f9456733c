"""How calbot steers Python's cyclic garbage collector, all in one place.

A scan makes and drops millions of small objects (decoded JSON pages, events, scores), none
in a cycle: reference counting frees them. Python's collector does not know that. With its
default threshold (a collection per 700 new objects) it walked them, and the heap of
imported modules, again and again: ~15 % of an unchanged rescan's CPU, a tenth of a full
sync's, all of it holding the GIL. Four rules, each for one stretch of a process:

- `relaxed`: a command's process collects per 100,000 new objects (`cli.main`);
- `fewer_collections`: so does anyone reading Google's pages or a calendar's cache, in any
  process (team mode's workers do not start through the CLI);
- `paused`: no collection while a scan reads, scores and drafts; in a process that ends
  soon after (`short_lived`), what is still alive then is frozen;
- `frozen_at_exit`: Python's shutdown skips its full passes (`cli.main.entry_point`).

None of them changes what is freed by reference counting, which is nearly everything.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "FEWER",
    "fewer_collections",
    "frozen_at_exit",
    "paused",
    "relaxed",
    "short_lived",
]

FEWER = 100_000  # new objects per collection, instead of Python's 700


def relaxed() -> None:
    gc.set_threshold(FEWER)


class _WhileUsed:
    """A process-wide setting changed while anyone is inside (threads, nested calls), and
    put back as it was when the last one leaves."""

    def __init__(self, get: Callable[[], Any], put: Callable[[Any], None], wanted: Any) -> None:
        self._get, self._put, self._wanted = get, put, wanted
        self._lock = threading.Lock()
        self._users = 0
        self._saved: Any = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                self._saved = self._get()
                self._put(self._wanted(self._saved))
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    self._put(self._saved)


fewer_collections = _WhileUsed(
    gc.get_threshold,
    lambda t: gc.set_threshold(*t),
    lambda t: (max(t[0], FEWER), *t[1:]),
)


_short_lived = False


def short_lived() -> None:
    """This process runs one command that scans once or twice, then exits (`calbot scan`
    from a shell): `paused` may freeze. Never said by a process that goes on scanning
    (`calbot run`, team workers, tests calling `cli.main.main`): there, frozen garbage
    cycles would never be collected."""
    global _short_lived
    _short_lived = True


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside; nested or with the collector off, nothing changes.

    While it is off, every object made stays in the youngest generation, so the first
    collection after it walks all the window's survivors (~300,000 objects on the 100k
    bench: ~0.1 s), and later ones walk them again. In a `short_lived` process they are
    frozen instead: never walked, still freed by reference counting."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if _short_lived:
            gc.freeze()
        gc.enable()


def frozen_at_exit() -> None:
    """Python's shutdown runs full collections over every object still alive (the imported
    modules: ~90,000 objects), ~65 ms of an unchanged rescan's ~0.4 s. Frozen objects are
    left out of them; refcounting still frees what the modules held, the atexit hooks
    (logging's flush) still run. Only garbage cycles are not finalized: none holds anything
    to flush, and the state is committed and closed before this is called."""
    gc.freeze()
