"""What counts as a placeholder the user has not replaced yet: the one place that knows.

The starter config (`calbot/data/starter.toml`) marks every value a user must change with
"CHANGE ME" in the value itself ("Your Name (CHANGE ME)", "you@change-me.example"), so a
draft signed with one is unmistakable, and so this check needs no list of the starter's
values that would drift from the file. `calbot scan` warns and `calbot doctor` fails while
any is left; neither stops on it."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["MARK", "is_placeholder", "placeholders_in", "placeholders_left"]

# "CHANGE ME" in names and signatures, "change-me" where a domain allows no space
MARK = re.compile(r"change[- ]me", re.IGNORECASE)


def is_placeholder(value: object) -> bool:
    return isinstance(value, str) and MARK.search(value) is not None


def placeholders_in(data: Any) -> list[str]:
    """The keys ("user.name", "clients[0].contacts[0].email") whose value is a placeholder,
    in file order, each once."""
    return list(dict.fromkeys(_walk(data, "")))


def placeholders_left(path: Path) -> list[str]:
    """`placeholders_in` of the config file at `path`; [] when it cannot be read or parsed
    (the loader reports that, with the file and the line)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    return placeholders_in(data)


def _walk(value: Any, key: str) -> Iterator[str]:
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from _walk(inner, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            # a list of plain values is one key; a list of tables names each table
            yield from _walk(inner, f"{key}[{i}]" if isinstance(inner, dict) else key)
    elif is_placeholder(value):
        yield key
