import json

from hypothesis import given
from hypothesis import strategies as st

from calbot.core.untrusted import _json_escape, _unsafe_pattern, is_unsafe, json_escaped

# ASCII, safe non-ASCII (typography, Vietnamese), unsafe (DEL, C1, soft hyphen, bidi,
# U+2028, BOM, SMP format, tags) and lone surrogates
_CHARS = st.sampled_from(
    [
        *'ab "\\{}:,\n\x7f\x85\xad\xd7—“”ộđ\u200b\u200e\u2028\u202e\ufeff',
        *("\U0001d173", "\U000e0041", "\U0001f600", "\ud800", "\udfff"),
    ]
)


@given(st.text(alphabet=_CHARS, max_size=60))
def test_json_escaped_is_every_unsafe_character_escaped_and_nothing_else(text):
    """The unsafe characters are looked for among the non-ASCII ones alone first; the
    result is the same as escaping through the whole text."""
    assert json_escaped(text) == _unsafe_pattern().sub(_json_escape, text)


def test_a_document_with_safe_non_ascii_only_comes_back_as_it_is():
    doc = json.dumps({"why": "no agenda — “status” ×1.3", "vi": "thứ Ba"}, ensure_ascii=False)
    assert json_escaped(doc) == doc
    bidi = json.dumps({"summary": "x\u202ey"}, ensure_ascii=False)
    escaped = json_escaped(bidi)
    assert "\\u202e" in escaped and not any(is_unsafe(ch) for ch in escaped)


def test_a_long_document_is_searched_through_its_non_ascii_characters_only(monkeypatch):
    """A 100k-event scan writes ~3 MB of JSON with a few thousand non-ASCII characters:
    only those are searched, and nothing is substituted when none is unsafe."""
    import calbot.core.untrusted as untrusted

    pattern = _unsafe_pattern()
    searched: list[str] = []

    class Watched:
        def search(self, text):
            searched.append(text)
            return pattern.search(text)

        def sub(self, *args):
            raise AssertionError("nothing to escape")

    monkeypatch.setattr(untrusted, "_unsafe_pattern", Watched)
    doc = json.dumps([{"why": "no agenda — “status”", "n": i} for i in range(1000)])
    doc = json.dumps(json.loads(doc), ensure_ascii=False)
    assert json_escaped(doc) == doc
    assert searched == ["—“”" * 1000]
