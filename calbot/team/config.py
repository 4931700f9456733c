"""The team config (SPEC §11): TOML → a frozen, validated `TeamSettings`, and each user's
own config merged under the team's `[defaults]` and validated like any single-user config.

Problems are reported as the user config reports them: every problem collected, the first
one named by file and dotted key (`team.database_url`, `defaults.thresholds.act_at`) on one
line, exit 2. Connection URLs may hold a password, so no message ever quotes one.

Merging: `[defaults]` holds any section of the user config; each section is merged per key
(the user's key wins), and a user's own `[[clients]]` replaces the defaults' list when the
user has one. The team's `[google]` then applies to every user (the team's service account
reads every calendar; `subject` is the user's own e-mail). Team mode keeps no local files,
so a merged config with an `outputs.outbox` is refused.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from calbot.config import checks
from calbot.config.loader import SECTIONS, ConfigProblems, parse_settings
from calbot.config.settings import Settings
from calbot.config.table import Table
from calbot.errors import ConfigError

__all__ = [
    "TeamEngine",
    "TeamGoogle",
    "TeamLimits",
    "TeamSection",
    "TeamSettings",
    "default_team_config_path",
    "load_team_settings",
    "merged_user_data",
    "parse_team_settings",
    "user_settings",
]

TEAM_SECTIONS = ("team", "google", "limits", "defaults", "engine")
# Per-key merging needs a table; `clients` is a list, replaced whole.
_LIST_SECTIONS = ("clients",)
_PLACEHOLDER_EMAIL = "defaults-check@calbot.invalid"


@dataclass(frozen=True, slots=True)
class TeamSection:
    database_url: str = ""
    broker_url: str = ""
    secret_key_file: str = ""

    def __repr__(self) -> str:  # the URLs may carry passwords
        return "TeamSection(database_url=<hidden>, broker_url=<hidden>, secret_key_file=...)"


@dataclass(frozen=True, slots=True)
class TeamGoogle:
    service_account_file: str = ""
    api_root: str = ""  # tests and emulators only


@dataclass(frozen=True, slots=True)
class TeamLimits:
    # Google allows 600/min per user and 10,000/min per project: stay under both.
    requests_per_minute_per_user: int = 500
    requests_per_minute_per_project: int = 8000
    budget_window_seconds: float = 60.0  # short in tests, so budgets refill quickly

    def per_window(self, per_minute: int) -> int:
        """A per-minute budget as a count per window (at least 1, never over the rate)."""
        return max(1, int(per_minute * self.budget_window_seconds / 60))


@dataclass(frozen=True, slots=True)
class TeamEngine:
    """`[engine]`: the Celery beat and broker (see `calbot/team/celery.py`)."""

    tick_seconds: float = 30.0  # how often the beat looks for due users; short in tests
    # Redis re-delivers an unacknowledged task after this: longer than the slowest scan
    visibility_timeout_seconds: float = 3600.0


@dataclass(frozen=True, slots=True)
class TeamSettings:
    team: TeamSection
    path: str = "<memory>"
    google: TeamGoogle = field(default_factory=TeamGoogle)
    limits: TeamLimits = field(default_factory=TeamLimits)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    engine: TeamEngine = field(default_factory=TeamEngine)


def default_team_config_path(env: Mapping[str, str]) -> Path:
    """`$CALBOT_TEAM_CONFIG`, else `team.toml` in the platform config dir."""
    if env.get("CALBOT_TEAM_CONFIG"):
        return Path(env["CALBOT_TEAM_CONFIG"]).expanduser()
    return Path(platformdirs.user_config_dir("calbot", appauthor=False)) / "team.toml"


def load_team_settings(path: Path, env: Mapping[str, str]) -> TeamSettings:
    """Read and validate the team config; any problem raises one `ConfigError` (exit 2)."""
    return parse_team_settings(_read_toml(path), path=str(path), env=env)


def parse_team_settings(
    data: Mapping[str, Any], *, path: str, env: Mapping[str, str]
) -> TeamSettings:
    problems: list[tuple[str, str]] = []
    top = Table(data, "", problems, TEAM_SECTIONS, what="section")
    t = top.table("team", TeamSection)
    database_url = _env_url(t, env, "database_url", "CALBOT_DATABASE_URL", _DB_URL)
    broker_url = _env_url(t, env, "broker_url", "CALBOT_BROKER_URL", _BROKER_URL)
    for key, value, env_name in (
        ("database_url", database_url, "CALBOT_DATABASE_URL"),
        ("broker_url", broker_url, "CALBOT_BROKER_URL"),
    ):
        if not value and not t.broken and key not in t.data:
            t.problem(key, f"required (or set ${env_name})")
    secret_key_file = t.get("secret_key_file", "", checks.path)
    if not secret_key_file and not env.get("CALBOT_SECRET_KEY") and not t.broken:
        t.problem(
            "secret_key_file",
            "required (or set $CALBOT_SECRET_KEY): the key that encrypts users' tokens",
        )
    g = top.table("google", TeamGoogle)
    google = TeamGoogle(
        service_account_file=g.get("service_account_file", "", checks.path),
        api_root=g.get("api_root", "", checks.api_root),
    )
    limits = _limits(top.table("limits", TeamLimits))
    defaults = _defaults(top, path)
    engine = _engine(top.table("engine", TeamEngine))
    if problems:
        raise ConfigProblems(path, problems)
    return TeamSettings(
        team=TeamSection(database_url, broker_url, secret_key_file),
        path=path,
        google=google,
        limits=limits,
        defaults=defaults,
        engine=engine,
    )


def _engine(t: Table) -> TeamEngine:
    d = TeamEngine()
    positive = checks.number(False, 0, None, True)
    return TeamEngine(
        tick_seconds=float(t.get("tick_seconds", d.tick_seconds, positive)),
        visibility_timeout_seconds=float(
            t.get("visibility_timeout_seconds", d.visibility_timeout_seconds, positive)
        ),
    )


def _limits(t: Table) -> TeamLimits:
    d = TeamLimits()
    whole = checks.number(True, 1, None, False)
    return TeamLimits(
        requests_per_minute_per_user=t.get(
            "requests_per_minute_per_user", d.requests_per_minute_per_user, whole
        ),
        requests_per_minute_per_project=t.get(
            "requests_per_minute_per_project", d.requests_per_minute_per_project, whole
        ),
        budget_window_seconds=float(
            t.get(
                "budget_window_seconds",
                d.budget_window_seconds,
                checks.number(False, 0, None, True),
            )
        ),
    )


def _url(schemes: tuple[str, ...], example: str, *, need_host: bool = False) -> Any:
    """A connection URL's check. Never quotes the value: it may hold a password."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise checks.BadValue(f"expected a URL like {example}, got {checks.describe(value)}")
        problem = _url_problem(value, schemes, need_host)
        if problem:
            raise checks.BadValue(f"{problem} — expected a URL like {example}")
        return value

    return check


