"""A sentence for the user, as data: a code and its arguments, never text.

The core says *what* to tell the user (a factor's figures, why a rule did not fit, which
meeting got no draft); `calbot.present.messages` turns a `Message` into a sentence in the
user's language, only when it is shown. The arguments are plain values the renderer formats
per language: a `date` becomes a day label ("Tue 1 Dec", "thứ Ba 1/12"), `Hours` a length in
hours ("1.5 h", "1,5 giờ"), a `time` a clock time ("09:30"), a nested `Message` its own
sentence and `Clauses` several sentences one after another; strings and numbers stay as
they are (a catalogue text may give a number a format: "×{weight:g}").

Tuples, not dataclasses: a scan builds one per factor of every meeting (see `Factor`).
"""

from __future__ import annotations

from datetime import date, time
from typing import NamedTuple, Protocol


class Message(NamedTuple):
    """The catalogue entry `code` filled with `args` (name, value) pairs."""

    code: str
    args: tuple[tuple[str, Arg], ...] = ()


class Hours(NamedTuple):
    """A length shown in hours ("1.5 h"), given in minutes."""

    minutes: float


class Clauses(NamedTuple):
    """Sentences shown one after another, in order ("a; b; c")."""

    items: tuple[Message, ...]


Arg = str | int | float | date | time | Hours | Clauses | Message


def message(code: str, **args: Arg) -> Message:
    """`Message(code, args)` with the arguments by name."""
    return Message(code, tuple(args.items()))


class Say(Protocol):
    """Turns a message into text in a language (English where that language has none)."""

    def __call__(self, message: Message, lang: str) -> str: ...
