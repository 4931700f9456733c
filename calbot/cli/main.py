"""The command line: the only module that prints. Every CalbotError becomes one line on
stderr and its exit code; heavy libraries are imported by the commands that need
them, so `calbot --help` stays fast."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

from calbot import __version__, collector
from calbot.cli.completion import add_completion_command, no_color
from calbot.cli.digest import add_digest_command
from calbot.cli.google import add_google_commands
from calbot.cli.init import add_init_command
from calbot.cli.options import config_path, load, state_dir
from calbot.cli.run import add_run_command
from calbot.core.untrusted import one_line
from calbot.errors import CalbotError

if TYPE_CHECKING:
    from calbot.config.settings import Settings
    from calbot.usecases.wiring import ScanRun

VERSION_HELP = "print calbot's version and exit"
CONFIG_HELP = (
    "config file (default: $CALBOT_CONFIG, else ~/.config/calbot/calbot.toml); "
    "before or after the command (after wins)"
)
COLOR_HELP = (
    "colours on a terminal: --color even when NO_COLOR is set, --no-color never "
    "(default: on, unless NO_COLOR is set)"
)
EPILOG = (
    "calbot never sends anything and never moves a meeting: it leaves drafts for you to "
    "review. Start with `calbot demo`."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calbot",
        description="Protects your week from client meetings: scores them and drafts polite "
        "replies (reschedule, shorten, call, e-mail, delegate, time box) for you to review.",
        epilog=EPILOG,
    )
    parser.add_argument(
        "-V", "--version", action="version", version=f"calbot {__version__}", help=VERSION_HELP
    )
    # --config and --color go before the command too (as in gcalcli and khal); the ones
    # after it win (`parse_args` merges them)
    parser.add_argument("--config", dest="config_before", metavar="PATH", help=CONFIG_HELP)
    parser.add_argument(
        "--color", dest="color_before", action=argparse.BooleanOptionalAction, help=COLOR_HELP
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help=CONFIG_HELP)
    common.add_argument("--color", action=argparse.BooleanOptionalAction, help=COLOR_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "demo",
        parents=[common],
        help="scan a bundled sample week; drafts go to a local outbox (no Google account)",
        description="Runs a full scan on a bundled sample week (dated from today) and writes "
        "the drafts as .eml files to a local outbox.",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print the scan's result as JSON (its fields: README, `--json` result document) "
        "instead of the table",
    )
    p.add_argument(
        "--outbox",
        metavar="DIR",
        default="calbot-demo-outbox",
        help="where the .eml drafts go (default: ./calbot-demo-outbox)",
    )
    p.set_defaults(run=cmd_demo, short_lived=True)

    add_init_command(sub, common)

    p = sub.add_parser(
        "scan",
        parents=[common],
        help="one scan: score meetings, write drafts",
        description="Reads your calendar for the window (now to [source] horizon), scores "
        "every client meeting, and writes a draft reply for each one at or above "
        "thresholds.act_at to the configured sinks (Gmail drafts, the outbox). Nothing is "
        "sent. Prints a table of the client meetings, or the result as JSON.",
    )
    p.add_argument("--dry-run", action="store_true", help="write nothing anywhere, state included")
    p.add_argument("--json", action="store_true", help="print the result document on stdout")
    p.add_argument(
        "--from", dest="start", metavar="WHEN", help='start instead of now ("thứ hai tuần sau")'
    )
    p.add_argument("--to", dest="end", metavar="WHEN", help='end of the window ("in 2 weeks")')
    p.set_defaults(run=cmd_scan, short_lived=True)

    p = sub.add_parser(
        "explain",
        parents=[common],
        help="a meeting's factors, points, action and draft",
        description="Shows why one meeting got its score and action: each factor with its "
        "points and reason, the action, and the draft with its status. Writes nothing.",
    )
    p.add_argument(
        "event_id",
        metavar="ID",
        help="the id `calbot scan` shows (or a prefix of it), or an event, UID or series id",
    )
    p.add_argument("--from", dest="start", metavar="WHEN", help="start of the window searched")
    p.add_argument("--to", dest="end", metavar="WHEN", help="end of the window searched")
    p.set_defaults(run=cmd_explain, short_lived=True)

    add_google_commands(sub, common)
    add_digest_command(sub, common)
    add_run_command(sub, common)
    add_completion_command(sub, common)
    # Team mode: a light module (no Celery, no psycopg) that registers `calbot team`.
    from calbot.team.cli import add_team_command

    add_team_command(sub, common)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line, `--config` and `--color` given before the command used
    when the command's own are not given."""
    args = build_parser().parse_args(argv)
    for name in ("config", "color"):
        if getattr(args, name, None) is None:
            setattr(args, name, getattr(args, f"{name}_before", None))
    return args


# --- commands ------------------------------------------------------------------------------


