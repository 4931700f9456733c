"""TOML + environment → a frozen, validated `Settings`. All problems are reported at once.

The whole config is checked before calbot touches the network: every key is known, typed and
in range, or it is a problem named by its dotted path (`user.timezone`, `clients[2].language`,
`clients[0].contacts[1].email`). The first problem is the message; the rest are counted in it
and listed in `ConfigProblems.problems`. The commented starter config (`starter_config()`) is
the user documentation of every key, and a test keeps it valid.
"""

from __future__ import annotations

import tomllib
import typing
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from datetime import datetime, time
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import platformdirs

from calbot.config import checks
from calbot.config.accounts import caldav_section, imap_section
from calbot.config.settings import (
    CaldavSettings,
    GoogleSettings,
    ImapSettings,
    Limits,
    Outputs,
    Schedule,
    Settings,
    Source,
)
from calbot.config.table import Table
from calbot.core.model import CLIENT_HOURS, WEEKDAYS_MON_FRI, Client, Contact, Tier, TimeRange
from calbot.core.settings import LANGUAGES, Scoring, Thresholds, UserSettings
from calbot.errors import ConfigError

__all__ = [
    "ConfigProblems",
    "default_config_path",
    "default_state_dir",
    "load_settings",
    "parse_settings",
    "starter_config",
]

MISSING_FILE = (
    "no such file — run `calbot init` to write a starter config, "
    "or `calbot demo` to try calbot without one"
)
DEFAULT_WORKING_HOURS = TimeRange(time(9, 0), time(17, 30))
SECTIONS = (
    "user", "source", "google", "thresholds", "scoring", "clients", "outputs", "schedule", "limits",
    "caldav",
    "imap",
)  # fmt: skip
_SECTION_TYPES: dict[str, type[Any]] = {
    "user": UserSettings, "source": Source, "google": GoogleSettings, "thresholds": Thresholds,
    "scoring": Scoring, "outputs": Outputs, "schedule": Schedule, "limits": Limits,
    "caldav": CaldavSettings,
    "imap": ImapSettings,
}  # fmt: skip
NOTE_COLORS = ("", *(str(n) for n in range(1, 12)))  # Google Calendar's event colour ids


