"""Config: TOML → validated Settings, every problem named by key, on one line."""

from __future__ import annotations

import copy
import tomllib
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from builders import GOOGLE_USER, google_toml

from calbot.config.loader import (
    MISSING_FILE,
    ConfigProblems,
    default_config_path,
    default_state_dir,
    load_settings,
    parse_settings,
    starter_config,
)
from calbot.core.model import Action, Contact, Tier, TimeRange
from calbot.core.settings import Scoring
from calbot.errors import ConfigError

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
REPO = Path(__file__).resolve().parents[2]

BASE: dict[str, Any] = {
    "user": {"email": "Me@Example.com", "timezone": "Europe/Berlin"},
    "clients": [{"name": "Acme", "domains": ["acme.example"]}],
}


def merged(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def parse(data: dict[str, Any]) -> Any:
    return parse_settings(data, path="calbot.toml", now=NOW, check_templates=False)


# --- the starter config ----------------------------------------------------------------------


def test_starter_config_validates() -> None:
    settings = parse(tomllib.loads(starter_config()))
    assert settings.user.email == "you@change-me.example"
    assert settings.user.timezone == "Europe/Berlin"
    assert settings.user.working_hours == TimeRange(time(9, 0), time(17, 30))
    assert settings.user.working_days == (0, 1, 2, 3, 4)
    assert settings.source.kind == "google"
    assert settings.source.calendars == ("primary",)
    assert settings.outputs.outbox == str(Path("~/calbot-outbox").expanduser())
    assert settings.schedule.scan_every == timedelta(minutes=30)
    [client] = settings.clients
    assert client.tier is Tier.STANDARD
    assert client.contacts == (Contact("minh@client.change-me.example", "Minh", "anh"),)


def test_starter_scoring_section_only_documents_the_defaults() -> None:
    assert parse(tomllib.loads(starter_config())).scoring == Scoring()
    commented = [
        line.lstrip("# ").split(" = ")
        for line in starter_config().split("[scoring]")[1].split("[[clients]]")[0].splitlines()
        if " = " in line and not line.startswith("# order")
    ]
    assert len(commented) == 14
    for name, value in commented:
        assert str(getattr(Scoring(), name)) == value.split()[0], name


def test_example_file_is_the_starter_config() -> None:
    example = REPO / "config" / "calbot.example.toml"
    assert example.read_text(encoding="utf-8") == starter_config()


def test_load_settings_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "calbot.toml"
    path.write_text(starter_config(), encoding="utf-8")
    settings = load_settings(path, now=NOW, check_templates=False)
    assert settings.path == str(path)


def test_the_shared_google_config_head_loads(tmp_path: Path) -> None:
    token, secret = tmp_path / "token.json", tmp_path / "secret.json"
    head = google_toml(
        "http://127.0.0.1:8080",
        token,
        secret,
        user='signature = "Me"',
        source='horizon = "in 21 days"',
    )
    settings = parse(
        tomllib.loads(head + '[[clients]]\nname = "Acme"\ndomains = ["acme.example"]\n')
    )
    assert (settings.user.email, settings.user.signature) == (GOOGLE_USER, "Me")
    assert settings.user.own_domains == ("example.com",)
    assert (settings.source.kind, settings.source.calendars) == ("google", ("primary",))
    assert settings.source.horizon == "in 21 days"
    assert settings.google.api_root == "http://127.0.0.1:8080/"
    assert (settings.google.token_file, settings.google.client_secret_file) == (
        str(token),
        str(secret),
    )


def test_clock_defaults_to_now_in_the_user_timezone() -> None:
    settings = parse_settings(BASE, path="calbot.toml", check_templates=False)
    assert settings.source.horizon == "in 14 days"


# --- what a valid config becomes ------------------------------------------------------------


def test_values_are_normalised() -> None:
    settings = parse(
        merged(
            BASE,
            {
                "user": {"own_domains": ["Example.ORG"], "working_days": ["sat", "mon", "mon"]},
                "clients": [
                    {
                        "name": "Acme",
                        "emails": ["Boss@Acme.Example"],
                        "contacts": [{"email": "Minh@Acme.example", "name": "Minh"}],
                        "working_hours": "08:00-16:00",
                    }
                ],
                "google": {"api_root": "http://127.0.0.1:8080", "token_file": "~/t.json"},
                "scoring": {"order": ["call", "email"], "low_weight": 2},
                "schedule": {"digest_at": "7:05"},
                "source": {"kind": "ics", "path": "https://cal.example/x.ics"},
            },
        )
    )
    assert settings.user.email == "me@example.com"
    assert settings.user.own_domains == ("example.org",)
    assert settings.user.working_days == (0, 5)
    client = settings.clients[0]
    assert client.emails == ("boss@acme.example",)
    assert client.contact("minh@acme.example") is not None
    assert client.language == "en"  # the user's
    assert client.working_hours == TimeRange(time(8), time(16))
    assert settings.google.api_root == "http://127.0.0.1:8080/"
    assert settings.google.token_file == str(Path("~/t.json").expanduser())
    assert settings.scoring.order == (Action.CALL, Action.EMAIL)
    assert settings.scoring.low_weight == 2
    assert settings.schedule.digest_at == "07:05"
    assert settings.source.path == "https://cal.example/x.ics"


def test_client_language_defaults_to_the_users() -> None:
    settings = parse(merged(BASE, {"user": {"language": "vi"}}))
    assert settings.clients[0].language == "vi"


def test_client_working_days_and_hours_default_to_business_days() -> None:
    client = parse(BASE).clients[0]
    assert client.working_days == (0, 1, 2, 3, 4)
    assert client.working_hours == TimeRange(time(9), time(18))
    patch = {"clients": [{"name": "A", "domains": ["a.example"], "working_days": ["thu", "sun"]}]}
    assert parse(merged(BASE, patch)).clients[0].working_days == (3, 6)


def test_no_clients_is_fine_when_every_outsider_is_a_client() -> None:
    settings = parse(merged(BASE, {"clients": [], "user": {"unknown_external_is_client": True}}))
    assert settings.clients == ()


# --- bad configs: one line, exit code 2, naming the key and the problem ----------------------

BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown key", {"user": {"timezon": "UTC"}}, "user.timezon",
     "unknown key 'timezon' (did you mean 'timezone'?)"),
    ("unknown section", {"usr": {}}, "usr", "unknown section 'usr' (did you mean 'user'?)"),
    ("unknown client key", {"clients": [{"name": "A", "domains": ["a.example"], "nmae": "x"}]},
     "clients[0].nmae", "did you mean 'name'?"),
    ("bad timezone", {"user": {"timezone": "Europe/Berln"}}, "user.timezone",
     "unknown timezone 'Europe/Berln' (did you mean 'Europe/Berlin'?)"),
    ("empty timezone", {"user": {"timezone": ""}}, "user.timezone", "must not be empty"),
    ("inverted hours", {"user": {"working_hours": "18:00-09:00"}}, "user.working_hours",
     "start 18:00 is not before end 09:00"),
    ("equal hours", {"user": {"working_hours": "09:00-09:00"}}, "user.working_hours",
     "start 09:00 is not before end 09:00"),
    ("unreadable hours", {"user": {"working_hours": "9 to 5"}}, "user.working_hours",
     "'9 to 5' is not a range like \"09:00-17:30\""),
    ("bad weekday", {"user": {"working_days": ["mon", "funday"]}}, "user.working_days",
     "unknown day 'funday'"),
    ("no weekdays", {"user": {"working_days": []}}, "user.working_days", "must not be empty"),
    ("bad client weekday", {"clients": [{"name": "A", "domains": ["a.example"],
                                         "working_days": ["fri", "sabbath"]}]},
     "clients[0].working_days", "unknown day 'sabbath'"),
    ("no client weekdays", {"clients": [{"name": "A", "domains": ["a.example"],
                                         "working_days": []}]},
     "clients[0].working_days", "must not be empty"),
    ("bad language", {"clients": [{"name": "A", "domains": ["a.example"], "language": "de"}]},
     "clients[0].language", "unknown language 'de' — use one of en, vi, ms"),
    ("wrong type", {"thresholds": {"max_meetings_per_day": "four"}},
     "thresholds.max_meetings_per_day", "expected a whole number, got 'four'"),
    ("string for bool", {"user": {"unknown_external_is_client": "yes"}},
     "user.unknown_external_is_client", "expected true or false, got 'yes'"),
    ("int for bool", {"outputs": {"gmail_drafts": 1}}, "outputs.gmail_drafts",
     "expected true or false, got 1"),
    ("bool for number", {"limits": {"lock_wait_seconds": True}}, "limits.lock_wait_seconds",
     "expected a number, got true"),
    ("section not a table", {"user": "me"}, "user", "expected a [user] table"),
    ("act_at out of range", {"thresholds": {"act_at": 150}}, "thresholds.act_at",
     "150 is out of range: use 0 to 100"),
    ("zero limit", {"limits": {"lock_wait_seconds": 0}}, "limits.lock_wait_seconds",
     "must be above 0"),
    ("negative weight", {"scoring": {"key_weight": -1}}, "scoring.key_weight", "at least 0"),
    ("unreadable horizon", {"source": {"horizon": "blorp"}}, "source.horizon",
     "cannot read 'blorp' as a date"),
    ("horizon in the past", {"source": {"horizon": "14 days ago"}}, "source.horizon",
     "not after now"),
    ("history in the future", {"source": {"history": "in 14 days"}}, "source.history",
     "not before now"),
    ("date for duration", {"schedule": {"scan_every": "tomorrow"}}, "schedule.scan_every",
     "'tomorrow' is not a duration"),
    ("empty clients", {"clients": []}, "clients",
     "no [[clients]] — calbot would find no client meetings; add one or set "
     "user.unknown_external_is_client = true"),
    ("clients as one table", {"clients": {"name": "A"}}, "clients",
     "write [[clients]], double brackets"),
    ("duplicate client", {"clients": [{"name": "Acme", "domains": ["a.example"]},
                                      {"name": "acme", "emails": ["x@b.example"]}]},
     "clients[1].name", "duplicate client 'acme' (also clients[0])"),
    ("client without name", {"clients": [{"domains": ["a.example"]}]}, "clients[0].name",
     "required"),
    ("client matches nobody", {"clients": [{"name": "A"}]}, "clients[0].domains",
     "give domains or emails"),
    ("client is you", {"clients": [{"name": "A", "domains": ["example.com"]}]},
     "clients[0].domains", "your own domain"),
    ("bad contact", {"clients": [{"name": "A", "domains": ["a.example"],
                                  "contacts": [{"email": "a@a.example", "name": "A"},
                                               {"email": "minh", "name": "Minh"}]}]},
     "clients[0].contacts[1].email", "'minh' is not an e-mail address"),
    ("unknown contact key", {"clients": [{"name": "A", "domains": ["a.example"],
                                          "contacts": [{"email": "a@a.example", "nick": "A"}]}]},
     "clients[0].contacts[0].nick", "unknown key 'nick'"),
    ("bad tier", {"clients": [{"name": "A", "domains": ["a.example"], "tier": "vip"}]},
     "clients[0].tier", "unknown tier 'vip'"),
    ("unknown action", {"scoring": {"order": ["delegate", "delgate"]}}, "scoring.order",
     "unknown action 'delgate' (did you mean 'delegate'?)"),
    ("repeated action", {"scoring": {"order": ["call", "call"]}}, "scoring.order",
     "'call' is listed twice"),
    ("missing email", {"user": {"email": None}}, "user.email", "required"),
    ("ics without path", {"source": {"kind": "ics"}}, "source.path", 'required when kind = "ics"'),
    ("bad source kind", {"source": {"kind": "outlook"}}, "source.kind", "unknown source kind"),
    ("no calendars", {"source": {"calendars": []}}, "source.calendars", "must not be empty"),
    ("bad api_root", {"google": {"api_root": "ftp://x"}}, "google.api_root", "not an http(s) URL"),
    ("missing templates_dir", {"outputs": {"templates_dir": "/nonexistent/calbot-t"}},
     "outputs.templates_dir", "is not a folder"),
]  # fmt: skip


