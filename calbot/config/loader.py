"""TOML + environment → a frozen, validated `Settings`. All problems are reported at once.

The whole config is checked before calbot touches the network: every key is known, typed and
in range, or it is a problem named by its dotted path (`user.timezone`, `clients[2].language`,
`clients[0].contacts[1].email`). The first problem is the message; the rest are counted in it
and listed in `ConfigProblems.problems`. The commented starter config (`starter_config()`) is
the user documentation of every key, and a test keeps it valid.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
import typing
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from datetime import datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import platformdirs

from calbot.config.dates import parse_clock, parse_duration, parse_when
from calbot.core.model import Action, Client, Contact, Tier, TimeRange
from calbot.core.settings import (
    LANGUAGES,
    WEEKDAYS,
    GoogleSettings,
    Limits,
    Outputs,
    Schedule,
    Scoring,
    Settings,
    Source,
    Thresholds,
    UserSettings,
)
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
)  # fmt: skip
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_T = TypeVar("_T")
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
    top = _Table(data, "", problems, SECTIONS, what="section")
    user = _user(top.table("user"))
    if now is None:
        now = datetime.now(_zone_or_utc(user.timezone))
    source = _source(top.table("source"), now)
    google = _google(top.table("google"))
    thresholds = Thresholds(**_numbers(top.table("thresholds"), Thresholds, _threshold_range))
    scoring = _scoring(top.table("scoring"))
    clients = _clients(top, user)
    outputs = _outputs(top.table("outputs"))
    schedule = _schedule(top.table("schedule"))
    limits = Limits(**_numbers(top.table("limits"), Limits, lambda _: (0, None, True)))
    if problems:
        raise ConfigProblems(path, problems)
    if check_templates:
        from calbot.config.templates import load_templates  # jinja2 only when needed

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
    )


# --- sections ------------------------------------------------------------------------------


def _user(t: _Table) -> UserSettings:
    email = t.get("email", "", _email)
    if "email" not in t.data and not t.broken:
        t.problem("email", 'required: your own e-mail address, e.g. "you@example.com"')
    language = t.get("language", "en", _choice(LANGUAGES, "language"))
    return UserSettings(
        email=email,
        name=t.get("name", "", _string),
        timezone=t.get("timezone", "UTC", _timezone),
        language=language,
        working_hours=t.get("working_hours", DEFAULT_WORKING_HOURS, _hours),
        working_days=t.get("working_days", (0, 1, 2, 3, 4), _weekdays),
        own_domains=t.get("own_domains", (), _list_of(_domain)),
        signature=t.get("signature", "", _string),
        unknown_external_is_client=t.get("unknown_external_is_client", False, _bool),
    )


def _source(t: _Table, now: datetime) -> Source:
    kind = t.get("kind", "google", _choice(("google", "ics"), "source kind"))
    before = len(t.problems)
    path = t.get("path", "", _path_or_url)
    if kind == "ics" and not path and len(t.problems) == before:
        t.problem("path", 'required when kind = "ics": an .ics file path or URL')
    return Source(
        kind=kind,
        calendars=t.get("calendars", ("primary",), _list_of(_string, allow_empty=False)),
        busy_calendars=t.get("busy_calendars", (), _list_of(_string)),
        path=path,
        horizon=t.get("horizon", "in 14 days", _when(now, after=True)),
        history=t.get("history", "14 days ago", _when(now, after=False)),
    )


def _google(t: _Table) -> GoogleSettings:
    d = GoogleSettings()
    return GoogleSettings(
        client_secret_file=t.get("client_secret_file", _expand(d.client_secret_file), _path),
        token_file=t.get("token_file", _expand(d.token_file), _path),
        api_root=t.get("api_root", "", _api_root),
        service_account_file=t.get("service_account_file", "", _path),
        subject=t.get("subject", "", _email),
        app_published=t.get("app_published", False, _bool),
    )


def _threshold_range(name: str) -> tuple[float, float | None, bool]:
    """(minimum, maximum, minimum excluded) for a `[thresholds]` key."""
    if name == "act_at":
        return (0, 100, False)
    if name in ("min_notice_hours", "goodwill_days"):
        return (0, None, False)  # 0 switches the rule off
    return (0, None, True)


def _scoring(t: _Table) -> Scoring:
    numbers = _numbers(t, Scoring, lambda _: (0, None, False), skip=("order",))
    return Scoring(**numbers, order=t.get("order", Scoring().order, _action_order))


def _outputs(t: _Table) -> Outputs:
    return Outputs(
        gmail_drafts=t.get("gmail_drafts", False, _bool),
        calendar_notes=t.get("calendar_notes", False, _bool),
        review_calendar=t.get("review_calendar", False, _bool),
        outbox=t.get("outbox", "", _path),
        templates_dir=t.get("templates_dir", "", _existing_dir),
        note_color=t.get("note_color", "", _choice(NOTE_COLORS, "Google Calendar colour id")),
    )


def _schedule(t: _Table) -> Schedule:
    return Schedule(
        scan_every=t.get("scan_every", Schedule().scan_every, _duration),
        digest_at=t.get("digest_at", "07:30", _clock),
    )


def _numbers(
    t: _Table,
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
        out[f.name] = t.get(f.name, f.default, _number(hints[f.name] is int, low, high, strict))
    return out


def _clients(top: _Table, user: UserSettings) -> tuple[Client, ...]:
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
        t = _Table(entry, f"clients[{i}]", top.problems, _CLIENT_KEYS)
        name = t.get("name", "", _string).strip()
        if not name:
            t.problem("name", "required: the client's name, as you want it in the digest")
        elif name.casefold() in first_index:
            t.problem(
                "name",
                f"duplicate client {_q(name)} (also clients[{first_index[name.casefold()]}])",
            )
        else:
            first_index[name.casefold()] = i
        before = len(t.problems)
        domains: tuple[str, ...] = t.get("domains", (), _list_of(_domain))
        emails: tuple[str, ...] = t.get("emails", (), _list_of(_email))
        if not domains and not emails and len(t.problems) == before:
            t.problem("domains", "give domains or emails: how calbot recognises this client")
        for d in domains:
            if d == user.domain or d in user.own_domains:
                t.problem("domains", f"{_q(d)} is your own domain — its people are colleagues")
        timezone = t.get("timezone", "", _timezone_or_empty)
        clients.append(
            Client(
                name=name,
                domains=domains,
                emails=emails,
                tier=Tier(t.get("tier", "standard", _choice(tuple(Tier), "tier"))),
                language=t.get("language", user.language, _choice(LANGUAGES, "language")),
                timezone=timezone,
                chatty=t.get("chatty", False, _bool),
                skip=t.get("skip", False, _bool),
                working_hours=t.get("working_hours", None, _hours),
                contacts=_contacts(t),
            )
        )
    return tuple(clients)


_CLIENT_KEYS = [f.name for f in fields(Client)]


def _contacts(client: _Table) -> tuple[Contact, ...]:
    raw = client.data.get("contacts", [])
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        client.problem(
            "contacts", f"expected a list of {{ email, name, title }}, got {_describe(raw)}"
        )
        return ()
    out: list[Contact] = []
    for i, entry in enumerate(raw):
        t = _Table(
            entry, f"{client.where}contacts[{i}]", client.problems, ("email", "name", "title")
        )
        email = t.get("email", "", _email)
        if "email" not in t.data:
            t.problem("email", "required: whom this contact entry is about")
        out.append(
            Contact(email=email, name=t.get("name", "", _string), title=t.get("title", "", _string))
        )
    return tuple(out)


# --- the table walker ----------------------------------------------------------------------


class _Bad(ValueError):
    """A value's problem, phrased for the user."""


