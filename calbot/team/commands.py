"""`calbot team migrate | add-user | users | remove-user | scan | status | digest`: the
commands over the team's PostgreSQL database (SPEC §11).

Declared by `calbot.team.cli` (so this module, like that one, imports nothing heavy at the
top); each command checks the team extra first, then imports psycopg and the use cases.
Nothing here prints a URL, a key or a token.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from calbot.team.extra import require_team_extra

if TYPE_CHECKING:
    from calbot.team.config import TeamSettings
    from calbot.team.pg_users import UserRow

REMOVED_NOTE = (
    "their config, token and calbot's state are deleted; their Gmail drafts and calendar"
    " notes are left as they are"
)

REMOVE_WAIT_SECONDS = 30.0


def add_store_commands(commands: Any, options: argparse.ArgumentParser) -> None:
    p = commands.add_parser("migrate", parents=[options], help="create or upgrade the schema")
    p.set_defaults(run=cmd_migrate)
    p = commands.add_parser(
        "add-user",
        parents=[options],
        help="validate a user's calbot.toml (merged with [defaults]) and store it",
    )
    p.add_argument("config", metavar="CONFIG", help="the user's calbot.toml")
    p.add_argument(
        "--token",
        metavar="FILE",
        help="the user's OAuth token (users outside the Workspace domain), stored encrypted",
    )
    p.set_defaults(run=cmd_add_user)
    p = commands.add_parser("users", parents=[options], help="list the team's users")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(run=cmd_users)
    p = commands.add_parser(
        "remove-user",
        parents=[options],
        help="delete a user's config, token and state (never their drafts or notes)",
    )
    p.add_argument("email", metavar="EMAIL")
    p.set_defaults(run=cmd_remove_user)
    p = commands.add_parser("scan", parents=[options], help="scan one user now")
    p.add_argument("email", metavar="EMAIL")
    p.add_argument("--dry-run", action="store_true", help="read only: write nothing anywhere")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(run=cmd_scan)
    p = commands.add_parser(
        "status", parents=[options], help="per user: last scan, outcome, trouble and its fix"
    )
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(run=cmd_status)
    p = commands.add_parser("digest", parents=[options], help="print a user's digest")
    p.add_argument("email", metavar="EMAIL")
    p.set_defaults(run=cmd_digest)


# --- shared ----------------------------------------------------------------------------------


def _team(args: argparse.Namespace) -> TeamSettings:
    require_team_extra()
    from calbot.team.cli import team_config_path
    from calbot.team.config import load_team_settings

    return load_team_settings(team_config_path(args), os.environ)


@contextmanager
def _database(team: TeamSettings, *, current: bool = True) -> Iterator[Any]:
    from calbot.team.pg_schema import require_current
    from calbot.team.pg_store import connect

    conn = connect(team.team.database_url)
    try:
        if current:
            require_current(conn)
        yield conn
    finally:
        conn.close()


def _when(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _user_doc(user: UserRow) -> dict[str, Any]:
    """A user as `users --json` and `status --json` show them: never the token."""
    return {
        "email": user.email,
        "created_at": _when(user.created_at),
        "has_token": user.has_token,
        "last_scan_at": _when(user.last_scan_at),
        "outcome": user.last_outcome,
        "error": user.last_error,
        "fix": user.last_fix,
        "drafts_pending": user.drafts_pending,
        "next_scan_at": _when(user.next_scan_at),
        "next_digest_at": _when(user.next_digest_at),
    }


def _dump(doc: Any, out: TextIO) -> None:
    from calbot.core.untrusted import json_escaped

    out.write(json_escaped(json.dumps(doc, ensure_ascii=False, indent=2)) + "\n")


# --- commands --------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace, out: TextIO) -> int:
    from calbot.team.pg_schema import migrate

    team = _team(args)
    with _database(team, current=False) as conn:
        before, after = migrate(conn)
    if before == after:
        print(f"team database: schema version {after}, already current", file=out)
    else:
        print(f"team database: schema version {before} -> {after}", file=out)
    return 0


def cmd_add_user(args: argparse.Namespace, out: TextIO) -> int:
    from calbot.team.config import read_user_config, user_settings
    from calbot.team.pg_users import add_user, find_user
    from calbot.team.user_scan import settings_of

    team = _team(args)
    path = Path(args.config).expanduser()
    text = _read_text(path)
    own = read_user_config(path)  # one-line errors naming the file
    settings = user_settings(team, own, path=str(path))
    token = _sealed_token(team, Path(args.token).expanduser()) if args.token else None
    with _database(team) as conn:
        existed = find_user(conn, settings.user.email) is not None
        user = add_user(conn, settings.user.email, text, token)
        settings_of(team, user)  # what every scan will check (e.g. no outbox)
    verb = "updated" if existed else "added"
    extra = " with an encrypted token" if token is not None else ""
    print(f"{verb} {user.email}{extra}", file=out)
    return 0


def _read_text(path: Path) -> str:
    from calbot.errors import ConfigError

    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"cannot read the file ({type(exc).__name__})") from None


def _sealed_token(team: TeamSettings, path: Path) -> bytes:
    """The token file's JSON, encrypted with the team's key (its text is never shown)."""
    from calbot.adapters.google.auth import REQUIRED_KEYS, read_token_info
    from calbot.errors import TokenFileError
    from calbot.team.secrets import load_secret_box

    info = read_token_info(path)
    missing = [k for k in REQUIRED_KEYS if not info.get(k)]
    if missing:
        raise TokenFileError(f"token file {path} lacks {', '.join(missing)}")
    box = load_secret_box(team.team.secret_key_file, os.environ, config_path=team.path)
    return box.encrypt(info)


def cmd_users(args: argparse.Namespace, out: TextIO) -> int:
    from calbot.team.pg_users import list_users

    with _database(_team(args)) as conn:
        users = list_users(conn)
    if args.json:
        _dump([_user_doc(u) for u in users], out)
        return 0
    for u in users:
        token = "token" if u.has_token else "delegated"
        print(f"{u.email}\t{token}\tadded {u.created_at:%Y-%m-%d}", file=out)
    print(f"{len(users)} users", file=out)
    return 0


def cmd_remove_user(args: argparse.Namespace, out: TextIO) -> int:
    from calbot.errors import LockedError
    from calbot.team.pg_users import get_user, normal_email, remove_user
    from calbot.team.user_scan import acquire_user_lock

    with _database(_team(args)) as conn:
        user = get_user(conn, args.email)
        # never under a running scan: it would fail half-way on the deleted rows
        if not acquire_user_lock(conn, user.user_id, REMOVE_WAIT_SECONDS):
            raise LockedError(f"a scan of {user.email} is running; try again when it ends")
        remove_user(conn, user.email)
    print(f"removed {normal_email(args.email)}: {REMOVED_NOTE}", file=out)
    return 0


def cmd_scan(args: argparse.Namespace, out: TextIO) -> int:
    from calbot.team.pg_store import connect
    from calbot.team.pg_users import get_user
    from calbot.team.user_scan import scan_user

    team = _team(args)
    with _database(team) as conn:
        user = get_user(conn, args.email)
    done = scan_user(
        team,
        user.user_id,
        connect=lambda: connect(team.team.database_url),
        budgets=_budgets(team),
        box=_box(team),
        key=_key(team),
        dry_run=bool(args.dry_run),
    )
    if done.exit_code != 0:
        if args.json:
            _dump(done.to_dict(), out)
        fix = f" — {done.fix}" if done.fix else ""
        print(f"calbot: {done.email}: {done.error}{fix}", file=sys.stderr)
        return done.exit_code
    from calbot.cli.main import show

    assert done.run is not None and done.settings is not None
    show(done.run, done.settings, out, as_json=bool(args.json))
    return 0


def _budgets(team: TeamSettings) -> Any:
    if not team.team.broker_url:
        return None
    import redis

    from calbot.team.budgets import Budgets

    return Budgets.from_limits(redis.Redis.from_url(team.team.broker_url), team.limits)


def _box(team: TeamSettings) -> Any:
    from calbot.team.secrets import KEY_ENV, load_secret_box

    if not (team.team.secret_key_file or os.environ.get(KEY_ENV)):
        return None
    return load_secret_box(team.team.secret_key_file, os.environ, config_path=team.path)


def _key(team: TeamSettings) -> Any:
    if not team.google.service_account_file:
        return None
    from calbot.team.credentials import ServiceAccountKey

    return ServiceAccountKey.load(Path(team.google.service_account_file).expanduser())


def cmd_status(args: argparse.Namespace, out: TextIO) -> int:
    from calbot.team.pg_users import list_users

    with _database(_team(args)) as conn:
        users = list_users(conn)
    if args.json:
        _dump([_user_doc(u) for u in users], out)
        return 0
    print("user\tlast scan\toutcome\tdrafts pending\tnext scan\tnext digest\ttrouble", file=out)
    for u in users:
        last = "never" if u.last_scan_at is None else f"{u.last_scan_at:%Y-%m-%d %H:%M} UTC"
        nxt = "-" if u.next_scan_at is None else f"{u.next_scan_at:%Y-%m-%d %H:%M} UTC"
        # set by the beat's tick (`calbot.team.tick`); "-" until it first sees the user
        digest = "-" if u.next_digest_at is None else f"{u.next_digest_at:%Y-%m-%d %H:%M} UTC"
        trouble = "" if not u.last_error else u.last_error
        if u.last_fix:
            trouble += f" — {u.last_fix}"
        row = (u.email, last, u.last_outcome or "-", str(u.drafts_pending), nxt, digest, trouble)
        print("\t".join(row), file=out)
    return 0


def cmd_digest(args: argparse.Namespace, out: TextIO) -> int:
    from calbot.team.digest import Access, print_digest

    team = _team(args)
    access = Access(key=_key(team), box=_box(team), budgets=_budgets(team))
    with _database(team) as conn:
        return print_digest(team, conn, args.email, out, access=access)
