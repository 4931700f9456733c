"""Templates are compiled and checked once per process for the same files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import calbot.config.templates as templates_module
from calbot.config.templates import BUILTIN_DIR, load_templates
from calbot.errors import ConfigError


def test_same_files_load_once() -> None:
    assert load_templates() is load_templates()


def test_a_changed_override_loads_again(tmp_path: Path) -> None:
    name = "call.en.txt.j2"
    path = tmp_path / name
    path.write_text((BUILTIN_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    first = load_templates(str(tmp_path))
    assert load_templates(str(tmp_path)) is first
    path.write_text("{{ nonsense_variable }}", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a new state even on a coarse-clock file system
    with pytest.raises(ConfigError, match="nonsense_variable"):
        load_templates(str(tmp_path))


def test_files_checked_once_are_compiled_unchecked_by_later_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later process (here: the per-process cache cleared) finds the checked marker in the
    cache dir and skips the sample renders; a changed file is checked again."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    rendered: list[str] = []
    real = templates_module.sample_contexts

    def counting(action: object, lang: str, *, notes: bool) -> object:
        rendered.append(lang)
        return real(action, lang, notes=notes)  # type: ignore[arg-type]

    monkeypatch.setattr(templates_module, "sample_contexts", counting)
    folder = tmp_path / "mine"
    folder.mkdir()
    name = "call.en.txt.j2"
    (folder / name).write_text((BUILTIN_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(templates_module, "_LOADED", {})
    first = load_templates(str(folder))
    assert rendered
    rendered.clear()
    monkeypatch.setattr(templates_module, "_LOADED", {})
    again = load_templates(str(folder))
    assert rendered == []
    assert again.compiled.keys() == first.compiled.keys()
    (folder / name).write_text("{{ nonsense_variable }}", encoding="utf-8")
    os.utime(folder / name, ns=(2, 2))
    monkeypatch.setattr(templates_module, "_LOADED", {})
    with pytest.raises(ConfigError, match="nonsense_variable"):
        load_templates(str(folder))