class _Table:
    """One TOML table: reports unknown keys at once, then typed reads that record problems."""

    def __init__(
        self,
        data: Mapping[str, Any],
        where: str,
        problems: list[tuple[str, str]],
        known: Iterable[str],
        what: str = "key",
    ) -> None:
        self.data, self.problems = data, problems
        self.broken = False  # not a table at all: already reported, so nothing is "required"
        self.where = f"{where}." if where else ""
        known = list(known)
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problem(key, f"unknown {what} {_q(key)}{hint}")

    def problem(self, key: str, reason: str) -> None:
        self.problems.append((self.where + key, reason))

    def get(self, key: str, default: _T, check: Callable[[Any], _T]) -> _T:
        if key not in self.data:
            return default
        try:
            return check(self.data[key])
        except _Bad as exc:
            self.problem(key, str(exc))
            return default

    def table(self, key: str) -> _Table:
        value = self.data.get(key, {})
        known = [f.name for f in fields(_SECTION_TYPES[key])]
        if not isinstance(value, dict):
            self.problem(key, f"expected a [{key}] table, got {_describe(value)}")
            broken = _Table({}, self.where + key, self.problems, known)
            broken.broken = True
            return broken
        return _Table(value, self.where + key, self.problems, known)


_SECTION_TYPES: dict[str, type[Any]] = {
    "user": UserSettings, "source": Source, "google": GoogleSettings, "thresholds": Thresholds,
    "scoring": Scoring, "outputs": Outputs, "schedule": Schedule, "limits": Limits,
}  # fmt: skip


# --- value checks: each returns the clean value or raises _Bad ------------------------------


def _q(value: Any) -> str:
    """A user's value quoted for a message: repr (no raw newlines), never a screenful."""
    text = repr(value)
    return text if len(text) <= 60 else text[:56] + "…" + text[-1]


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return _q(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a TOML {type(value).__name__} (put it in quotes)"


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"expected a string, got {_describe(value)}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, got {_describe(value)}")
    return value


