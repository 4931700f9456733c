"""`calbot init`: write the commented starter config for the chosen source, and say the
exact next command. It asks which source only on a terminal (stdin and stdout both ttys);
piped or scripted, it writes the Google starter and says how to switch."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from calbot.cli.options import config_path
from calbot.errors import UsageError

__all__ = ["SOURCES", "add_init_command", "cmd_init", "config_flag", "starter_for"]

SOURCES = ("google", "ics", "caldav")

# The [caldav] block written for `--source caldav` when the starter has none of its own.
_CALDAV = """
[caldav]
# source.kind = "caldav": your CalDAV server (Fastmail, iCloud, Nextcloud, Radicale...).
url = "https://caldav.change-me.example/"
username = "you@change-me.example"
# A file holding only the password (mode 0600), or set $CALBOT_CALDAV_PASSWORD instead.
password_file = "~/.config/calbot/caldav-password"
"""


def add_init_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Declare `init` on the subparsers of `calbot`."""
    p = sub.add_parser(
        "init",
        parents=[common],
        help="write a commented starter config",
        description="Writes a commented starter config for the calendar source you choose, "
        "and prints the next command to run. On a terminal it asks which source when "
        "--source is not given; otherwise it writes the Google starter.",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing config")
    p.add_argument(
        "--source",
        choices=SOURCES,
        help="where your meetings come from: Google Calendar, an .ics file or URL, or a "
        "CalDAV server (default: asked on a terminal, else google)",
    )
    p.add_argument(
        "--ics",
        metavar="PATH|URL",
        help="the .ics file or http(s)/webcal address to read (implies --source ics)",
    )
    p.set_defaults(run=cmd_init)


def cmd_init(
    args: argparse.Namespace,
    out: TextIO,
    *,
    ask: Callable[[str], str] = input,
    interactive: bool | None = None,
) -> int:
    # imported when the command runs: the loader takes a while, `calbot --help` needs none
    from calbot.config.loader import starter_config

    path = config_path(args)
    if path.exists() and not args.force:
        raise UsageError(f"{path} already exists; use --force to overwrite it")
    source, ics = args.source, args.ics
    if ics is not None and source not in (None, "ics"):
        raise UsageError(f"--ics goes with --source ics, not --source {source}")
    if ics is not None:
        source = "ics"
    if interactive is None:
        interactive = sys.stdin.isatty() and out.isatty()
    asked = source is None and interactive
    if source is None:
        source = _ask_source(ask) if interactive else "google"
    if source == "ics" and ics is None:
        if not interactive:
            raise UsageError("--source ics needs --ics PATH|URL (the calendar to read)")
        ics = _ask(ask, "The .ics file or its http(s)/webcal address: ")
    if ics is not None and "://" not in ics and not ics.startswith("~"):
        # the scan may run from another folder (a service, cron): a relative path would break
        ics = str(Path(ics).absolute())
    text = starter_for(starter_config(), source, ics)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    flag = config_flag(path)
    print(f"Wrote a starter config for a {_NAMES[source]} source to {path}", file=out)
    print("Replace every value that says CHANGE ME (your name, signature, clients).", file=out)
    if source == "google":
        print(
            f"Next: `calbot auth{flag} --client-secret FILE` (see the README, Connect "
            f"Google), then `calbot scan{flag} --dry-run`.",
            file=out,
        )
        if not asked:
            print(
                f"Not Google? `calbot init{flag} --force --ics PATH|URL` writes an .ics "
                f"starter instead (or --source caldav).",
                file=out,
            )
    elif source == "caldav":
        print(
            f"Next: fill in [caldav] (url, username, password_file), then `calbot doctor{flag}` "
            f"and `calbot scan{flag} --dry-run`.",
            file=out,
        )
    else:
        print(f"Next: `calbot scan{flag} --dry-run`.", file=out)
    return 0


_NAMES = {"google": "Google Calendar", "ics": "iCalendar (.ics)", "caldav": "CalDAV"}


def config_flag(path: Path) -> str:
    """ " --config PATH" when `path` is not where calbot looks by default, else ""."""
    from calbot.config.loader import default_config_path

    default = default_config_path(os.environ).expanduser()
    if path.expanduser().absolute() == default.absolute():
        return ""
    return f" --config {shlex.quote(str(path))}"


def starter_for(starter: str, source: str, ics: str | None) -> str:
    """The starter config text for `source`: Google as shipped; ICS with `[source] path`
    set and the Google-only outputs off; CalDAV with a `[caldav]` block to fill in."""
    if source == "google":
        return starter
    text = _once(starter, 'kind = "google"', f'kind = "{source}"')
    text = _once(text, "gmail_drafts = true", "gmail_drafts = false")
    text = _once(text, "calendar_notes = true", "calendar_notes = false")
    if source == "ics":
        assert ics is not None
        return _once(text, '# path = "~/calendar.ics"', f"path = {_toml_string(ics)}")
    if not re.search(r"^\[caldav\]", text, re.MULTILINE):
        text = _once(text, "\n[google]\n", _CALDAV + "\n[google]\n")
    return text


def _once(text: str, old: str, new: str) -> str:
    # the starter is package data: a line that moved is a bug here, not the user's problem
    if text.count(old) != 1:
        raise AssertionError(f"the starter config has no single line {old!r}")
    return text.replace(old, new)


def _toml_string(value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise UsageError("--ics: the path or URL has a control character in it")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ask_source(ask: Callable[[str], str]) -> str:
    while True:
        prompt = "Where do your meetings come from? google, ics or caldav [google]: "
        choice = _ask(ask, prompt, empty_ok=True).lower() or "google"
        if choice in SOURCES:
            return choice


def _ask(ask: Callable[[str], str], prompt: str, *, empty_ok: bool = False) -> str:
    try:
        answer = ask(prompt).strip()
    except EOFError:
        raise UsageError("init: no answer (stdin closed) — use --source and --ics") from None
    if not answer and not empty_ok:
        raise UsageError("init: no answer — use --source and --ics")
    return answer
