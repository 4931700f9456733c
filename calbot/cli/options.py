"""What every command reads from its options and the environment: the config file, the
state dir and the validated settings. (`calbot.config.loader` is imported by the function
that needs it: it takes a while to load, and `calbot --help` needs none of it.)"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calbot.config.settings import Settings


def config_path(args: argparse.Namespace) -> Path:
    from calbot.config.loader import default_config_path

    return Path(args.config).expanduser() if args.config else default_config_path(os.environ)


def state_dir() -> Path:
    """The state dir, after checking the store file in it can be read (a cheap header check:
    garbage, a truncated file or a directory stops every command that uses the store at
    once, exit 2 naming the file and the fix — the worker too, before its first scan)."""
    from calbot.adapters.sqlite.store import DB_NAME, check_store_file
    from calbot.config.loader import default_state_dir

    folder = default_state_dir(os.environ)
    check_store_file(folder / DB_NAME)
    return folder


def load(args: argparse.Namespace) -> Settings:
    """The validated config. Templates are validated too, by `wiring.scan`, which loads them
    once before it reads any calendar."""
    from calbot.config.loader import load_settings

    return load_settings(config_path(args), check_templates=False)
