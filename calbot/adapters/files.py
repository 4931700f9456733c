"""Writing a private file atomically: the one way calbot writes tokens, ids and drafts; and
reading one safely: a FIFO, directory or (where refused) link in its place is an error, never
a hang or a read of something else."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically (temp file in the same folder, fsync, rename,
    fsync of the folder): a crash leaves the old file or the new one, never half of one.
    The file is 0600 from its first byte; a missing folder is created 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".calbot-", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:  # mkstemp creates it 0600
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class NotRegularFile(OSError):
    """A path calbot would read or replace is a directory, FIFO, device, socket or (where
    links are refused) a symbolic link."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: Path, *, follow_links: bool = True) -> BinaryIO:
    """`path` opened for reading, when it is a regular file.

    Opened with O_NONBLOCK (opening a FIFO never waits for a writer) and, unless
    `follow_links`, O_NOFOLLOW; the type is checked on the open descriptor, so nothing can
    swap the file between the check and the read. Raises FileNotFoundError, NotRegularFile
    (its `strerror` says what the path is instead) or OSError."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_links:
            raise NotRegularFile(errno.ELOOP, "a symbolic link", str(path)) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(errno.EINVAL, _kind(mode), str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, *, limit: int, follow_links: bool = True) -> bytes:
    """The bytes of `path` (see `open_regular`) when it holds at most `limit` bytes; else
    NotRegularFile."""
    with open_regular(path, follow_links=follow_links) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise NotRegularFile(errno.EFBIG, f"larger than {limit} bytes", str(path))
    return data


def regular_or_missing(path: Path) -> None:
    """Nothing when `path` is a regular file (not a link) or does not exist; else
    NotRegularFile saying what it is. For a path calbot is about to replace."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise NotRegularFile(errno.EEXIST, _kind(mode), str(path))