def _url_problem(value: str, schemes: tuple[str, ...], need_host: bool) -> str:
    """What is wrong with connection URL `value` ("" when nothing), in words that never
    quote any part of it."""
    if not value.strip():
        return "empty"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        return "not a URL (it holds spaces or control characters)"
    try:
        parts = urlsplit(value)
        port = parts.port  # raises for a port that is not a number in 0-65535
    except ValueError:
        return "not a URL (its host or port cannot be read)"
    if parts.scheme.lower() not in schemes:
        return f"not a {' or '.join(s + '://' for s in schemes)} URL"
    if need_host and not parts.hostname:
        return "no host given"
    if need_host and parts.path.strip("/") and not parts.path.strip("/").isdigit():
        return "the database after the host must be a number (/0)"
    if port == 0:
        return "port 0 is not a port"
    return ""


_DB_URL = _url(("postgresql", "postgres"), "postgresql://USER@HOST:5432/DB")
_BROKER_URL = _url(("redis", "rediss"), "redis://HOST:6379/0", need_host=True)


def _env_url(t: Table, env: Mapping[str, str], key: str, env_name: str, check: Any) -> str:
    """`[team] key`, or `$env_name` when set (it wins); either checked the same way, a bad
    one named by the variable and the key it overrides, never quoted."""
    if env.get(env_name):
        try:
            return str(check(env[env_name]))
        except checks.BadValue as exc:
            t.problem(key, f"${env_name} (which overrides it): {exc}")
            return ""
    return str(t.get(key, "", check))


