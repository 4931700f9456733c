"""`calbot completion bash|zsh|fish` prints the shell's completion script, built from the
parser by `shtab` (so it never drifts from the commands); and what `--color/--no-color`
and `NO_COLOR` mean for rich's output."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

__all__ = ["SHELLS", "add_completion_command", "cmd_completion", "no_color"]

SHELLS = ("bash", "zsh", "fish")


def add_completion_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Declare `completion` on the subparsers of `calbot`."""
    p = sub.add_parser(
        "completion",
        parents=[common],
        help="print the shell completion script (bash, zsh or fish)",
        description="Prints the completion script for your shell. Install it once, e.g. "
        "bash: calbot completion bash > ~/.local/share/bash-completion/completions/calbot; "
        "zsh: calbot completion zsh > ~/.zfunc/_calbot (with ~/.zfunc in $fpath); "
        "fish: calbot completion fish > ~/.config/fish/completions/calbot.fish",
    )
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(run=cmd_completion)


def cmd_completion(args: argparse.Namespace, out: TextIO) -> int:
    # here: shtab and the whole parser are needed only by this command
    import shtab

    from calbot.cli.main import build_parser

    out.write(shtab.complete(build_parser(), shell=args.shell))
    return 0


def no_color(args: argparse.Namespace) -> bool | None:
    """rich's `no_color`: True for --no-color, False for --color (even with NO_COLOR set),
    None to let rich read NO_COLOR itself."""
    color = getattr(args, "color", None)
    return None if color is None else not color
