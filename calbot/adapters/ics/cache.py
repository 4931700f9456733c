"""What an ICS source keeps between scans, in the platform cache dir (`ics/`), so an
unchanged calendar is neither parsed nor, for a URL, downloaded again:

- the expanded calendar: every occurrence from a month before to a month after the window
  of the scan that made it, as `Event`s, with the loading warnings, keyed by the content's
  SHA-256 (and the user, zone and calendar id the events were made for, and this code);
  a later scan whose window lies inside that span filters it instead of parsing;
- for a URL, the body and its `ETag`/`Last-Modified`: the next GET asks with them, and a
  304 answer means the copy is current.

One file of each per calendar location (a changed calendar replaces its entry). The files
are private to the user (the folder is 0700) and are Python pickles: the cache dir is as
trusted as the user's own files. Anything unreadable is a miss; anything unwritable is
skipped: the cache only ever saves time."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pickle
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from calbot.adapters.ics.download import Validators
from calbot.core.messages import Message
from calbot.core.model import Event

FORGET_AFTER = timedelta(days=30)
SPAN_MARGIN = timedelta(days=31)  # expanded beyond the window each side: a month of reuse
_FORMAT = 1  # bump when the pickled shape changes


@dataclass(frozen=True, slots=True)
class Expanded:
    """Every occurrence overlapping [span_start, span_end), sorted by (start, id)."""

    content_sha: str
    span_start: datetime
    span_end: datetime
    events: tuple[Event, ...]
    load_warnings: tuple[Message, ...]

    def covers(self, start: datetime, end: datetime) -> bool:
        return self.span_start <= start and end <= self.span_end


@functools.cache
def code_tag() -> str:
    """The code that makes `Event`s from a calendar, hashed: an entry made by other code
    (an upgrade, a local change) is a miss."""
    digest = hashlib.sha256(str(_FORMAT).encode())
    core = Path(__file__).parents[2] / "core"
    for path in [*sorted(Path(__file__).parent.glob("*.py")), core / "model.py"]:
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def content_sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class IcsCache:
    """The cache entries of one calendar location as one user sees it."""

    def __init__(self, folder: Path, location: str, identity: tuple[str, ...]) -> None:
        self._folder = folder
        name = hashlib.sha256("\0".join((location, *identity)).encode()).hexdigest()[:32]
        self._expanded = folder / f"{name}.pickle"
        url_name = hashlib.sha256(location.encode()).hexdigest()[:32]
        self._url_meta = folder / f"url-{url_name}.json"
        self._url_body = folder / f"url-{url_name}.body"

    @classmethod
    def open(cls, location: str, identity: tuple[str, ...]) -> IcsCache | None:
        from calbot.config.cache_dir import cache_dir

        folder = cache_dir("ics")
        return cls(folder, location, identity) if folder is not None else None

    # -- the expanded calendar --------------------------------------------------------

    def expanded(self, sha: str) -> Expanded | None:
        try:
            with self._expanded.open("rb") as f:
                tag, entry = pickle.load(f)  # noqa: S301 - the user's own private cache
        except Exception:  # missing, truncated, another version's classes: a miss
            return None
        if tag != code_tag() or not isinstance(entry, Expanded) or entry.content_sha != sha:
            return None
        return entry

    def save_expanded(self, entry: Expanded) -> None:
        self._write(self._expanded, pickle.dumps((code_tag(), entry), pickle.HIGHEST_PROTOCOL))
        self._forget_old()

    def _forget_old(self) -> None:
        """Entries unused for `FORGET_AFTER` go (calendars no longer read, demo weeks)."""
        with contextlib.suppress(OSError):
            cutoff = time.time() - FORGET_AFTER.total_seconds()
            for path in self._folder.iterdir():
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()

    # -- a URL's last body ------------------------------------------------------------

    def url_copy(self) -> tuple[Validators, str] | None:
        """(validators, content SHA-256) of the body kept for the URL."""
        try:
            meta = json.loads(self._url_meta.read_text(encoding="utf-8"))
            validators = Validators(str(meta["etag"]), str(meta["last_modified"]))
            sha = str(meta["sha"])
        except Exception:  # missing or unreadable: no conditional GET
            return None
        if not self._url_body.is_file():
            return None
        return validators, sha

    def url_body(self) -> bytes | None:
        try:
            return self._url_body.read_bytes()
        except OSError:
            return None

    def save_url_copy(self, validators: Validators, data: bytes, sha: str) -> None:
        if not (validators.etag or validators.last_modified):
            return  # nothing to ask with next time
        self._write(self._url_body, data)
        meta = {"etag": validators.etag, "last_modified": validators.last_modified, "sha": sha}
        self._write(self._url_meta, json.dumps(meta).encode())

    def _write(self, path: Path, data: bytes) -> None:
        """Whole or not at all (a temp file renamed over), never an error."""
        try:
            fd, tmp = tempfile.mkstemp(dir=self._folder, prefix=".tmp-")
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            Path(tmp).replace(path)
        except OSError:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
