"""`calbot digest`: the morning review, printed. `cli.build_parser()` calls
`add_digest_command(sub, common)`; the work is `calbot.usecases.digest.run_digest`."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from calbot.cli.options import load, state_dir

__all__ = ["add_digest_command", "cmd_digest"]


def add_digest_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Declare `digest` on the subparsers of `calbot`."""
    p = sub.add_parser(
        "digest",
        parents=[common],
        help="the morning review: new drafts, the week's load, trouble and fixes",
        description="Shows what calbot drafted since the last digest and what still waits "
        "for your review, the week's meeting load per day, the hours you win back by "
        "sending the drafts, and any trouble since the last digest with its fix. Also "
        "writes digest.html in the state dir and, with Gmail drafts on, leaves the digest "
        "as a Gmail draft to you (to the outbox when Gmail access has lapsed). Nothing is "
        "sent.",
    )
    p.add_argument(
        "--all",
        dest="all_items",
        action="store_true",
        help="list every draft still waiting for review, not only the new ones",
    )
    p.set_defaults(run=cmd_digest)


def cmd_digest(args: argparse.Namespace, out: TextIO) -> int:
    # imported when the command runs: `calbot --help` stays fast (the digest is heavy)
    from calbot.present.digest_text import delivery_notes, print_terminal, render_plain

    # imported here: the use case loads the adapters, which `calbot --help` does not need
    from calbot.usecases.digest import run_digest
    from calbot.usecases.wiring import now_in

    settings = load(args)
    run = run_digest(settings, state_dir(), now=now_in(settings), all_items=bool(args.all_items))
    notes = delivery_notes(
        run.full,
        gmail=None if run.gmail is None else run.gmail.status,
        eml_path=run.eml_path,
        html_path=run.html_path,
    )
    if out.isatty():
        print_terminal(run.digest, out, notes)
    else:
        out.write(render_plain(run.digest))
        for note in notes:
            print(note, file=out)
    return 0
