"""Templates are compiled and checked once per process for the same files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
