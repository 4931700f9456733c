"""An `events.list` answer read item by item (`google.pages`): the same value `json.loads`
gives, each item's text beside it, and the whole decoded the usual way whenever the answer
is not plainly that shape. Also the page token read off the answer's text."""

from __future__ import annotations

import json
from typing import Any

import pytest

from calbot.adapters.google.pages import _Answer, _walk

ITEMS: list[dict[str, Any]] = [
    {"id": "a", "summary": 'Quoted "items": [1] and \\ backslash', "attendees": [{"email": "x"}]},
    {"id": "b", "summary": "Họp với Acme ✎", "extendedProperties": {"private": {"items": "x"}}},
    {"id": "c", "description": "line\nbreak\ttab", "nested": {"items": [{"id": "not me"}]}},
]


def answer(**fields: Any) -> dict[str, Any]:
    return {"kind": "calendar#events", "defaultReminders": [{"method": "popup"}], **fields}


SHAPES = [
    json.dumps(answer(nextPageToken="p2", items=ITEMS)),  # as the fake writes it
    json.dumps(answer(nextPageToken="p2", items=ITEMS), separators=(",", ":")),
    json.dumps(answer(nextPageToken="p2", items=ITEMS), indent=2),  # Google's prettyPrint
    json.dumps(answer(nextPageToken="p2", items=ITEMS), ensure_ascii=False),
    json.dumps(answer(items=ITEMS, nextSyncToken="s")),  # the last page: the token after
    json.dumps({"items": ITEMS}),
    json.dumps(answer(items=[])),
    json.dumps(answer(items=[], nextSyncToken="s"), indent=4),
]


@pytest.mark.parametrize("text", SHAPES)
def test_an_answer_read_item_by_item_is_what_json_loads_gives(text: str) -> None:
    walked = _walk(text.encode("utf-8"))
    assert walked is not None
    decoded, texts = walked
    assert decoded == json.loads(text)
    assert [json.loads(t) for t in texts] == decoded["items"]
    assert all(t.startswith("{") and t.endswith("}") for t in texts)


@pytest.mark.parametrize(
    "text",
    [
        '{"kind": "x"}',  # no items
        '{"items": [{"id": "a"}], "items": [{"id": "b"}]}',  # two: json.loads keeps the last
        '{"defaultReminders": {"items": [1]}}',  # only a nested one
        '{"meta": {"items": []}, "items": [{"id": "a"}]}',  # a nested one first
        '{"items": [{"id": "a"} {"id": "b"}]}',  # not JSON
        '{"items": [{"id": "a"},]}',
        '{"items": [{"id": "a"}]',
        '["items": []]',
        '{"items": [{"id": "a"}]} trailing',
    ],
)
def test_anything_else_is_left_to_the_usual_decoding(text: str) -> None:
    assert _walk(text.encode("utf-8")) is None


def test_not_utf8_is_left_to_the_usual_decoding() -> None:
    assert _walk(b'{"items": [{"id": "\xff"}]}') is None


class Resp(dict[str, str]):
    status = 200


def test_decoded_uses_the_walk_only_for_a_plain_ok_answer() -> None:
    calls: list[bytes] = []

    def decode(resp: Any, content: bytes) -> Any:
        calls.append(content)
        return json.loads(content)

    text = SHAPES[0].encode()
    decoded, plain, texts = _Answer(decode, Resp(), text).decoded()
    assert plain and texts is not None and not calls and decoded == json.loads(text)
    surrogate = json.dumps({"items": [{"id": "\ud800"}]}).encode()  # an escape: not plain
    decoded, plain, texts = _Answer(decode, Resp(), surrogate).decoded()
    assert not plain and texts is None and calls == [surrogate]
    broken = b'{"items": [{"id": "a"}'  # the usual decoding says what is wrong
    with pytest.raises(ValueError):
        _Answer(decode, Resp(), broken).decoded()


@pytest.mark.parametrize(
    ("text", "token"),
    [
        (b'{"kind":"calendar#events","nextPageToken":"abc-1","items":[{"id":"x"}]}', "abc-1"),
        (b'{"nextPageToken" : "p2", "items": []}', "p2"),
        # the last page: none; a token after the items is not looked for
        (b'{"kind":"calendar#events","nextSyncToken":"s","items":[]}', None),
        (b'{"items":[{"id":"x"}],"nextPageToken":"late"}', None),
        # inside a text every quote is escaped: a title is never read as the token
        (b'{"summary":"\\"nextPageToken\\":\\"no\\"","items":[]}', None),
        (b'{"nextPageToken":"a","nextPageToken":"b","items":[]}', None),  # not plain
        (b'{"nextPageToken":"","items":[]}', None),
    ],
)
def test_the_next_token_is_read_off_the_answer_text_only_when_plain(
    text: bytes, token: str | None
) -> None:
    assert _Answer(lambda resp, content: None, None, text).next_token() == token
