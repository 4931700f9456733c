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
    from calbot.config.loader import default_state_dir

    return default_state_dir(os.environ)


def load(args: argparse.Namespace) -> Settings:
    """The validated config. Templates are validated too, by `wiring.scan`, which loads them
    once before it reads any calendar."""
    from calbot.config.loader import load_settings

    return load_settings(config_path(args), check_templates=False)
