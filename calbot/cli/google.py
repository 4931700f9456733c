"""`calbot auth` and `calbot doctor`: argparse wiring and output. `cli.build_parser()` calls
`add_google_commands(sub, common)`; the work lives in
`calbot.adapters.google.oauth_flow` and `calbot.usecases.doctor`."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from calbot.cli.completion import no_color
from calbot.cli.init import config_flag
from calbot.cli.options import config_path
from calbot.core.untrusted import one_line
from calbot.errors import ConfigError

if TYPE_CHECKING:  # the doctor's modules load when it runs, not for every command
    from calbot.usecases.doctor_check import Check

__all__ = ["add_google_commands", "cmd_auth", "cmd_doctor", "print_checks"]


def add_google_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Declare `auth` and `doctor` on the subparsers of `calbot`."""
    p = sub.add_parser(
        "auth",
        parents=[common],
        help="connect your Google account (OAuth)",
        description="Signs you in with Google and stores the token file (mode 0600). The "
        "scopes asked for follow the config: calendar.events for a Google calendar source, "
        "gmail.compose for Gmail drafts, calendar.freebusy for busy-only calendars, "
        "calendar.app.created for the review calendar; nothing with an ICS source.",
    )
    p.add_argument(
        "--client-secret",
        metavar="FILE",
        type=Path,
        help="the OAuth client JSON downloaded from the Google Cloud console (Desktop app); "
        "copied to [google] client_secret_file with mode 0600",
    )
    p.add_argument(
        "--no-browser",
        action="store_true",
        help="for servers: print the sign-in address and read back the address (or code) "
        "the browser ends on",
    )
    p.set_defaults(run=cmd_auth)

    p = sub.add_parser(
        "doctor",
        parents=[common],
        help="check config, templates, token, scopes and API reach",
        description="Checks everything a scan needs and says how to fix each problem. Exit "
        "status: 0 all good, 3 Google access expired or revoked, 2 config problem, 4 the "
        "ICS URL cannot be reached, 1 other.",
    )
    p.set_defaults(run=cmd_doctor)


def cmd_auth(args: argparse.Namespace, out: TextIO) -> int:
    # here, not at the top: the Google libraries would slow `calbot --help`
    from calbot.adapters.google.oauth_flow import run_auth_flow
    from calbot.config.loader import load_settings

    path = config_path(args)
    settings = load_settings(path, check_templates=False)
    run_auth_flow(
        settings,
        client_secret=args.client_secret,
        no_browser=args.no_browser,
        out=lambda line: print(line, file=out, flush=True),
        config_flag=config_flag(path),
    )
    return 0


def cmd_doctor(args: argparse.Namespace, out: TextIO) -> int:
    # here, not at the top: the Google libraries would slow `calbot --help`
    from calbot.config.loader import default_state_dir, load_settings
    from calbot.usecases.doctor import run_checks
    from calbot.usecases.doctor_check import exit_code_for

    path = config_path(args)
    try:
        settings = load_settings(path, check_templates=False)  # templates: their own check
    except ConfigError as exc:
        checks = [_config_check(path, exc)]
    else:
        checks = run_checks(
            settings, now=datetime.now(UTC), state_dir=default_state_dir(os.environ)
        )
    print_checks(checks, out, no_color=no_color(args))
    return exit_code_for(checks)


def _config_check(path: Path, exc: ConfigError) -> Check:
    """The failing config line, its fix said once: a missing file's message is only the
    fact, the fix names `calbot init` (with this --config)."""
    from calbot.config.loader import MISSING_FILE
    from calbot.usecases.doctor_check import Check

    if exc.reason == MISSING_FILE:
        return Check(
            "config",
            False,
            f"{path}: no such file",
            f"`calbot init{config_flag(path)}` writes a starter config (or try `calbot demo`)",
            exit_code=2,
        )
    return Check("config", False, str(exc), f"edit {path}", exit_code=2)


def print_checks(checks: list[Check], out: TextIO, *, no_color: bool | None = None) -> None:
    """A table on a terminal; one plain line per check when piped. A detail can quote a
    server's error text or an event's: every field goes through `one_line` (no control
    characters, no line breaks), and into rich only as `Text`, never read as markup."""
    if out.isatty():
        # here, not at the top: rich would slow `calbot --help`
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table("", "check", "result", "fix", title="calbot doctor")
        for c in checks:
            mark = Text("ok", style="green") if c.ok else Text("FAIL", style="bold red")
            if c.ok and c.warning:
                mark = Text("warn", style="yellow")
            fix = c.fix if not c.ok or c.warning else ""
            table.add_row(mark, *(Text(one_line(x)) for x in (c.name, c.detail, fix)))
        Console(file=out, no_color=no_color).print(table)
    else:
        for c in checks:
            label = ("warn" if c.warning else "ok") if c.ok else "FAIL"
            line = f"{one_line(c.name)}: {one_line(c.detail)}"
            if c.fix and (not c.ok or c.warning):
                line += f" — fix: {one_line(c.fix)}"
            print(f"{label:<4}  {line}", file=out)
    failing = sum(1 for c in checks if not c.ok)
    print(
        "All checks passed."
        if not failing
        else f"{failing} problem{'s' if failing > 1 else ''} to fix.",
        file=out,
    )
