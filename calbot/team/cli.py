"""`calbot team ...`: registered by the single-user CLI through this one module, which
imports nothing heavy, so `calbot --help` stays fast and works without the team extra.
Every command first checks the extra (exit 2 naming `pip install 'calbot[team]'`).

`calbot team check [USER_CONFIG ...]` validates the team config and, merged with its
`[defaults]`, each user config given; the store-backed commands (`migrate`, `add-user`,
`users`, `remove-user`, `scan`, `status`, `digest`) are in `calbot.team.commands`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, TextIO

from calbot.team.extra import require_team_extra

HELP = "team mode: many users on PostgreSQL + Celery + Redis (needs calbot[team])"


def add_team_command(sub: Any, common: argparse.ArgumentParser) -> None:
    team = sub.add_parser(
        "team",
        help=HELP,
        description=(
            "Team mode: many users on PostgreSQL, Celery and Redis."
            " Needs `pip install 'calbot[team]'`."
        ),
    )
    team.set_defaults(run=cmd_team_usage)
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--team-config",
        metavar="PATH",
        help="team config (default: $CALBOT_TEAM_CONFIG, else ~/.config/calbot/team.toml)",
    )
    commands = team.add_subparsers(dest="team_command", metavar="TEAM_COMMAND")
    p = commands.add_parser(
        "check",
        parents=[options],
        help="validate the team config, and each user config given merged with its defaults",
    )
    p.add_argument("user_configs", nargs="*", metavar="USER_CONFIG", help="a user's calbot.toml")
    p.set_defaults(run=cmd_check)
    from calbot.team.commands import add_store_commands  # light: imports nothing heavy

    add_store_commands(commands, options)


def cmd_team_usage(args: argparse.Namespace, out: TextIO) -> int:
    from calbot.errors import UsageError

    require_team_extra()
    raise UsageError("calbot team: name a command (see `calbot team --help`)")


def team_config_path(args: argparse.Namespace) -> Path:
    from calbot.team.config import default_team_config_path

    if args.team_config:
        return Path(args.team_config).expanduser()
    return default_team_config_path(os.environ)


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    require_team_extra()
    from calbot.team.config import load_team_settings, read_user_config, user_settings

    path = team_config_path(args)
    team = load_team_settings(path, os.environ)
    print(f"{path}: team config OK", file=out)
    for name in args.user_configs:
        user_path = Path(name).expanduser()
        settings = user_settings(team, read_user_config(user_path), path=str(user_path))
        print(f"{user_path}: OK for {settings.user.email}", file=out)
    return 0
