"""The `--json` document is the same document as before the C encoder (golden files taken
on the parent commit, tests/json_golden.py), compact or indented, non-ASCII as UTF-8."""

from __future__ import annotations

import json
import re
import unicodedata

import pytest
from json_golden import GOLDEN, HOSTILE, documents

from calbot.core import untrusted
from calbot.present.render import json_text


@pytest.fixture(scope="module")
def written() -> dict[bool, dict[str, str]]:
    return {
        False: documents(lambda d: json_text(d, pretty=False)),
        True: documents(lambda d: json_text(d, pretty=True)),
    }


@pytest.mark.parametrize("pretty", [False, True])
@pytest.mark.parametrize("name", ["demo", "hostile"])
def test_document_equals_the_golden_file(
    written: dict[bool, dict[str, str]], name: str, pretty: bool
) -> None:
    golden = (GOLDEN / f"scan-{name}.json").read_text(encoding="utf-8")
    assert json.loads(written[pretty][name]) == json.loads(golden)
    if pretty:  # on a terminal: byte for byte what it was
        assert written[pretty][name] + "\n" == golden


def test_compact_keeps_utf8_and_escapes_only_unsafe(written: dict[bool, dict[str, str]]) -> None:
    text = written[False]["hostile"]
    assert "\n" not in text
    assert "Cập nhật Tiếng Việt 👩\u200d💻 zw\u200cnj 日本語" in text
    escapes = set(re.findall(r"\\u([0-9a-f]{4})", text))
    assert escapes and all(untrusted.is_unsafe(chr(int(e, 16))) for e in escapes)
    assert not any(untrusted.is_unsafe(c) for c in text if c != "\\" and not c.isascii())
    assert any(untrusted.is_unsafe(c) for c in HOSTILE)


def test_unsafe_pattern_agrees_with_is_unsafe_everywhere() -> None:
    pattern = untrusted._unsafe_pattern()
    wrong = [
        hex(c)
        for c in range(0x7F, 0x110000)
        if not 0xD800 <= c < 0xE000 and untrusted.is_unsafe(chr(c)) != bool(pattern.match(chr(c)))
    ]
    assert wrong == []
    if unicodedata.unidata_version == "14.0.0":
        assert untrusted._unsafe_class() == untrusted._UNSAFE_CLASS_14


def test_unsafe_character_beyond_the_bmp_is_a_surrogate_pair() -> None:
    text = untrusted.json_escaped(json.dumps({"t": "a\U000e0041b"}, ensure_ascii=False))
    assert text == '{"t": "a\\udb40\\udc41b"}'
    assert json.loads(text) == {"t": "a\U000e0041b"}