@pytest.mark.parametrize(("patch", "key", "reason"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_config_is_one_line_naming_key_and_reason(
    patch: dict[str, Any], key: str, reason: str
) -> None:
    data = merged(BASE, patch)
    if isinstance(data["user"], dict) and data["user"].get("email", "") is None:
        del data["user"]["email"]
    with pytest.raises(ConfigError) as info:
        parse(data)
    err = info.value
    assert err.exit_code == 2
    assert (err.key, err.reason) == (key, err.reason)
    assert reason in err.reason
    assert str(err).startswith(f"calbot.toml: {key}: ")
    assert "\n" not in str(err)
    assert isinstance(err, ConfigProblems)
    assert len(err.problems) == 1, err.problems


def test_all_problems_are_counted_in_one_line() -> None:
    data = merged(
        BASE,
        {"user": {"timezon": "UTC", "language": "de"}, "thresholds": {"act_at": 150}},
    )
    with pytest.raises(ConfigProblems) as info:
        parse(data)
    assert [k for k, _ in info.value.problems] == [
        "user.timezon",
        "user.language",
        "thresholds.act_at",
    ]
    assert str(info.value) == (
        "calbot.toml: user.timezon: unknown key 'timezon' (did you mean 'timezone'?) "
        "(and 2 more problems: user.language, thresholds.act_at)"
    )


def test_newlines_in_values_never_break_the_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse(merged(BASE, {"user": {"working_hours": "09:00\n-17:00x"}}))
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(path, now=NOW, check_templates=False)
    assert str(info.value) == f"{path}: {MISSING_FILE}"
    assert "calbot init" in str(info.value)
    assert info.value.exit_code == 2


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "calbot.toml"
    path.write_text('[user]\nemail = "me@example.com"\ntimezone = Europe/Berlin\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path, now=NOW, check_templates=False)
    assert "not valid TOML" in str(info.value)
    assert "line 3" in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


# --- where things live -----------------------------------------------------------------------


def test_config_path_from_env() -> None:
    assert default_config_path({"CALBOT_CONFIG": "/etc/cb.toml"}) == Path("/etc/cb.toml")
    assert default_config_path({"CALBOT_CONFIG": "~/cb.toml"}) == Path.home() / "cb.toml"


def test_config_path_default() -> None:
    path = default_config_path({})
    assert path.name == "calbot.toml"
    assert path.parent.name == "calbot"
    assert default_config_path({"CALBOT_CONFIG": ""}) == path


def test_state_dir_from_env() -> None:
    assert default_state_dir({"CALBOT_STATE_DIR": "/var/lib/cb"}) == Path("/var/lib/cb")
    default = default_state_dir({})
    assert default.name == "calbot"
    assert default.is_absolute()
    assert default_state_dir({"CALBOT_STATE_DIR": "~/st"}) == Path.home() / "st"


# --- templates are part of the config --------------------------------------------------------


def test_templates_are_checked(tmp_path: Path) -> None:
    data = tomllib.loads(starter_config())
    parse_settings(data, path="calbot.toml", now=NOW)  # the built-in templates compile
    (tmp_path / "shorten.en.txt.j2").write_text("{% if %}broken\n", encoding="utf-8")
    data["outputs"]["templates_dir"] = str(tmp_path)
    with pytest.raises(ConfigError) as info:
        parse_settings(data, path="calbot.toml", now=NOW)
    assert info.value.exit_code == 2
    assert "shorten.en.txt.j2" in str(info.value)
    assert "\n" not in str(info.value)


def test_every_settings_field_is_read_and_checked() -> None:
    """A field added to a settings dataclass but not parsed here would be silently ignored."""
    from dataclasses import fields

    from calbot.config.loader import _SECTION_TYPES
    from calbot.core.model import Client

    data: dict[str, Any] = {
        section: {f.name: {} for f in fields(cls)} for section, cls in _SECTION_TYPES.items()
    }
    data["clients"] = [{f.name: {} for f in fields(Client)}]
    with pytest.raises(ConfigProblems) as info:
        parse(data)
    keys = {k for k, _ in info.value.problems}
    expected = {f"{s}.{f.name}" for s, cls in _SECTION_TYPES.items() for f in fields(cls)}
    expected |= {f"clients[0].{f.name}" for f in fields(Client)}
    assert expected - keys == set()