def cmd_scan(args: argparse.Namespace, out: TextIO) -> int:
    # The commands import their use case when they run: the use cases load Jinja2, the
    # calendar libraries and the adapters, which `calbot --help` must not wait for.
    from calbot.config.placeholders import placeholders_left
    from calbot.usecases.wiring import now_in, scan

    settings = load(args)
    left = placeholders_left(config_path(args))
    if left:
        # a warning, never a stop: the user may be trying calbot out before editing
        print(
            f"calbot: warning: {config_path(args)} still has the starter's placeholders "
            f"({', '.join(left)}): replace each value that says CHANGE ME",
            file=sys.stderr,
        )
    with progress_reporter(enabled=not args.json) as progress:
        run = scan(
            settings,
            state_dir(),
            now=now_in(settings),
            start_text=args.start,
            end_text=args.end,
            dry_run=args.dry_run,
            progress=progress,
        )
    show(run, settings, out, as_json=args.json, no_color=no_color(args))
    return 0


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    # imported when the command runs: start-up time (see cmd_scan)
    from calbot.present.meeting_ids import find_meeting
    from calbot.present.render import explain_text
    from calbot.usecases.wiring import now_in, scan

    settings = load(args)
    run = scan(
        settings,
        state_dir(),
        now=now_in(settings),
        start_text=args.start,
        end_text=args.end,
        dry_run=True,
    )
    o = find_meeting(run.result.outcomes, args.event_id)
    tz = ZoneInfo(settings.user.timezone)
    print(explain_text(o, tz, run.outbox_paths, settings.user.language), file=out)
    return 0


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    # imported when the command runs: start-up time (see cmd_scan)
    from calbot.usecases.demo import DEMO_TIMEZONE, run_demo

    outbox = Path(args.outbox).expanduser().resolve()
    with progress_reporter(enabled=not args.json) as progress:
        run, settings = run_demo(outbox, datetime.now(ZoneInfo(DEMO_TIMEZONE)), progress)
    show(run, settings, out, as_json=args.json, no_color=no_color(args))
    if not args.json:
        print(f"\nDrafts (.eml, open them in any mail app): {outbox}", file=out)
        print("Nothing was sent. `calbot init` writes a config for your own calendar.", file=out)
    return 0


# --- output --------------------------------------------------------------------------------


def show(
    run: ScanRun, settings: Settings, out: TextIO, *, as_json: bool, no_color: bool | None = None
) -> None:
    # imported when the command runs: start-up time (see cmd_scan)
    from calbot.present.render import count_line, json_text, result_doc, table_rows

    result = run.result
    if as_json:
        doc = result_doc(result, run.outbox_paths, settings.user.language)
        out.write(json_text(doc, pretty=out.isatty()) + "\n")
        return
    for warning in result.warnings:
        print(f"calbot: warning: {one_line(warning)}", file=sys.stderr)
    rows = table_rows(result, ZoneInfo(settings.user.timezone))
    headers = ("id", "when", "client", "meeting", "score", "action", "draft")
    if out.isatty():
        from rich.console import Console  # rich only on a terminal: it is slow to load
        from rich.table import Table
        from rich.text import Text

        table = Table(*headers, title="Client meetings")
        for row in rows:
            # Text, not str: rich would read "[...]" in an event title as markup
            table.add_row(*(Text(cell) for cell in row))
        Console(file=out, no_color=no_color).print(table)
    else:
        print("\t".join(headers), file=out)
        for row in rows:
            print("\t".join(row), file=out)
    print(f"\n{count_line(result)}", file=out)


@contextmanager
def progress_reporter(*, enabled: bool) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr when it is a terminal; silent otherwise."""
    if not (enabled and sys.stderr.isatty()):
        yield lambda _: None
        return
    from rich.console import Console  # only on a terminal, as in `show`

    with Console(stderr=True).status("starting") as status:
        yield lambda text: status.update(text)


# --- entry point ---------------------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, *, whole_process: bool = False
) -> int:
    """`whole_process`: the process ends when this returns (`entry_point`)."""
    collector.relaxed()  # see `calbot.collector`
    args = parse_args(argv)
    if whole_process and getattr(args, "short_lived", False):
        collector.short_lived()
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    _logs_off_stderr()
    try:
        return run(args, out or sys.stdout)
    except CalbotError as exc:
        print(f"calbot: {one_line(str(exc))}", file=sys.stderr)
        return _exit_code(exc)
    except KeyboardInterrupt:
        print("calbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last resort: one line, never a traceback
        if os.environ.get("CALBOT_DEBUG"):
            raise
        print(
            f"calbot: unexpected error: {type(exc).__name__}: {one_line(str(exc))} "
            "(set CALBOT_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return _exit_code(exc)


def entry_point() -> int:
    """`calbot` and `python -m calbot`: `main`, then the process ends. `main` stays free of
    this so tests can call it again and again in one process."""
    try:
        return main(whole_process=True)
    finally:
        collector.frozen_at_exit()


def _exit_code(exc: BaseException) -> int:
    # imported on failure only: a scan that succeeds never needs it (start-up time)
    from calbot.usecases.failures import failure_of

    return failure_of(exc).exit_code


def _logs_off_stderr() -> None:
    """A command's stderr is its one-line error: with no handler configured,
    Python would print every warning there too — calbot's "retrying in 2 s", the Google
    client's own. `calbot run` installs its log handler over this one; CALBOT_DEBUG=1
    leaves them on stderr."""
    root = logging.getLogger()
    if not root.handlers and not os.environ.get("CALBOT_DEBUG"):
        root.addHandler(logging.NullHandler())
