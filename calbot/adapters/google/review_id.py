"""The review calendar's id: where it is kept, and the one place the calendar is created.

The scope `calendar.app.created` cannot list calendars, so a lost id would mean a second
"calbot review" calendar. The id lives with a `ReviewIdKeeper` (`calbot.ports.review_id`,
the source of truth: for a single user `IdFile`, a file beside the token, `<token
folder>/review_calendar_id`, mode 0600; in team mode the user's row in PostgreSQL) and in
the state store's meta (`review_calendar_id`, through the optional `load_id`/`save_id`
callables). It is read from the keeper first, then the store. The calendar is created
(`calendars.insert`) only for the first *write* — never for `observe` or `find`, so a dry
run writes nothing, not even the file — and both copies are brought up to date on the first
write of each instance. A calendar that answers 404 (the user deleted it) is created anew
once, and the keeper and the store are rewritten. Only a crash between `calendars.insert`
and the keeper's save can orphan a calendar.

An id that names one of the user's configured calendars, "primary" or the user's address is
refused (`ServiceError`): with `calendar.events` also granted, a bad id must never lead calbot
to write into a calendar that others can see.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from calbot.adapters import files
from calbot.adapters.google.api import GoogleApi
from calbot.config.settings import Settings
from calbot.errors import ServiceError
from calbot.ports.review_id import ReviewIdKeeper

CALENDAR_SUMMARY = "calbot review"
ID_FILE_NAME = "review_calendar_id"
META_KEY = "review_calendar_id"
_ID_SHAPE = re.compile(r"[^\s\x00-\x1f\x7f]{1,255}")


def id_file_for(settings: Settings) -> Path:
    """Where the review calendar's id is kept: beside the token file."""
    return Path(settings.google.token_file).expanduser().parent / ID_FILE_NAME


class IdFile:
    """`ReviewIdKeeper` of a single user: a file (mode 0600, replaced atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def load(self) -> str | None:
        return _read_id_file(self.path)

    def save(self, calendar_id: str) -> None:
        _write_id_file(self.path, calendar_id)


class ReviewCalendarId:
    """The id of calbot's review calendar, as one sink instance knows it."""

    def __init__(
        self,
        api: GoogleApi,
        settings: Settings,
        *,
        keeper: ReviewIdKeeper,
        description: str,
        load_id: Callable[[], str | None] | None = None,
        save_id: Callable[[str], None] | None = None,
    ) -> None:
        """`keeper`: where the id is kept (the source of truth). `description`: the new
        calendar's, in the user's language. `load_id`/`save_id`:
        the state store's copy of the id; `save_id` opens its own transaction."""
        self._api = api
        self._tz = settings.user.timezone
        self._description = description
        self._keeper = keeper
        self._load_id = load_id
        self._save_id = save_id
        self._forbidden = {
            "primary",
            settings.user.email.lower(),
            *(c.lower() for c in settings.source.calendars),
            *(c.lower() for c in settings.source.busy_calendars),
        }
        self._calendar_id: str | None = None
        self._read = False  # the id was looked up (file, then store)
        self._gone = False  # the known calendar answered 404
        self._persisted = False  # file and store hold the id (checked on the first write)

    def known(self) -> str | None:
        """The id as known now (keeper, then store); None before the calendar exists, or
        once it answered 404."""
        if not self._read:  # a bad id raises here, and again on every later use
            found = self._keeper.load()
            if found is None and self._load_id is not None:
                found = (self._load_id() or "").strip() or None
            if found is not None:
                self._check(found)
            self._calendar_id, self._read = found, True
        return None if self._gone else self._calendar_id

    def gone(self) -> None:
        """The known calendar answered 404 (or 410): the user deleted it."""
        self._gone = True

    def for_writing(self) -> str:
        """The id to write to: the known one (its copies brought up to date), else that of
        a new calendar."""
        cid = self.known()
        if cid is None:
            return self._create()
        self.persist(cid)
        return cid

    def persist(self, cid: str) -> None:
        """Bring the keeper's id (the source of truth) and the store's copy up to date: on the
        first write of this instance, and after a new calendar was created."""
        if self._persisted:
            return
        if self._keeper.load() != cid:
            self._keeper.save(cid)
        if self._save_id is not None:
            current = self._load_id() if self._load_id is not None else None
            if current != cid:
                self._save_id(cid)
        self._persisted = True

    def _check(self, cid: str) -> None:
        if not _ID_SHAPE.fullmatch(cid) or cid.lower() in self._forbidden:
            raise ServiceError(
                f"{self._keeper.where}: {cid[:80]!r} is not calbot's review calendar — delete"
                " it (and keep the state store) to let calbot find or create its own"
            )

    def _create(self) -> str:
        body = {"summary": CALENDAR_SUMMARY, "description": self._description, "timeZone": self._tz}
        got: Any = self._api.call(
            self._api.calendar.calendars().insert(body=body, fields="id"),
            what="creating the review calendar",
        )
        cid = str((got if isinstance(got, dict) else {}).get("id") or "")
        if not cid:
            raise ServiceError("Google answered calendars.insert without a calendar id")
        self._calendar_id, self._gone, self._persisted = cid, False, False
        self.persist(cid)
        return cid


def _read_id_file(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ServiceError(
            f"cannot read the review calendar's id from {path} ({type(exc).__name__}) — "
            "fix the file's permissions; calbot will not create a second calendar"
        ) from None
    return text or None


def _write_id_file(path: Path, cid: str) -> None:
    """Atomically replace `path` with the id, mode 0600 from the first byte."""
    files.write_private(path, (cid + "\n").encode("utf-8"))
