"""`events.list` page by page, for the full and the incremental sync: each page's items in
their compact form, the next page already on its way (a thread) while the caller works on
this one.

The next request goes out as soon as an answer's bytes are in, before they are decoded:
its page token is read off the answer's text (`_Answer.next_token`), so decoding a page
(a third of the time between two pages) overlaps Google's work on the next. The decoded
answer then has the last word: a token it does not bear out is never followed.

An answer is decoded item by item (`_walk`), each item's text kept beside it: the cache
stores that text as it is (`Page.texts`) instead of encoding the item again, which was the
largest cost of a full sync per event."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

from calbot.adapters.google.events import EVENT_FIELDS, compact
from calbot.collector import fewer_collections

if TYPE_CHECKING:
    from calbot.adapters.google.api import GoogleApi

__all__ = ["PAGE_SIZE", "Ahead", "FirstPage", "Page", "pages"]

PAGE_SIZE = 2500  # Google's maximum for events.list


class Page(list[dict[str, Any]]):
    """One answer's items in their compact form. `texts[i]`: the JSON text Google sent for
    item i, when the item is exactly that text's value (None when `compact` rebuilt it, or
    the answer was decoded whole)."""

    __slots__ = ("texts",)

    def __init__(self, items: list[dict[str, Any]], texts: list[str | None]) -> None:
        super().__init__(items)
        self.texts = texts


class FirstPage:
    """The first `events.list` of a sync, sent now on a thread; `pages(..., first=)` takes
    its answer. Until then only that thread uses `api`'s http object: whoever does not
    take the answer must `wait` before sending anything else."""

    def __init__(self, api: GoogleApi, cal: str, **params: str) -> None:
        self.cal, self.params = cal, params
        self._ahead = Ahead(_fetcher(api, cal, params), None)

    def wait(self) -> None:
        self._ahead.wait()

    def result(self) -> Any:
        return self._ahead.result()


def pages(
    api: GoogleApi, cal: str, *, first: FirstPage | None = None, **params: str
) -> Generator[tuple[Page, str | None], None, None]:
    """(compact items, nextSyncToken on the last page else None) for each page. `first`:
    the same first request, already sent (its `cal` and `params` are these)."""
    with fewer_collections():
        yield from _pages(api, cal, first, params)


def _pages(
    api: GoogleApi, cal: str, first: FirstPage | None, params: dict[str, str]
) -> Iterator[tuple[Page, str | None]]:
    fetch = _fetcher(api, cal, params)
    page_token: str | None = None
    answer: _Answer = first.result() if first is not None else fetch(None)
    ahead: Ahead | None = None
    try:
        while True:
            guess = answer.next_token()
            if guess is not None and guess != page_token:
                ahead = Ahead(fetch, guess)
            response, plain, texts = answer.decoded()
            del answer
            if not isinstance(response, dict):
                response = {}
            next_page = response.get("nextPageToken")
            sync_token = response.get("nextSyncToken")
            last = not isinstance(next_page, str) or not next_page or next_page == page_token
            if ahead is not None and (last or next_page != guess):
                ahead.wait()  # a token the answer does not bear out: its page is not used
                ahead = None
            if not last and ahead is None:
                ahead = Ahead(fetch, next_page)
            raw = response.get("items")
            page = Page([], [])
            if isinstance(raw, list):
                for n, item in enumerate(raw):
                    if isinstance(item, dict):
                        kept = compact(item, no_surrogates=plain)
                        page.append(kept)
                        page.texts.append(texts[n] if texts and kept is item else None)
            del response, raw, texts  # only the compact items (and their texts) stay
            if last:
                yield page, sync_token if isinstance(sync_token, str) and sync_token else None
                return
            yield page, None
            page_token = next_page
            assert ahead is not None
            answer, ahead = ahead.result(), None
    finally:
        if ahead is not None:
            ahead.wait()


# The JSON escape of a UTF-16 surrogate (\ud800-\udfff), the only way one gets into a
# decoded answer: UTF-8 cannot carry one (the decoder refuses it). A match may be a
# proper pair or no escape at all ("\\ud8..."): then the items are only checked as before.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# Where an answer's items begin (the first key named "items" outside any text), and a
# top-level page token before them (Google sends its fields in the order of the Events
# resource: nextPageToken, then items). Inside a JSON string every quote is escaped, so
# neither can match text in a title or description.
_ITEMS = r'(?<!\\)"items"\s*:'
_ITEMS_KEY = re.compile(_ITEMS.encode())
_NEXT_PAGE = re.compile(rb'(?<!\\)"nextPageToken"\s*:\s*"([^"\\]+)"')


class _Answer:
    """One `events.list` answer as it came: decoded by the caller, not by the thread."""

    __slots__ = ("content", "decode", "resp")

    def __init__(self, decode: Callable[[Any, Any], Any], resp: Any, content: Any) -> None:
        self.decode, self.resp, self.content = decode, resp, content

    def next_token(self) -> str | None:
        """The next page's token as the answer's text gives it before its items; None
        when it gives none there (the last page), or not plainly."""
        content = self.content
        if not isinstance(content, bytes):
            return None
        items = _ITEMS_KEY.search(content)
        found = _NEXT_PAGE.findall(content, 0, items.start() if items else len(content))
        if len(found) != 1:
            return None
        token: bytes = found[0]
        return token.decode("ascii") if token.isascii() else None

    def decoded(self) -> tuple[Any, bool, list[str] | None]:
        """(the decoded answer, whether its text holds no surrogate escape, for
        `compact`, and each item's text when `_walk` read them); raises as
        googleapiclient's own decoding does (which decodes whatever `_walk` does not)."""
        content = self.content
        plain = isinstance(content, bytes) and not _SURROGATE_ESCAPE.search(content)
        if plain and getattr(self.resp, "status", None) == 200:
            walked = _walk(content)  # bytes: `plain` says so
            if walked is not None:
                return walked[0], plain, walked[1]
        return self.decode(self.resp, content), plain, None


_ITEMS_ARRAY = re.compile(_ITEMS + r"\s*\[")  # in the decoded text; `_walk` checks its level
_BLANK = re.compile(r"[ \t\n\r]*")  # JSON's whitespace: matches anywhere, maybe empty
_DECODE = json.JSONDecoder().raw_decode


def _walk(content: bytes) -> tuple[dict[str, Any], list[str]] | None:
    """The answer as `json.loads` reads it, and each item's text: the items decoded one
    by one (`raw_decode` says where each ends), the rest of the answer with an empty
    array in their place. None, for the caller to decode the whole, when the answer is
    not that shape or not JSON."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    found = _ITEMS_ARRAY.search(text)
    if found is None:
        return None
    items: list[Any] = []
    texts: list[str] = []
    at = _past_blank(text, found.end())
    try:
        if text[at] != "]":
            while True:
                item, end = _DECODE(text, at)
                items.append(item)
                texts.append(text[at:end])
                at = _past_blank(text, end)
                if text[at] == ",":
                    at = _past_blank(text, at + 1)
                elif text[at] == "]":
                    break
                else:
                    return None
        answer = json.loads(text[: found.start()] + '"items":[]' + text[at + 1 :])
    except (ValueError, IndexError):
        return None
    if type(answer) is not dict or answer.get("items") != []:
        return None  # that array was not the top level's "items" (or not its only one)
    answer["items"] = items
    return answer, texts


def _past_blank(text: str, at: int) -> int:
    blank = _BLANK.match(text, at)
    return blank.end() if blank else at


def _fetcher(api: GoogleApi, cal: str, params: dict[str, str]) -> Callable[[str | None], _Answer]:
    """One page of `events.list` by its page token (None: the first page), undecoded."""
    events = api.events()  # built here, in the caller's thread
    what = f"reading calendar {cal}"

    def fetch(page_token: str | None) -> _Answer:
        request = events.list(
            calendarId=cal,
            singleEvents=True,
            maxResults=PAGE_SIZE,
            fields=EVENT_FIELDS,
            pageToken=page_token,
            **params,
        )
        decode = request.postproc
        request.postproc = lambda resp, content: _Answer(decode, resp, content)
        answer: _Answer = api.call(request, what=what)
        return answer

    return fetch


class Ahead:
    """One call run in a thread while the caller works on: `result` waits for it and
    returns its value or raises its error; `wait` only waits."""

    def __init__(self, fn: Any, *args: Any, name: str = "calbot-pages") -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), name=name, daemon=True)
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