def _defaults(top: Table, path: str) -> dict[str, Any]:
    """`[defaults]`, checked section by section with the user config's own validation."""
    raw = top.data.get("defaults", {})
    if not isinstance(raw, dict):
        top.problem("defaults", f"expected a [defaults] table, got {checks.describe(raw)}")
        return {}
    t = Table(raw, "defaults", top.problems, SECTIONS, what="section")
    if isinstance(raw.get("user"), dict) and "email" in raw["user"]:
        t.problem("user.email", "each user's own — it cannot be a default")
    if isinstance(raw.get("outputs"), dict) and raw["outputs"].get("outbox"):
        t.problem("outputs.outbox", _NO_OUTBOX)
    if any(p[0].startswith("defaults") for p in top.problems):
        return dict(raw)
    # A stand-in user makes the defaults a whole config; its own keys cannot be wrong.
    probe = merged_user_data(raw, {"user": {"email": _PLACEHOLDER_EMAIL}})
    if "clients" not in raw:  # users bring their own; a stand-in keeps "no clients" quiet
        probe["clients"] = [{"name": "stand-in", "domains": ["client.invalid"]}]
    try:
        parse_settings(probe, path=path, check_templates=False)
    except ConfigProblems as exc:
        top.problems.extend((f"defaults.{key}", reason) for key, reason in exc.problems)
    return dict(raw)


_NO_OUTBOX = 'team mode keeps no local files: remove it (or set outbox = "")'


def merged_user_data(defaults: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """The user's own config over the defaults: per key inside each section; the user's
    `[[clients]]` replaces the defaults' list. Neither input is changed."""
    merged: dict[str, Any] = copy.deepcopy(dict(defaults))
    for section, value in own.items():
        base = merged.get(section)
        if section not in _LIST_SECTIONS and isinstance(base, dict) and isinstance(value, dict):
            merged[section] = {**base, **copy.deepcopy(value)}
        else:
            merged[section] = copy.deepcopy(value)
    return merged


def user_settings(
    team: TeamSettings,
    own: Mapping[str, Any],
    *,
    path: str,
    now: datetime | None = None,
    check_templates: bool = False,
) -> Settings:
    """A user's config merged with the team's defaults and `[google]`, validated as a
    single-user config (ConfigError, exit 2, naming `path` and the key)."""
    data = merged_user_data(team.defaults, own)
    google = dict(data.get("google") or {}) if isinstance(data.get("google"), dict) else {}
    if team.google.service_account_file:
        google["service_account_file"] = team.google.service_account_file
    if team.google.api_root:
        google["api_root"] = team.google.api_root
    if google:
        data["google"] = google
    settings = parse_settings(data, path=path, now=now, check_templates=check_templates)
    if settings.outputs.outbox:
        raise ConfigError(path, "outputs.outbox", _NO_OUTBOX)
    return settings


def read_user_config(path: Path) -> dict[str, Any]:
    """A user's config file as TOML data (validated later, merged with the defaults)."""
    return _read_toml(path)


def _read_toml(path: Path) -> dict[str, Any]:
    where = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(where, "", "no such file") from None
    except OSError as exc:
        raise ConfigError(where, "", f"cannot read the file: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(where, "", "not UTF-8 text — save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, "", f"not valid TOML: {exc}") from None
