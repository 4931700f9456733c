"""The draft memo: the drafts the last scan rendered, kept in the cache dir by a digest of
everything their text is made from, so an unchanged rescan takes them as they were instead
of loading Jinja2 and Babel and rendering each again.

Why a hit is the same text: `make_draft` is pure (no clock, disk or network), a function of
the meeting, the decision, the settings, the opening and the templates. The key covers the
first four in full by `canonical`, but for two event fields no template reads (see
`DraftMemo.key`); the templates, calbot's code, Jinja2, Babel and Python by
`TemplateSource.digest`; and the time zone rules by the tz database's stamp. A value
`canonical` cannot stand for exactly makes that draft unmemoizable (rendered every time),
never a wrong hit. Losing or
corrupting the file costs rendering, never a wrong draft: entries are checked field by
field when read, and anything unexpected is a miss.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import marshal
import os
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from enum import Enum
from operator import attrgetter
from pathlib import Path
from typing import Any

from calbot.core.model import Decision, Draft, Meeting

Handler = Callable[[Any], list[Any]]
# marshal's format 2: no references to objects written before (those came with 3), so
# equal values give equal bytes whichever objects they share
_MARSHAL_VERSION = 2
_HANDLERS: dict[type, Handler] = {}
_PLAIN = frozenset({bool, int, float, str})
_DRAFT_FIELDS = ("language", "to", "subject", "body", "private_notes", "cc", "to_names")


class Unmemoizable(Exception):
    """A value `canonical` cannot stand for exactly."""


def canonical(value: object) -> Any:
    """`value` as plain JSON data that differs whenever `value` differs (types named, sets
    and mappings sorted, zones by name): for the settings, whose sets have no fixed order."""
    kind = type(value)
    if value is None or kind in _PLAIN:  # exact types: a subclass may differ
        return value
    handler = _HANDLERS.get(kind)
    if handler is None:
        handler = _HANDLERS[kind] = _handler_for(kind)
    return handler(value)


def _each(values: Iterable[object]) -> list[Any]:
    """`canonical` of each value; plain ones inline (most are: a call each is most of it)."""
    return [v if v is None or type(v) in _PLAIN else canonical(v) for v in values]


def _sorted(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))


def _handler_for(kind: type) -> Handler:
    """How values of exactly this type are made canonical (found once per type)."""
    name = f"{kind.__module__}.{kind.__qualname__}"  # two classes of one name differ
    if issubclass(kind, Enum):
        return lambda v: [name, canonical(v.value)]
    if issubclass(kind, datetime | time):  # `fold` tells apart a repeated local hour
        return lambda v: [name, v.isoformat(), v.fold, _zone(v.tzinfo)]
    if issubclass(kind, date | timedelta):
        return lambda v: [name, str(v)]
    if issubclass(kind, tzinfo):
        return lambda v: ["tz", _zone(v)]
    if dataclasses.is_dataclass(kind):  # every field, those left out of `repr` too
        names = tuple(f.name for f in dataclasses.fields(kind))
        if len(names) == 1:
            return lambda v: [name, *_each((getattr(v, names[0]),))]
        fields = attrgetter(*names)
        return lambda v: [name, *_each(fields(v))]
    if issubclass(kind, tuple | list):
        head = kind.__name__ if kind in (tuple, list) else name  # a subclass: its type counts
        return lambda v: [head, *_each(v)]
    if issubclass(kind, frozenset | set):
        return lambda v: ["set", *_sorted([canonical(x) for x in v])]
    if issubclass(kind, Mapping):
        return lambda v: [
            "map",
            *_sorted([[canonical(k), canonical(x)] for k, x in v.items()]),
        ]
    raise Unmemoizable(name)


def _zone(zone: tzinfo | None) -> str | None:
    if zone is None:
        return None
    if isinstance(zone, zoneinfo.ZoneInfo):
        return f"ZoneInfo:{zone.key}"
    return repr(zone)  # datetime.timezone: a fixed offset, its repr is all of it


class DraftMemo:
    """One scan's use of the memo file: `get` before rendering, `put` after, `save` at the
    end (written only when something was rendered; it then holds this scan's drafts only)."""

    def __init__(self, path: Path, digest: str, settings: object) -> None:
        self._path = path
        self._used: dict[str, list[Any]] = {}
        self._changed = False
        from calbot.config.cache_dir import tz_database_stamp

        zones = tz_database_stamp()
        try:
            base = json.dumps([digest, zones, canonical(settings)]) if zones else None
        except Unmemoizable:
            base = None
        self._base = base.encode() if base is not None else None
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            self._stored: dict[str, Any] = stored if isinstance(stored, dict) else {}
        except (OSError, ValueError):
            self._stored = {}

    def key(self, meeting: Meeting, decision: Decision, opening: int) -> str | None:
        """The digest standing for this draft's inputs; None: not memoizable.

        The meeting and decision by `canonical`: complete (every field of every dataclass,
        each value's type, a zone by its name), so equal keys mean equal inputs. Its plain
        lists are written with `marshal` at a version that never refers back to an object
        written before, so the bytes follow the values alone, not which objects they
        share: a first scan's events (from Google's pages) and a rescan's (from the
        converted-window file) have the same drafts. (A third of the time pickle took:
        pickle without its memo looked every class up again.) A value `canonical` cannot
        stand for is not memoized.

        Left out: the event's colour and calbot's private note on it (`color_id`,
        `notes`). calbot writes both from the draft, after it, and no template variable
        reads them (`draft_context`): with them in, every rescan after a note changed
        rendered its draft again."""
        if self._base is None:
            return None
        event = meeting.event
        if event.notes or event.color_id:
            meeting = dataclasses.replace(
                meeting, event=dataclasses.replace(event, notes=(), color_id="")
            )
        try:
            inputs = marshal.dumps(canonical((meeting, decision, opening)), _MARSHAL_VERSION)
        except (Unmemoizable, ValueError):
            return None
        return hashlib.sha256(self._base + b"\0" + inputs).hexdigest()

    def get(self, key: str) -> Draft | None:
        entry = self._stored.get(key)
        if not (isinstance(entry, list) and len(entry) == len(_DRAFT_FIELDS)):
            return None
        language, to, subject, body, notes, cc, names = entry
        texts = (language, subject, body, notes)
        lists = (to, cc, names)
        if not all(isinstance(t, str) for t in texts) or not all(
            isinstance(x, list) and all(isinstance(s, str) for s in x) for x in lists
        ):
            return None
        self._used[key] = entry
        return Draft(language, tuple(to), subject, body, notes, tuple(cc), tuple(names))

    def put(self, key: str, draft: Draft) -> None:
        entry = [getattr(draft, name) for name in _DRAFT_FIELDS]
        self._used[key] = [list(v) if isinstance(v, tuple) else v for v in entry]
        self._changed = True

    def save(self) -> None:
        """Write this scan's drafts when any was rendered (atomically; a cache that cannot
        be written is skipped)."""
        if not self._changed:
            return
        tmp = self._path.with_suffix(f".{os.getpid()}.tmp")
        data = json.dumps(self._used, ensure_ascii=False).encode("utf-8")
        with contextlib.suppress(OSError):
            # draft text: private to the user from the first byte, as the state store is
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            tmp.replace(self._path)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def open_memo(digest: str, settings: object, config_path: str) -> DraftMemo | None:
    """The memo of the config at `config_path`; None without a cache dir or digest."""
    from calbot.config.cache_dir import cache_dir

    if not digest:
        return None
    folder = cache_dir("drafts")
    if folder is None:
        return None
    name = hashlib.sha256(str(config_path).encode()).hexdigest()[:32]
    return DraftMemo(folder / f"memo-{name}.json", digest, settings)
