"""One TOML table of the config: unknown keys reported at once, then typed reads that
record each problem (by its dotted path) instead of stopping at the first."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

from calbot.config.checks import BadValue, describe, quoted

_T = TypeVar("_T")


class Table:
    def __init__(
        self,
        data: Mapping[str, Any],
        where: str,
        problems: list[tuple[str, str]],
        known: Iterable[str],
        what: str = "key",
    ) -> None:
        self.data, self.problems = data, problems
        self.broken = False  # not a table at all: already reported, so nothing is "required"
        self.where = f"{where}." if where else ""
        known = list(known)
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problem(key, f"unknown {what} {quoted(key)}{hint}")

    def problem(self, key: str, reason: str) -> None:
        self.problems.append((self.where + key, reason))

    def get(self, key: str, default: _T, check: Callable[[Any], _T]) -> _T:
        if key not in self.data:
            return default
        try:
            return check(self.data[key])
        except BadValue as exc:
            self.problem(key, str(exc))
            return default

    def table(self, key: str, section: type[Any]) -> Table:
        """The sub-table `key`, whose known keys are the fields of the dataclass `section`."""
        value = self.data.get(key, {})
        known = [f.name for f in fields(section)]
        if not isinstance(value, dict):
            self.problem(key, f"expected a [{key}] table, got {describe(value)}")
            broken = Table({}, self.where + key, self.problems, known)
            broken.broken = True
            return broken
        return Table(value, self.where + key, self.problems, known)
