"""`calbot run`: argparse wiring for the unattended worker. `cli.build_parser()` calls
`add_run_command(sub, common)`; the work lives in `calbot.usecases.worker`, the log format in
`calbot.present.logs`."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from calbot.cli.options import config_path, state_dir

# `calbot.present.logs.LEVELS` (a test keeps them equal): the log module loads with the
# worker, not for every command
LEVELS = ("debug", "info", "warning", "error")

__all__ = ["add_run_command", "cmd_run"]


def add_run_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Declare `run` on the subparsers of `calbot`."""
    p = sub.add_parser(
        "run",
        parents=[common],
        help="the unattended worker: scans every schedule.scan_every, the digest daily",
        description="Runs until stopped (SIGTERM or Ctrl-C): a scan at start and every "
        "[schedule] scan_every, the morning digest daily at [schedule] digest_at in your time "
        "zone. Config edits apply at the next scan. Logs one line per event on stderr, with "
        "no secrets. Exit status: 0 stopped cleanly, 2 bad config at start.",
    )
    p.add_argument(
        "--log-format",
        choices=("kv", "json"),
        default="kv",
        help="key=value lines (default) or JSON lines",
    )
    p.add_argument(
        "--log-level", choices=LEVELS, default="info", help="the least important level logged"
    )
    p.set_defaults(run=cmd_run)


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    """Load and check the config (a problem is exit 2, one line), then run the worker."""
    # imported here: the worker loads APScheduler and the adapters, which `calbot --help`
    # does not need
    from calbot.config.loader import load_settings
    from calbot.present.logs import secrets_from_files, setup_logging
    from calbot.usecases.worker import run_worker

    path = config_path(args)
    settings = load_settings(path)  # templates too: a bad one stops the start, exit 2
    scrubber = setup_logging(
        args.log_format, args.log_level, stream=sys.stderr, secrets=secrets_from_files(settings)
    )
    return run_worker(path, state_dir(), settings, scrubber=scrubber, log_format=args.log_format)
