"""`events.list` page by page, for the full and the incremental sync: each page's items in
their compact form.

The pages are fetched by one thread that sends each request as soon as the previous
answer is in, without waiting for the caller to finish with the page before: paging is a
chain of requests (each needs the page token of the one before), so the scan takes as long
as that chain when the caller keeps up, and no longer. At most two answers wait for the
caller (memory stays bounded when the caller is the slower one).

One thread at a time uses the api's http object: while a `_Pager` runs, nobody else sends
anything (`pages` stops and waits for its pager before it returns, whatever happens)."""

from __future__ import annotations

import gc
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from calbot.adapters.google.events import EVENT_FIELDS, compact

if TYPE_CHECKING:
    from calbot.adapters.google.api import GoogleApi

__all__ = ["PAGE_SIZE", "FirstPage", "fewer_collections", "pages"]

PAGE_SIZE = 2500  # Google's maximum for events.list
WAITING = 2  # answers fetched ahead of the caller, at most


class FirstPage:
    """The first `events.list` of a sync, sent now on a thread; `pages(..., first=)` takes
    its answer (and the thread goes on with the next pages). Nothing beyond the first
    request is sent unless `pages` takes it. Until then only that thread uses `api`'s http
    object: whoever does not take the answer must `wait` before sending anything else."""

    def __init__(self, api: GoogleApi, cal: str, **params: str) -> None:
        self.cal, self.params = cal, params
        self.pager = _Pager(_fetcher(api, cal, params), taken=False)

    def wait(self) -> None:
        """Stop after the first request (its answer is dropped) and wait for the thread."""
        self.pager.close()


def pages(
    api: GoogleApi, cal: str, *, first: FirstPage | None = None, **params: str
) -> Generator[tuple[list[dict[str, Any]], str | None], None, None]:
    """(compact items, nextSyncToken on the last page else None) for each page. `first`:
    the same first request, already sent (its `cal` and `params` are these)."""
    pager = first.pager if first is not None else _Pager(_fetcher(api, cal, params), taken=True)
    try:
        with fewer_collections():
            yield from _paged(pager)
    finally:
        pager.close()


def _paged(pager: _Pager) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    pager.take_over()
    page_token: str | None = None
    while True:
        response = pager.next()
        if not isinstance(response, dict):
            response = {}
        next_page = next_page_token(response, page_token)
        sync_token = response.get("nextSyncToken")
        raw = response.get("items")
        page = [compact(i) for i in raw if isinstance(i, dict)] if isinstance(raw, list) else []
        del response, raw  # only the compact items stay in memory
        if next_page is None:
            yield page, sync_token if isinstance(sync_token, str) and sync_token else None
            return
        yield page, None
        page_token = next_page


def next_page_token(response: Any, page_token: str | None) -> str | None:
    """The token of the page after `response` (whose own token was `page_token`), None
    when it is the last page (no token, or the same token again: a loop)."""
    next_page = response.get("nextPageToken") if isinstance(response, dict) else None
    if not isinstance(next_page, str) or not next_page or next_page == page_token:
        return None
    return next_page


def _fetcher(api: GoogleApi, cal: str, params: dict[str, str]) -> Callable[[str | None], Any]:
    """One page of `events.list` by its page token (None: the first page)."""
    events = api.events()  # built here, in the caller's thread
    what = f"reading calendar {cal}"

    def fetch(page_token: str | None) -> Any:
        request = events.list(
            calendarId=cal,
            singleEvents=True,
            maxResults=PAGE_SIZE,
            fields=EVENT_FIELDS,
            pageToken=page_token,
            **params,
        )
        return api.call(request, what=what)

    return fetch


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


# A full sync allocates millions of small objects (the decoded pages, their compact copies),
# none in a cycle: refcounting frees them all. With Python's default threshold (a
# collection per 700 new objects) the collector ran hundreds of times per 10,000 events and
# its full passes walked the whole heap (imports, the discovery document), a tenth of a
# scan's time, all of it holding the GIL. While pages come in (and while the source reads
# and converts the cache) it runs per 100,000 new objects instead.
fewer_collections = _WhileUsed(
    gc.get_threshold,
    lambda t: gc.set_threshold(*t),
    lambda t: (max(t[0], 100_000), *t[1:]),
)


class _Pager:
    """A thread fetching the pages in turn; `next` gives their answers in order (or raises
    the error that ended the fetching). `taken=False`: the thread stops after the first
    answer until `take_over` (or `close`)."""

    def __init__(self, fetch: Callable[[str | None], Any], *, taken: bool) -> None:
        self._fetch = fetch
        self._cond = threading.Condition()
        self._ready: deque[tuple[Any, BaseException | None]] = deque()
        self._taken = taken
        self._closed = False
        self._done = False  # the thread sent its last request
        self._thread = threading.Thread(target=self._run, name="calbot-pages", daemon=True)
        self._thread.start()

    def take_over(self) -> None:
        with self._cond:
            self._taken = True
            self._cond.notify_all()

    def next(self) -> Any:
        with self._cond:
            while not self._ready:
                if self._done:  # cannot happen: the last answer is always queued first
                    raise RuntimeError("no more pages")
                self._cond.wait()
            response, error = self._ready.popleft()
            self._cond.notify_all()
        if error is not None:
            raise error
        return response

    def close(self) -> None:
        """Send nothing more, drop what is waiting, and wait for a request under way."""
        with self._cond:
            self._closed = True
            self._ready.clear()
            self._cond.notify_all()
        self._thread.join()

    def _run(self) -> None:
        page_token: str | None = None
        try:
            while True:
                try:
                    response = self._fetch(page_token)
                except BaseException as exc:  # handed to the caller, raised there
                    self._hand((None, exc))
                    return
                page_token = next_page_token(response, page_token)
                if not self._hand((response, None)) or page_token is None:
                    return
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def _hand(self, entry: tuple[Any, BaseException | None]) -> bool:
        """Queue an answer; wait until another request may go out. False: closed."""
        with self._cond:
            if self._closed:
                return False
            self._ready.append(entry)
            self._cond.notify_all()
            while not self._closed and (not self._taken or len(self._ready) >= WAITING):
                self._cond.wait()
            return not self._closed
