"""The outbox sink: one `.eml` file per draft in a local folder, for the user to review.

The folder (created 0700 on the first write, never before: a dry run writes nothing) holds
client data, so every file is 0600. Each draft's file name comes from its Message-ID
(`calbot-<sha256 prefix>.eml`): stable across scans and safe in any Maildir. Writes are
atomic (temp file in the same folder, fsync, rename, fsync of the folder), so a crash leaves
either the old draft or the new one, never half of one. The version of a draft is the
SHA-256 of its bytes: a user's edit, move or delete shows up in `observe`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import datetime
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

from calbot.adapters.files import (
    NotRegularFile,
    open_regular,
    read_regular,
    regular_or_missing,
    write_private,
)
from calbot.adapters.mail import build_message, draft_hash, message_hashes, message_holds
from calbot.core.decide import offered_slots
from calbot.core.messages import Message
from calbot.core.vocab import DraftStatus
from calbot.ports.sinks import DraftGone, Left, Reply, SinkKind, Written

_SUFFIX = ".eml"
_HEADER_LIMIT = 256 * 1024  # bytes read when looking for a Message-ID
_FILE_LIMIT = 64 * 1024 * 1024  # a draft the user grew past this is not read whole
# The version of a draft path holding something else (a directory, FIFO, link): it never
# matches what calbot wrote, so the draft reads as the user's and is left alone.
_NOT_A_FILE = "not-a-regular-file"


def _version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _message_id_in(path: Path) -> str:
    """The Message-ID a draft file carries; "" when unreadable or without one."""
    try:
        head = _read_head(path)
    except OSError:  # gone, a folder, unreadable: not one of ours to adopt
        return ""
    found = BytesHeaderParser(policy=policy.default).parsebytes(head).get("Message-ID")
    return str(found).strip() if found is not None else ""


def file_name_for(message_id: str) -> str:
    """The outbox file name of the draft carrying `message_id`."""
    return f"calbot-{hashlib.sha256(message_id.encode()).hexdigest()[:32]}{_SUFFIX}"


class OutboxSink:
    """`DraftSink` writing `.eml` files into `folder`."""

    name = "outbox"
    kind = SinkKind.MAIL
    tells_sent = False  # a draft gone from it may have been sent

    def __init__(
        self,
        folder: str | Path,
        *,
        from_addr: str,
        from_name: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.folder = Path(folder).expanduser()
        self._from_addr = from_addr
        self._from_name = from_name
        self._clock = clock
        self._cleaned = False
        self.warnings: list[Message] = []

    # -- DraftSink -------------------------------------------------------------------------

    def content_hash(self, reply: Reply) -> str:
        return draft_hash(reply.draft)

    def observe(self, refs: Sequence[str]) -> dict[str, str | None]:
        result: dict[str, str | None] = {}
        for ref in refs:
            try:
                result[ref] = _version(_read(self.path_of(ref)))
            except FileNotFoundError:
                result[ref] = None
            except NotRegularFile:
                result[ref] = _NOT_A_FILE
        return result

    def find(self, message_id: str) -> Written | None:
        """The draft file whose Message-ID header is `message_id` (its expected name first)."""
        wanted = message_id.strip()
        for path in self._candidates(message_id):
            if _message_id_in(path) == wanted:
                try:
                    data = _read(path)
                except (FileNotFoundError, NotRegularFile):  # changed between two reads
                    continue
                now, written = message_hashes(data)
                return Written(
                    ref=path.name,
                    version=_version(data),
                    content_hash=written,
                    edited=now != written,
                    holds=message_holds(data),
                )
        return None

    def adoptable(self, known_refs: Collection[str], message_ids: Collection[str]) -> set[str]:
        """Which of `message_ids` some `.eml` file the ledger does not know carries: one
        header read per unknown file, instead of a folder walk per new draft."""
        if not message_ids or not self.folder.is_dir():
            return set()
        wanted = {m.strip() for m in message_ids}
        present: set[str] = set()
        for path in self._draft_files():
            if path.name in known_refs:
                continue
            found = _message_id_in(path)
            if found in wanted:
                present.add(found)
        return present

    def create(self, reply: Reply) -> Written:
        """Write a new draft file (named after its Message-ID); returns its ref and version."""
        return self._write(file_name_for(reply.message_id), reply)

    def update(self, ref: str, reply: Reply) -> Written:
        """Atomically replace the content of `ref` (its name stays, even if the id changed).

        Raises `DraftGone` when the file is no longer there (the user moved or deleted it
        since `observe`): it is not written again."""
        if not _is_regular(self.path_of(ref)):
            raise DraftGone(f"outbox draft {ref} is no longer in {self.folder}")
        return self._write(ref, reply)

    def delete(self, ref: str) -> None:
        path = self.path_of(ref)
        if not _is_regular(path):  # gone, or something calbot did not write: left alone
            return
        try:
            path.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(self.folder)

    def path_of(self, ref: str) -> Path:
        """Where the draft `ref` lives. ValueError for anything that is not a plain file name."""
        if (
            not ref
            or ref in {".", ".."}
            or ".." in ref
            or "/" in ref
            or "\\" in ref
            or "\0" in ref
            or (os.altsep is not None and os.altsep in ref)
        ):
            raise ValueError(f"not an outbox file name: {ref!r}")
        return self.folder / ref

    def sent(self, refs: Sequence[str]) -> set[str]:
        return set()  # what the user did with a file is not known: deleted or sent

    # -- internals -------------------------------------------------------------------------

    def _candidates(self, message_id: str) -> Iterator[Path]:
        if not self.folder.is_dir():
            return
        expected = self.folder / file_name_for(message_id)
        if _is_regular(expected):
            yield expected
        yield from (path for path in self._draft_files() if path != expected)

    def _draft_files(self) -> Iterator[Path]:
        for path in sorted(self.folder.glob(f"*{_SUFFIX}")):
            if not path.name.startswith(".") and _is_regular(path):
                yield path

    def _ensure_folder(self) -> None:
        if self.folder.is_dir():
            self._clean_leftovers()
            return
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.folder.mkdir(mode=0o700)
        except FileExistsError:
            return
        self.folder.chmod(0o700)  # mkdir's mode is masked by the umask

    def _clean_leftovers(self) -> None:
        """Temp files of a writer killed mid-write (they hold client data). Only one calbot
        writes at a time (the state lock), so any that exist now are stale."""
        if self._cleaned:
            return
        self._cleaned = True
        for stale in self.folder.glob(".calbot-*.tmp"):
            if _is_regular(stale):  # never a folder or link someone put there
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()

    def _write(self, ref: str, reply: Reply) -> Written:
        target = self.path_of(ref)
        data = build_message(
            reply.draft,
            from_addr=self._from_addr,
            from_name=self._from_name,
            message_id=reply.message_id,
            date=self._clock(),
            holds=offered_slots(reply.decision),
        )
        self._ensure_folder()
        _check_target(target)
        write_private(target, data)
        return Written(ref=ref, version=_version(data), content_hash=self.content_hash(reply))

    # -- MessageSink -----------------------------------------------------------------------

    def leave(self, message: bytes, message_id: str, *, label: str) -> Left:
        """Write `message` as `calbot-<label>-<YYYYMMDD>.eml`, the day by the sink's clock:
        one file per label and day, replaced by a second message the same day (as the
        digest's Message-ID, one per day; the file name needs no look-up by it). The ref is
        the file's path."""
        target = self.path_of(f"calbot-{label}-{self._clock():%Y%m%d}{_SUFFIX}")
        status = DraftStatus.UPDATED if target.exists() else DraftStatus.NEW
        self._ensure_folder()
        _check_target(target)
        write_private(target, message)
        return Left(status, str(target))


def _read_head(path: Path) -> bytes:
    """The header block of a message file (up to the first empty line)."""
    lines: list[bytes] = []
    size = 0
    with open_regular(path, follow_links=False) as f:
        for line in f:
            if line in (b"\r\n", b"\n"):
                break
            lines.append(line)
            size += len(line)
            if size > _HEADER_LIMIT:
                break
    return b"".join(lines)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read(path: Path) -> bytes:
    """A draft file's bytes: a regular file only, never through a link (NotRegularFile)."""
    return read_regular(path, limit=_FILE_LIMIT, follow_links=False)


def _is_regular(path: Path) -> bool:
    """A regular file itself (a link to one is not: calbot never writes links)."""
    try:
        regular_or_missing(path)
    except NotRegularFile:
        return False
    return path.exists()


def _check_target(target: Path) -> None:
    """A draft is written only where nothing but a regular file is: a directory, FIFO or
    link in its place is the user's, left alone. ValueError: the scan warns about that
    draft and goes on."""
    try:
        regular_or_missing(target)
    except NotRegularFile as exc:
        raise ValueError(
            f"{target} is {exc.strerror}, not a draft calbot wrote; left alone"
        ) from None


def folder_problem(folder: str | Path) -> str | None:
    """Why drafts cannot go into `folder`, or None: checked before any sink writes, so a
    bad outbox stops the scan before a Gmail draft is made. The folder (or, while it does
    not exist, the nearest parent that does) must be a writable directory."""
    path = Path(folder).expanduser()
    probe = path
    while not probe.exists() and not probe.is_symlink() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        what = "a file" if probe.is_file() else "not a folder"
        return f"{probe} is {what}, not a folder for the drafts"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return None