class ConfigProblems(ConfigError):
    """Several config problems at once; `str()` is the first one plus a count, on one line."""

    def __init__(self, path: str, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        key, reason = problems[0]
        rest = [k or "(file)" for k, _ in problems[1:]]
        if rest:
            shown = ", ".join(rest[:6]) + (", …" if len(rest) > 6 else "")
            noun = "problem" if len(rest) == 1 else "problems"
            reason = f"{reason} (and {len(rest)} more {noun}: {shown})"
        super().__init__(path, key, " ".join(reason.split("\n")))


# --- where things live ---------------------------------------------------------------------


def default_config_path(env: Mapping[str, str]) -> Path:
    """`$CALBOT_CONFIG`, else the platform config dir (`~/.config/calbot/calbot.toml`)."""
    if env.get("CALBOT_CONFIG"):
        return Path(env["CALBOT_CONFIG"]).expanduser()
    return Path(platformdirs.user_config_dir("calbot", appauthor=False)) / "calbot.toml"


def default_state_dir(env: Mapping[str, str]) -> Path:
    """`$CALBOT_STATE_DIR`, else the platform data dir (`~/.local/share/calbot`)."""
    if env.get("CALBOT_STATE_DIR"):
        return Path(env["CALBOT_STATE_DIR"]).expanduser()
    return Path(platformdirs.user_data_dir("calbot", appauthor=False))


def starter_config() -> str:
    """The commented starter config that `calbot init` writes (package data, one source)."""
    return resources.files("calbot").joinpath("data/starter.toml").read_text(encoding="utf-8")


# --- loading -------------------------------------------------------------------------------


def load_settings(
    path: Path, *, now: datetime | None = None, check_templates: bool = True
) -> Settings:
    """Read and validate the config file; any problem raises one `ConfigError` (exit 2)."""
    where = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(where, "", MISSING_FILE) from None
    except OSError as exc:
        raise ConfigError(where, "", f"cannot read the file: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(where, "", "not UTF-8 text — save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, "", f"not valid TOML: {exc}") from None
    return parse_settings(data, path=where, now=now, check_templates=check_templates)


def parse_settings(
    data: Mapping[str, Any], *, path: str, now: datetime | None = None, check_templates: bool = True
) -> Settings:
    """Validate parsed TOML into `Settings`; collects every problem before raising."""
    problems: list[tuple[str, str]] = []
    top = Table(data, "", problems, SECTIONS, what="section")

    def section(key: str) -> Table:
        return top.table(key, _SECTION_TYPES[key])

    user = _user(section("user"))
    if now is None:
        now = datetime.now(_zone_or_utc(user.timezone))
    source = _source(section("source"), now)
    google = _google(section("google"))
    thresholds = Thresholds(**_numbers(section("thresholds"), Thresholds, _threshold_range))
    scoring = _scoring(section("scoring"))
    clients = _clients(top, user)
    outputs = _outputs(section("outputs"))
    schedule = _schedule(section("schedule"))
    limits = Limits(**_numbers(section("limits"), Limits, lambda _: (0, None, True)))
    caldav = caldav_section(section("caldav"), source)
    imap = imap_section(section("imap"), outputs, top)
    if problems:
        raise ConfigProblems(path, problems)
    if check_templates:
        from calbot.config.templates import load_templates  # start-up time: jinja2 on demand

        load_templates(outputs.templates_dir, path)
    return Settings(
        user=user,
        path=path,
        source=source,
        google=google,
        thresholds=thresholds,
        scoring=scoring,
        clients=clients,
        outputs=outputs,
        schedule=schedule,
        limits=limits,
        caldav=caldav,
        imap=imap,
    )


# --- sections ------------------------------------------------------------------------------


def _user(t: Table) -> UserSettings:
    email = t.get("email", "", checks.email)
    if "email" not in t.data and not t.broken:
        t.problem("email", 'required: your own e-mail address, e.g. "you@example.com"')
    language = t.get("language", "en", checks.choice(LANGUAGES, "language"))
    return UserSettings(
        email=email,
        name=t.get("name", "", checks.string),
        timezone=t.get("timezone", "UTC", checks.timezone),
        language=language,
        working_hours=t.get("working_hours", DEFAULT_WORKING_HOURS, checks.hours),
        working_days=t.get("working_days", (0, 1, 2, 3, 4), checks.weekdays),
        own_domains=t.get("own_domains", (), checks.list_of(checks.domain)),
        signature=t.get("signature", "", checks.string),
        unknown_external_is_client=t.get("unknown_external_is_client", False, checks.boolean),
    )


def _source(t: Table, now: datetime) -> Source:
    kind = t.get("kind", "google", checks.choice(("google", "ics", "caldav"), "source kind"))
    before = len(t.problems)
    path = t.get("path", "", checks.path_or_url)
    if kind == "ics" and not path and len(t.problems) == before:
        t.problem("path", 'required when kind = "ics": an .ics file path or URL')
    return Source(
        kind=kind,
        calendars=t.get(
            "calendars",
            () if kind == "caldav" else ("primary",),  # caldav: () = every calendar with events
            checks.list_of(checks.string, allow_empty=False),
        ),
        busy_calendars=t.get("busy_calendars", (), checks.list_of(checks.string)),
        path=path,
        horizon=t.get("horizon", "in 14 days", checks.when(now, after=True)),
        history=t.get("history", "14 days ago", checks.when(now, after=False)),
    )


def _google(t: Table) -> GoogleSettings:
    d = GoogleSettings()
    return GoogleSettings(
        client_secret_file=t.get(
            "client_secret_file", checks.expand(d.client_secret_file), checks.path
        ),
        token_file=t.get("token_file", checks.expand(d.token_file), checks.path),
        api_root=t.get("api_root", "", checks.api_root),
        service_account_file=t.get("service_account_file", "", checks.path),
        subject=t.get("subject", "", checks.email),
        app_published=t.get("app_published", False, checks.boolean),
    )


def _threshold_range(name: str) -> tuple[float, float | None, bool]:
    """(minimum, maximum, minimum excluded) for a `[thresholds]` key."""
    if name == "act_at":
        return (0, 100, False)
    if name in ("min_notice_hours", "goodwill_days"):
        return (0, None, False)  # 0 switches the rule off
    return (0, None, True)


def _scoring(t: Table) -> Scoring:
    numbers = _numbers(t, Scoring, lambda _: (0, None, False), skip=("order",))
    return Scoring(**numbers, order=t.get("order", Scoring().order, checks.action_order))


def _outputs(t: Table) -> Outputs:
    return Outputs(
        gmail_drafts=t.get("gmail_drafts", False, checks.boolean),
        imap_drafts=t.get("imap_drafts", False, checks.boolean),
        calendar_notes=t.get("calendar_notes", False, checks.boolean),
        review_calendar=t.get("review_calendar", False, checks.boolean),
        outbox=t.get("outbox", "", checks.path),
        templates_dir=t.get("templates_dir", "", checks.existing_dir),
        note_color=t.get("note_color", "", checks.choice(NOTE_COLORS, "Google Calendar colour id")),
    )


def _schedule(t: Table) -> Schedule:
    return Schedule(
        scan_every=t.get("scan_every", Schedule().scan_every, checks.duration),
        digest_at=t.get("digest_at", "07:30", checks.clock),
    )


def _numbers(
    t: Table,
    cls: type[Any],
    bounds: Callable[[str], tuple[float, float | None, bool]],
    skip: Iterable[str] = (),
) -> dict[str, Any]:
    """Every int/float field of a settings dataclass, typed and range-checked."""
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for f in fields(cls):
        if f.name in skip or f.name not in t.data:
            continue
        low, high, strict = bounds(f.name)
        out[f.name] = t.get(
            f.name, f.default, checks.number(hints[f.name] is int, low, high, strict)
        )
    return out


def _clients(top: Table, user: UserSettings) -> tuple[Client, ...]:
    raw = top.data.get("clients", [])
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        hint = " — write [[clients]], double brackets" if isinstance(raw, dict) else ""
        top.problem("clients", f"expected one [[clients]] table per client{hint}")
        return ()
    if not raw and not user.unknown_external_is_client:
        top.problem(
            "clients",
            "no [[clients]] — calbot would find no client meetings; "
            "add one or set user.unknown_external_is_client = true",
        )
    clients: list[Client] = []
    first_index: dict[str, int] = {}
    for i, entry in enumerate(raw):
        t = Table(entry, f"clients[{i}]", top.problems, _CLIENT_KEYS)
        name = t.get("name", "", checks.string).strip()
        if not name:
            t.problem("name", "required: the client's name, as you want it in the digest")
        elif name.casefold() in first_index:
            first = first_index[name.casefold()]
            t.problem("name", f"duplicate client {checks.quoted(name)} (also clients[{first}])")
        else:
            first_index[name.casefold()] = i
        before = len(t.problems)
        domains: tuple[str, ...] = t.get("domains", (), checks.list_of(checks.domain))
        emails: tuple[str, ...] = t.get("emails", (), checks.list_of(checks.email))
        if not domains and not emails and len(t.problems) == before:
            t.problem("domains", "give domains or emails: how calbot recognises this client")
        for d in domains:
            if d == user.domain or d in user.own_domains:
                t.problem(
                    "domains", f"{checks.quoted(d)} is your own domain — its people are colleagues"
                )
        timezone = t.get("timezone", "", checks.timezone_or_empty)
        clients.append(
            Client(
                name=name,
                domains=domains,
                emails=emails,
                tier=Tier(t.get("tier", "standard", checks.choice(tuple(Tier), "tier"))),
                language=t.get("language", user.language, checks.choice(LANGUAGES, "language")),
                timezone=timezone,
                chatty=t.get("chatty", False, checks.boolean),
                skip=t.get("skip", False, checks.boolean),
                working_hours=t.get("working_hours", CLIENT_HOURS, checks.hours),
                working_days=t.get("working_days", WEEKDAYS_MON_FRI, checks.weekdays),
                contacts=_contacts(t),
            )
        )
    return tuple(clients)


_CLIENT_KEYS = [f.name for f in fields(Client)]


def _contacts(client: Table) -> tuple[Contact, ...]:
    raw = client.data.get("contacts", [])
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        client.problem(
            "contacts", f"expected a list of {{ email, name, title }}, got {checks.describe(raw)}"
        )
        return ()
    out: list[Contact] = []
    for i, entry in enumerate(raw):
        t = Table(
            entry, f"{client.where}contacts[{i}]", client.problems, ("email", "name", "title")
        )
        email = t.get("email", "", checks.email)
        if "email" not in t.data:
            t.problem("email", "required: whom this contact entry is about")
        out.append(
            Contact(
                email=email,
                name=t.get("name", "", checks.string),
                title=t.get("title", "", checks.string),
            )
        )
    return tuple(out)


def _zone_or_utc(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")
