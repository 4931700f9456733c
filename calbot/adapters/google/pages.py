"""`events.list` page by page, for the full and the incremental sync: each page's items in
their compact form, the next page already on its way (a thread) while the caller works on
this one."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

from calbot.adapters.google.events import EVENT_FIELDS, compact
from calbot.collector import fewer_collections

if TYPE_CHECKING:
    from calbot.adapters.google.api import GoogleApi

__all__ = ["PAGE_SIZE", "FirstPage", "pages"]

PAGE_SIZE = 2500  # Google's maximum for events.list


class FirstPage:
    """The first `events.list` of a sync, sent now on a thread; `pages(..., first=)` takes
    its answer. Until then only that thread uses `api`'s http object: whoever does not
    take the answer must `wait` before sending anything else."""

    def __init__(self, api: GoogleApi, cal: str, **params: str) -> None:
        self.cal, self.params = cal, params
        self._ahead = _Ahead(_fetcher(api, cal, params), None)

    def wait(self) -> None:
        self._ahead.wait()

    def result(self) -> Any:
        return self._ahead.result()


def pages(
    api: GoogleApi, cal: str, *, first: FirstPage | None = None, **params: str
) -> Generator[tuple[list[dict[str, Any]], str | None], None, None]:
    """(compact items, nextSyncToken on the last page else None) for each page. `first`:
    the same first request, already sent (its `cal` and `params` are these)."""
    with fewer_collections():
        yield from _pages(api, cal, first, params)


def _pages(
    api: GoogleApi, cal: str, first: FirstPage | None, params: dict[str, str]
) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    fetch = _fetcher(api, cal, params)
    page_token: str | None = None
    response, plain = first.result() if first is not None else fetch(None)
    ahead: _Ahead | None = None
    try:
        while True:
            if not isinstance(response, dict):
                response = {}
            next_page = response.get("nextPageToken")
            sync_token = response.get("nextSyncToken")
            last = not isinstance(next_page, str) or not next_page or next_page == page_token
            if not last:
                ahead = _Ahead(fetch, next_page)
            raw = response.get("items")
            page = (
                [compact(i, no_surrogates=plain) for i in raw if isinstance(i, dict)]
                if isinstance(raw, list)
                else []
            )
            del response, raw  # only the compact items stay in memory
            if last:
                yield page, sync_token if isinstance(sync_token, str) and sync_token else None
                return
            yield page, None
            page_token = next_page
            assert ahead is not None
            (response, plain), ahead = ahead.result(), None
    finally:
        if ahead is not None:
            ahead.wait()


# The JSON escape of a UTF-16 surrogate (\ud800-\udfff), the only way one gets into a
# decoded answer: UTF-8 cannot carry one (the decoder refuses it). A match may be a
# proper pair or no escape at all ("\\ud8..."): then the items are only checked as before.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _fetcher(
    api: GoogleApi, cal: str, params: dict[str, str]
) -> Callable[[str | None], tuple[Any, bool]]:
    """One page of `events.list` by its page token (None: the first page): (the decoded
    answer, whether its text holds no surrogate escape, for `compact`)."""
    events = api.events()  # built here, in the caller's thread
    what = f"reading calendar {cal}"

    def fetch(page_token: str | None) -> tuple[Any, bool]:
        request = events.list(
            calendarId=cal,
            singleEvents=True,
            maxResults=PAGE_SIZE,
            fields=EVENT_FIELDS,
            pageToken=page_token,
            **params,
        )
        decode = request.postproc
        plain = [False]  # of the answer decoded last (a retry decodes its own)

        def postproc(resp: Any, content: Any) -> Any:
            decoded = decode(resp, content)  # its errors as they were
            plain[0] = isinstance(content, bytes) and not _SURROGATE_ESCAPE.search(content)
            return decoded

        request.postproc = postproc
        return api.call(request, what=what), plain[0]

    return fetch


class _Ahead:
    """One call run in a thread while the caller works on."""

    def __init__(self, fn: Any, *args: Any) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(fn, args), name="calbot-pages", daemon=True
        )
        self._thread.start()

    def _run(self, fn: Any, args: tuple[Any, ...]) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:
            self._error = exc

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value
