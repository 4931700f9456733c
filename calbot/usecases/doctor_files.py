"""`calbot doctor`'s checks that need no Google: calbot's own code cannot send, the folders
holding client data are private, and no token or client secret was copied into them.

They read only local files. The secret scan reads in chunks (the state store can be 100 MB)
and never puts a secret in a message: it names the file."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from calbot.config.settings import Settings
from calbot.present.logs import secrets_from_files
from calbot.usecases import nosend
from calbot.usecases.doctor_check import PERMISSIONS_PAGE, RUN_AUTH, Check

__all__ = ["no_send", "private_folder", "secrets_copied"]

CHUNK = 4 << 20  # bytes read at a time when looking for secrets
MIN_SECRET = 8  # shorter strings are not credentials and would match by chance
SHOWN = 3  # files named in a failing check; the rest are counted


def no_send(*, gmail: bool) -> Check:
    """ "Never sends" is a property of calbot's code (`gmail.compose` could send): check the
    installed package with `calbot.usecases.nosend`."""
    modules, problems = nosend.package_send_calls()
    if problems:
        places = [_place(module, hit) for module, hits in problems.items() for hit in hits]
        return Check(
            "sending",
            False,
            "calbot's code could send: " + ", ".join(places),
            "calbot must never send: remove that code, or reinstall an unmodified calbot",
        )
    detail = (
        f"calbot's {modules} modules contain no send call; drafts only, calendar writes use "
        "sendUpdates=none"
    )
    if gmail:
        detail += "; the gmail.compose scope could send mail, but calbot's code never does"
    return Check("sending", True, detail)


def _place(module: str, hit: str) -> str:
    """ "calbot/x.py:12 (.send)" from nosend's "line 12: .send"."""
    if hit.startswith("line "):
        line, _, what = hit.removeprefix("line ").partition(": ")
        return f"{module}:{line} ({what})"
    return f"{module} ({hit})"


# --- folders -------------------------------------------------------------------------------


def private_folder(name: str, folder: Path) -> Check:
    """The state dir and the outbox hold client data: folders 0700 and files 0600.
    Any group or world bit fails; a missing folder is fine (nothing written yet)."""
    if not os.path.lexists(folder):
        return Check(name, True, f"{folder} does not exist yet (nothing written)")
    open_ = list(_open_to_others(folder))
    if open_:
        path, mode = open_[0]
        more = f" and {len(open_) - 1} more" if len(open_) > 1 else ""
        return Check(
            name,
            False,
            f"{path} is open to others (mode 0{mode:o}){more}: it holds client data",
            f"chmod -R go= {folder}",
        )
    return Check(name, True, f"{folder}: only you can read it (folders 0700, files 0600)")


def _open_to_others(folder: Path) -> Iterator[tuple[Path, int]]:
    """`folder` and everything under it that has a group or world bit. Symbolic links are
    neither followed nor judged (their own mode is always 0777)."""
    for path in [folder, *_tree(folder, files_only=False)]:
        try:
            info = path.lstat()
        except OSError:
            continue
        mode = stat.S_IMODE(info.st_mode)
        if not stat.S_ISLNK(info.st_mode) and mode & 0o077:
            yield path, mode


def _tree(folder: Path, *, files_only: bool) -> Iterator[Path]:
    """Everything under `folder` (not following links); only regular files if asked."""
    for top, dirs, files in os.walk(folder):
        base = Path(top)
        if not files_only:
            yield from (base / d for d in dirs)
        for f in files:
            path = base / f
            if not files_only or (path.is_file() and not path.is_symlink()):
                yield path


# --- secrets -------------------------------------------------------------------------------


def secrets_copied(settings: Settings, folders: list[Path]) -> Check:
    """No access token, refresh token or client secret in any file under `folders` (the
    token and client secret files themselves excepted, should they live there)."""
    needles = {s.encode() for s in secrets_from_files(settings) if len(s) >= MIN_SECRET}
    if not needles:
        return Check("secrets", True, "no Google token or client secret to look for")
    own = {
        Path(p).expanduser().resolve()
        for p in (settings.google.token_file, settings.google.client_secret_file)
        if p
    }
    found: list[Path] = []
    unread: list[Path] = []
    read = 0
    for folder in folders:
        for path in _tree(folder, files_only=True):
            if path.resolve() in own:
                continue
            try:
                if _holds(path, needles):
                    found.append(path)
            except OSError:
                unread.append(path)
            else:
                read += 1
    if found:
        return Check(
            "secrets",
            False,
            f"a Google token or client secret was copied into {_named(found)}",
            f"delete it from there, then revoke calbot's access at {PERMISSIONS_PAGE} and "
            f"{RUN_AUTH}: a copied token is a working key",
        )
    where = " and ".join(str(f) for f in folders)
    files = f"{read} file{'' if read == 1 else 's'}"
    if unread:
        return Check(
            "secrets",
            True,
            f"none in the {files} read under {where}; could not read {_named(unread)}",
            "make those files readable by you so doctor can check them",
            warning=True,
        )
    return Check("secrets", True, f"no token or client secret in the {files} under {where}")


def _holds(path: Path, needles: set[bytes]) -> bool:
    """Whether the file contains any of `needles`, read a chunk at a time (the chunks
    overlap so that a secret across a boundary is still found)."""
    keep = max(len(n) for n in needles) - 1
    tail = b""
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            data = tail + block
            if any(n in data for n in needles):
                return True
            tail = data[-keep:] if keep else b""
    return False


def _named(paths: list[Path]) -> str:
    shown = ", ".join(str(p) for p in paths[:SHOWN])
    return shown + (f" and {len(paths) - SHOWN} more files" if len(paths) > SHOWN else "")
