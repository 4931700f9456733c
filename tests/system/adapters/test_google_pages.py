"""Paging a full sync (issue 12): the next page is asked for while the caller works on this
one; whatever way the caller stops, no thread is left when `pages` returns and no request
is repeated; fewer garbage collections while paging. Real googleapiclient against the fake
Google."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from builders import plain_google_settings

from calbot.adapters.google.api import ApiError, GoogleApi, connect
from calbot.adapters.google.pages import FirstPage, pages
from calbot.collector import fewer_collections

START = "2025-01-01T00:00:00Z"
EVENTS = 15  # five pages of three


@pytest.fixture
def api(google: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GoogleApi:
    monkeypatch.setattr("calbot.adapters.google.pages.PAGE_SIZE", 3)
    settings = plain_google_settings(google, tmp_path, datetime.now(UTC))
    for n in range(EVENTS):
        google.add_event(
            summary=f"Call {n}",
            start={"dateTime": f"2025-03-{n + 1:02d}T09:00:00+00:00"},
            end={"dateTime": f"2025-03-{n + 1:02d}T10:00:00+00:00"},
        )
    return connect(settings, sleep=lambda s: None)


def lists(google: Any) -> int:
    return sum(1 for r in google.requests if r.route == "calendar.events.list")


def wait_until(ok: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not ok():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def pager_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "calbot-pages")


def test_the_next_request_goes_while_the_caller_works_on_a_page(google: Any, api: Any) -> None:
    google.requests.clear()
    stream = pages(api, "primary", timeMin=START)
    page, token = next(stream)  # the caller now holds page 1 and does not move on
    assert len(page) == 3 and token is None
    wait_until(lambda: lists(google) == 2, "the page after the caller's was not fetched")
    rest = list(stream)
    assert [len(p) for p, _ in rest] == [3, 3, 3, 3]
    assert rest[-1][1] is not None and all(t is None for _, t in rest[:-1])  # the sync token
    assert lists(google) == 5 and api.requests == 5  # each page once
    assert pager_threads() == 0


def test_a_caller_that_stops_early_leaves_no_thread_and_the_http_free(
    google: Any, api: Any
) -> None:
    google.requests.clear()
    stream = pages(api, "primary", timeMin=START)
    next(stream)
    wait_until(lambda: lists(google) == 2, "the page after the caller's was not fetched")
    stream.close()
    assert pager_threads() == 0
    assert lists(google) == 2  # nothing more was sent
    assert len([p for p, _ in pages(api, "primary", timeMin=START)]) == 5  # the api still works


def test_a_first_page_not_taken_costs_its_request_alone(google: Any, api: Any) -> None:
    google.requests.clear()
    first = FirstPage(api, "primary", timeMin=START)
    wait_until(lambda: lists(google) == 1, "the first request was not sent")
    first.wait()  # its answer names a next page, which is never asked for
    assert lists(google) == 1 and pager_threads() == 0


def test_a_first_page_taken_goes_on_with_the_next_pages(google: Any, api: Any) -> None:
    google.requests.clear()
    first = FirstPage(api, "primary", timeMin=START)
    got = [p for p, _ in pages(api, "primary", first=first, timeMin=START)]
    assert sum(len(p) for p in got) == EVENTS and lists(google) == 5


def test_an_error_midway_reaches_the_caller_at_its_page(google: Any, api: Any) -> None:
    google.requests.clear()
    google.fail("calendar.events.list", 200, 200, 404)  # page 3: the calendar is gone
    stream = pages(api, "primary", timeMin=START)
    assert len(next(stream)[0]) == 3
    assert len(next(stream)[0]) == 3
    with pytest.raises(ApiError) as caught:
        next(stream)
    assert caught.value.status == 404
    assert pager_threads() == 0 and lists(google) == 3


def test_collections_are_fewer_while_paging_and_as_before_after() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        with fewer_collections():  # nested (two calendars, two threads): the same
            assert gc.get_threshold()[0] >= 100_000
        assert gc.get_threshold()[0] >= 100_000
    assert gc.get_threshold() == before


def test_every_event_comes_once(google: Any, api: Any) -> None:
    ids = [i["id"] for p, _ in pages(api, "primary", timeMin=START) for i in p]
    assert len(ids) == len(set(ids)) == EVENTS


def test_items_are_kept_as_google_shaped_them_unless_a_text_may_hold_a_surrogate(
    google: Any, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The answer's text tells whether any text of a page holds a lone surrogate (only a
    # JSON escape brings one): without, `compact` keeps the items it would rebuild alike
    # (the cost of a full sync's compaction halved); with, every item is checked.
    from calbot.adapters.google import events as google_events

    google.add_event(
        summary="Broken \ud800 text",
        start={"dateTime": "2025-03-20T09:00:00+00:00"},
        end={"dateTime": "2025-03-20T10:00:00+00:00"},
    )
    seen: list[bool] = []

    def compact(item: dict[str, Any], *, no_surrogates: bool = False) -> dict[str, Any]:
        seen.append(no_surrogates)
        return google_events.compact(item, no_surrogates=no_surrogates)

    monkeypatch.setattr("calbot.adapters.google.pages.compact", compact)
    got = []
    for page, _ in pages(api, "primary", timeMin=START):
        got.append((page, list(seen)))
        seen.clear()
    assert [flags for _, flags in got] == [[True] * 3] * 5 + [[False]]
    (last,) = got[-1][0]
    assert last["summary"] == "Broken \ufffd text"
    first = got[0][0][0]
    assert first == google_events.compact(first) and first["summary"] == "Call 0"


def test_the_next_request_goes_before_this_answer_is_decoded(
    google: Any, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The page token is read off the answer's text: decoding a page overlaps Google's
    # work on the next one. Decoding waits here until that next request has arrived.
    from calbot.adapters.google.pages import _Answer

    decode = _Answer.decoded
    answers = [0]

    def decoded(self: _Answer) -> tuple[Any, bool, list[str] | None]:
        answers[0] += 1
        if answers[0] < 5:  # the n-th answer: request n + 1 is on its way already
            wait_until(lambda: lists(google) == answers[0] + 1, "no request before decoding")
        return decode(self)

    monkeypatch.setattr(_Answer, "decoded", decoded)
    google.requests.clear()
    got = [p for p, _ in pages(api, "primary", timeMin=START)]
    assert sum(len(p) for p in got) == EVENTS
    assert lists(google) == 5 and api.requests == 5 and pager_threads() == 0


def test_a_token_the_decoded_answer_does_not_bear_out_is_not_followed(
    google: Any, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Were the text ever read wrong, the page asked for early is dropped, its error too,
    # and the answer's own token followed: the same pages, each once.
    from calbot.adapters.google.pages import _Answer

    monkeypatch.setattr(_Answer, "next_token", lambda self: "page-999999")
    google.requests.clear()
    got = [p for p, _ in pages(api, "primary", timeMin=START)]
    assert [i["summary"] for p in got for i in p] == [f"Call {n}" for n in range(EVENTS)]
    tokens = [r.query.get("pageToken") for r in google.requests]
    assert sum(1 for t in tokens if t == ["page-999999"]) == 5  # each answered 400, unused
    assert lists(google) == 10 and pager_threads() == 0
