"""`boundary`'s substance: the time box (shorter than booked) and the agenda, taken from the
invitation's own description when it holds one. The agenda is data for the template (a list
of one-line strings), never template source, so nothing in a description ever runs."""

from __future__ import annotations

import html
import re

from calbot.core.draft_text import short_text
from calbot.core.scoring import AGENDA_SCAN_CHARS, has_agenda

# The lengths a person would name for a time box; the box is the next one shorter than booked.
BOX_STEPS: tuple[int, ...] = (15, 20, 30, 45, 60, 90)
MAX_AGENDA_ITEMS = 5
_ITEM_CHARS = 100

# Tags that end a line of text: a list item, a paragraph, a line break, a heading.
_LINE_TAGS = re.compile(r"<\s*(br|/?p|/?li|/?div|/?h[1-6]|/?tr|/?ul|/?ol)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]*>")
_SCRIPT = re.compile(r"<\s*(script|style)\b.*?<\s*/\s*\1\s*>", re.I | re.S)
_BULLET = re.compile(r"^\s*(?:[-*•·–—▪◦]+|\d{1,2}[.)]|[a-zA-Z][.)](?=\s))\s*")
_URL_ONLY = re.compile(r"^(?:https?://|www\.|mailto:|tel:)\S*$", re.I)
# Calendar apps' pasted join instructions, and a heading that only says "Agenda".
_LABEL = re.compile(r"^(?:agenda|chương trình|nội dung|agenda mesyuarat)\s*:\s*", re.I)
_NOT_AN_ITEM = re.compile(
    r"google meet|zoom|microsoft teams|meeting id|passcode|dial-in|join by phone|"
    r"-::~|learn more about meet|^(agenda|chương trình|nội dung|agenda mesyuarat)\s*:?$",
    re.I,
)


def box_minutes(booked_minutes: float) -> int | None:
    """The time box for a meeting of `booked_minutes`: the longest step shorter than booked
    (60 → 45, 90 → 60, 30 → 20, 2 h → 90); None for 15 minutes or less (agenda only)."""
    shorter = [step for step in BOX_STEPS if step < booked_minutes]
    return shorter[-1] if shorter else None


def agenda_items(description: str) -> list[str]:
    """The invitation's agenda, at most `MAX_AGENDA_ITEMS` one-line items (HTML stripped,
    bullets and numbers dropped); [] when the description holds no agenda."""
    if not has_agenda(description):
        return []
    text = _SCRIPT.sub("\n", description[:AGENDA_SCAN_CHARS])
    text = _LINE_TAGS.sub("\n", text)
    text = html.unescape(_TAG.sub(" ", text))
    items: list[str] = []
    for raw in text.replace("\r", "\n").split("\n"):
        line = _BULLET.sub("", short_text(raw, 1000))
        line = _LABEL.sub("", line) if _LABEL.match(line) and len(line) > 12 else line
        if not line or _URL_ONLY.match(line) or _NOT_AN_ITEM.search(line):
            continue
        if sum(map(str.isalnum, line)) < 3:
            continue
        items.append(short_text(line, _ITEM_CHARS))
        if len(items) == MAX_AGENDA_ITEMS:
            break
    return items
