"""The template files a scan would use, and whether this calbot checked them before, told
without importing Jinja2 or Babel: an unchanged rescan whose drafts all come from the draft
memo (`calbot.usecases.draft_memo`) never loads them.

`TemplateSource` keeps SPEC §1's promise that templates are validated before any network
call: it loads and checks them at once unless the "checked" marker for these exact files
(and this calbot, Jinja2 and Babel) exists, which only a successful full check writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calbot.config.templates import Templates
    from calbot.core.messages import Say
    from calbot.core.model import Decision, Draft, Meeting
    from calbot.core.settings import CoreSettings

BUILTIN_DIR = Path(__file__).parents[1] / "templates"

FilesState = tuple[tuple[str, int, int], ...]


def files_state(templates_dir: str) -> FilesState:
    """(path, mtime, size) of every file in the user's and the built-in template folders;
    () when a folder cannot be listed (loading names the problem; never cached)."""
    folders = [BUILTIN_DIR]
    if templates_dir:
        folders.insert(0, Path(templates_dir).expanduser())
    state = []
    for folder in folders:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return ()
        for path in entries:
            try:
                st = path.stat()
            except OSError:
                continue
            state.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(state)


def _library_stamp(name: str) -> str:
    """A library's installed version told by its package file's stat (importing Jinja2
    or Babel to read `__version__` is what this module avoids): an upgrade rewrites it."""
    try:
        spec = find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is None:
            return f"{name}:?"
        st = Path(origin).stat()
    except (ImportError, ValueError, OSError):
        return f"{name}:?"
    return f"{name}:{origin}:{st.st_mtime_ns}:{st.st_size}"


@lru_cache(maxsize=8)
def code_digest(templates_dir: str, state: FilesState) -> str:
    """Stands for everything a draft's text depends on besides its meeting, decision and
    settings: these template files, calbot's code (its message catalogues included; stat
    only), Jinja2, Babel and Python. Once per process for the same files: the scan's
    `TemplateSource` and `load_templates` both ask, and this process runs the code it
    imported at start, whatever is on disk later."""
    digest = hashlib.sha256(repr((templates_dir, state, sys.version)).encode())
    for name in ("jinja2", "babel"):
        digest.update(_library_stamp(name).encode())
    for line in sorted(_source_stamps(str(Path(__file__).parents[1]))):
        digest.update(line.encode())
    return digest.hexdigest()


def _source_stamps(folder: str) -> list[str]:
    """ "path:mtime:size" of every .py file under `folder` (os.scandir: its entries carry
    their stat, where pathlib's rglob costs a few ms more on every scan)."""
    stamps: list[str] = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    stamps += _source_stamps(entry.path)
            elif entry.name.endswith(".py"):
                with contextlib.suppress(OSError):
                    st = entry.stat()
                    stamps.append(f"{entry.path}:{st.st_mtime_ns}:{st.st_size}")
    return stamps


def checked_marker(templates_dir: str, state: FilesState) -> Path | None:
    """A file in the cache dir whose name stands for these template files checked by this
    calbot and Jinja: once it exists, later runs compile the same files without checking
    them again (the check renders samples of all 21: most of loading). None: no cache."""
    from calbot.config.cache_dir import cache_dir

    if not state:
        return None
    folder = cache_dir("templates")
    if folder is None:
        return None
    return folder / f"checked-{code_digest(templates_dir, state)[:32]}"


class TemplateSource:
    """The templates of one scan: checked when built (unless checked before, see the module
    doc), loaded when the first draft is rendered. `digest` (`code_digest`, "" without a
    cache dir) is what the draft memo keys on besides each meeting."""

    def __init__(self, templates_dir: str = "", config_path: str = "<config>") -> None:
        self._dir, self._config_path = templates_dir, config_path
        self._loaded: Templates | None = None
        state = files_state(templates_dir)
        marker = checked_marker(templates_dir, state)
        self.digest = marker.name.removeprefix("checked-") if marker is not None else ""
        if marker is None or not marker.exists():
            self.get()  # checks them now, before any network call, and writes the marker

    def get(self) -> Templates:
        if self._loaded is None:
            from calbot.config.templates import load_templates  # Jinja2 and Babel: on demand

            self._loaded = load_templates(self._dir, self._config_path)
        return self._loaded

    def draft(
        self, meeting: Meeting, decision: Decision, settings: CoreSettings, say: Say, opening: int
    ) -> Draft:
        return self.get().draft(meeting, decision, settings, say, opening)
