"""PostgreSQL text cannot hold NUL: the team store escapes every string it sends and
unescapes every text it reads, so any text comes back verbatim."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from calbot.team.pg_tables import escape_nul, unescape_nul


@given(st.text())
def test_any_text_round_trips_and_never_carries_nul(text: str) -> None:
    sent = escape_nul(text)
    assert "\x00" not in sent
    assert unescape_nul(sent) == text


def test_plain_text_is_sent_as_it_is() -> None:
    assert escape_nul("Dời lịch ✎ '); DROP") == "Dời lịch ✎ '); DROP"
    assert escape_nul("a\x00b") != "a\x00b"
    assert unescape_nul(escape_nul("\ue000\x00\ue0000")) == "\ue000\x00\ue0000"