def _number(whole: bool, low: float, high: float | None, strict: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> float:
        ok = isinstance(value, int) if whole else isinstance(value, int | float)
        if isinstance(value, bool) or not ok or not math.isfinite(value):
            raise _Bad(
                f"expected a {'whole number' if whole else 'number'}, got {_describe(value)}"
            )
        if (value <= low if strict else value < low) or (high is not None and value > high):
            if high is not None:
                raise _Bad(f"{value} is out of range: use {low:g} to {high:g}")
            raise _Bad(f"{value} must be {'above' if strict else 'at least'} {low:g}")
        return value  # type: ignore[no-any-return]

    return check


def _list_of(
    item: Callable[[Any], _T], allow_empty: bool = True
) -> Callable[[Any], tuple[_T, ...]]:
    def check(value: Any) -> tuple[_T, ...]:
        if not isinstance(value, list):
            raise _Bad(f"expected a list, got {_describe(value)}")
        if not value and not allow_empty:
            raise _Bad("must not be empty")
        return tuple(item(v) for v in value)

    return check


def _choice(choices: tuple[str, ...], what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _string(value).strip().lower()
        if text not in choices:
            close = difflib.get_close_matches(text, choices, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _Bad(f"unknown {what} {_q(value)}{hint} — use one of {', '.join(choices)}")
        return text

    return check


def _email(value: Any) -> str:
    text = _string(value).strip().lower()
    local, at, domain = text.partition("@")
    if not at or not local or not domain or "@" in domain or any(c.isspace() for c in text):
        raise _Bad(f"{_q(value)} is not an e-mail address")
    return text


def _domain(value: Any) -> str:
    text = _string(value).strip().lower()
    if not text or "@" in text or any(c.isspace() for c in text) or "." not in text.strip("."):
        raise _Bad(f'{_q(value)} is not a domain like "acme.example"')
    return text


def _timezone(value: Any) -> str:
    name = _string(value).strip()
    if not name:
        raise _Bad('must not be empty: an IANA timezone like "Europe/Berlin"')
    try:
        ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        known = {z.lower(): z for z in zoneinfo.available_timezones()}
        close = difflib.get_close_matches(name.lower(), known, n=1)
        hint = f"did you mean {known[close[0]]!r}?" if close else 'like "Europe/Berlin"'
        raise _Bad(f"unknown timezone {_q(name)} ({hint})") from None
    return name


def _timezone_or_empty(value: Any) -> str:
    return "" if _string(value).strip() == "" else _timezone(value)


def _zone_or_utc(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def _hours(value: Any) -> TimeRange:
    m = _HOURS.match(_string(value))
    bad = f'{_q(value)} is not a range like "09:00-17:30"'
    if not m:
        raise _Bad(bad)
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise _Bad(bad)
    start, end = time(h1, m1), time(h2, m2)
    if start >= end:
        raise _Bad(f"start {start:%H:%M} is not before end {end:%H:%M}")
    return TimeRange(start, end)


def _weekdays(value: Any) -> tuple[int, ...]:
    names = _list_of(_choice(WEEKDAYS, "day"), allow_empty=False)(value)
    return tuple(sorted({WEEKDAYS.index(n) for n in names}))


def _is_url(text: str) -> bool:
    return urlsplit(text).scheme.lower() in ("http", "https", "webcal")


def _expand(text: str) -> str:
    return str(Path(text).expanduser()) if text else ""


def _path(value: Any) -> str:
    return _expand(_string(value).strip())


def _path_or_url(value: Any) -> str:
    text = _string(value).strip()
    return text if _is_url(text) else _expand(text)


def _existing_dir(value: Any) -> str:
    path = _path(value)
    if path and not Path(path).is_dir():
        raise _Bad(f'{_q(path)} is not a folder ("" uses the built-in templates)')
    return path


def _api_root(value: Any) -> str:
    text = _string(value).strip()
    parts = urlsplit(text)
    if text and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise _Bad(f'{_q(value)} is not an http(s) URL like "http://127.0.0.1:8080/"')
    return text if not text or text.endswith("/") else text + "/"


def _action_order(value: Any) -> tuple[Action, ...]:
    names = _list_of(_string, allow_empty=False)(value)
    choices = tuple(a.value for a in Action if a is not Action.NONE)
    order: list[Action] = []
    for name in names:
        action = Action(_choice(choices, "action")(name))
        if action in order:
            raise _Bad(f"{action.value!r} is listed twice")
        order.append(action)
    return tuple(order)


def _when(now: datetime, *, after: bool) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _string(value).strip()
        example = '"in 14 days"' if after else '"14 days ago"'
        try:
            when = parse_when(text, now)
        except ValueError:
            raise _Bad(f"cannot read {_q(text)} as a date — try {example}") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=now.tzinfo)
        if (when <= now) if after else (when >= now):
            side = "after" if after else "before"
            raise _Bad(f"{_q(text)} lands on {when:%Y-%m-%d %H:%M}, not {side} now — try {example}")
        return text

    return check


def _duration(value: Any) -> timedelta:
    text = _string(value).strip()
    try:
        every = parse_duration(text)
    except ValueError:
        raise _Bad(f'{_q(text)} is not a duration — use e.g. "30 minutes" or "1 hour"') from None
    if every.total_seconds() <= 0:
        raise _Bad(f"{_q(text)} must be longer than zero")
    return every


def _clock(value: Any) -> str:
    text = _string(value).strip()
    try:
        at = parse_clock(text)
    except ValueError:
        raise _Bad(f'{_q(text)} is not a time of day like "07:30"') from None
    return f"{at:%H:%M}"
