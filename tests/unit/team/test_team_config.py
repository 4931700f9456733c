"""The team config: validated as the user config is (one line naming file and key, exit
2), `[defaults]` merged per key under each user's own config, clients replaced whole."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from calbot.cli.main import main
from calbot.config.loader import ConfigProblems
from calbot.errors import ConfigError
from calbot.team.config import (
    TeamLimits,
    merged_user_data,
    parse_team_settings,
    user_settings,
)

TEAM: dict[str, Any] = {
    "team": {
        "database_url": "postgresql://calbot:s3cret-pw@db.internal/calbot",
        "broker_url": "redis://:s3cret-pw@redis.internal:6379/0",
        "secret_key_file": "/run/secrets/calbot-key",
    },
    "google": {"service_account_file": "/run/secrets/sa.json"},
    "defaults": {
        "user": {"timezone": "Asia/Ho_Chi_Minh", "language": "vi", "working_hours": "08:30-17:30"},
        "thresholds": {"act_at": 40, "max_meetings_per_day": 3},
        "schedule": {"scan_every": "15 minutes"},
        "clients": [{"name": "Acme", "domains": ["acme.example"], "tier": "key"}],
    },
}
ANA: dict[str, Any] = {
    "user": {"email": "ana@agency.example", "name": "Ana", "language": "en"},
    "thresholds": {"max_meetings_per_day": 5},
}


def team(data: dict[str, Any] = TEAM, env: dict[str, str] | None = None) -> Any:
    return parse_team_settings(data, path="team.toml", env=env or {})


def problem_of(data: dict[str, Any], env: dict[str, str] | None = None) -> ConfigProblems:
    with pytest.raises(ConfigProblems) as caught:
        team(data, env)
    return caught.value


def test_defaults_merge_per_key_under_the_users_own_settings() -> None:
    settings = user_settings(team(), ANA, path="ana.toml")
    assert settings.user.email == "ana@agency.example"
    assert settings.user.language == "en"  # the user's own key wins
    assert settings.user.timezone == "Asia/Ho_Chi_Minh"  # the default fills the rest
    assert settings.thresholds.act_at == 40
    assert settings.thresholds.max_meetings_per_day == 5
    assert settings.schedule.scan_every == timedelta(minutes=15)
    assert [c.name for c in settings.clients] == ["Acme"]
    # the team's service account reads every user's calendar, as that user
    assert settings.google.service_account_file == "/run/secrets/sa.json"


def test_a_users_clients_replace_the_defaults_list() -> None:
    own = {**ANA, "clients": [{"name": "Cobalt", "domains": ["cobalt.example"]}]}
    settings = user_settings(team(), own, path="ana.toml")
    assert [c.name for c in settings.clients] == ["Cobalt"]


def test_merging_changes_neither_input() -> None:
    defaults = {"user": {"timezone": "UTC"}, "clients": [{"name": "A", "domains": ["a.example"]}]}
    own = {"user": {"email": "x@y.example"}}
    merged = merged_user_data(defaults, own)
    merged["user"]["name"] = "changed"
    merged["clients"][0]["name"] = "changed"
    assert defaults == {
        "user": {"timezone": "UTC"},
        "clients": [{"name": "A", "domains": ["a.example"]}],
    }
    assert own == {"user": {"email": "x@y.example"}}


def test_the_merged_config_is_validated_like_a_users_config() -> None:
    with pytest.raises(ConfigError) as caught:
        user_settings(team(), {"user": {"email": "not-an-address"}}, path="bad.toml")
    assert str(caught.value).startswith("bad.toml: user.email: ")
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


def test_team_mode_refuses_an_outbox() -> None:
    own = {**ANA, "outputs": {"outbox": "~/calbot-outbox"}}
    with pytest.raises(ConfigError, match=r"ana.toml: outputs.outbox: team mode keeps no local"):
        user_settings(team(), own, path="ana.toml")
    defaults = {**TEAM, "defaults": {"outputs": {"outbox": "/srv/out"}}}
    assert problem_of(defaults).problems[0][0] == "defaults.outputs.outbox"


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        ({"team": {"secret_key_file": "k"}}, "team.database_url"),
        ({"team": {**TEAM["team"], "database_url": "mysql://x/y"}}, "team.database_url"),
        ({"team": {**TEAM["team"], "broker_url": "amqp://x"}}, "team.broker_url"),
        ({"team": {**TEAM["team"], "databse_url": "postgresql://x/y"}}, "team.databse_url"),
        ({"limits": {"requests_per_minute_per_user": 0}}, "limits.requests_per_minute_per_user"),
        ({"limits": {"budget_window_seconds": "soon"}}, "limits.budget_window_seconds"),
        ({"google": {"api_root": "ftp://x"}}, "google.api_root"),
        ({"defaults": {"thresholds": {"act_at": 400}}}, "defaults.thresholds.act_at"),
        ({"defaults": {"usr": {}}}, "defaults.usr"),
        ({"defaults": {"user": {"email": "all@agency.example"}}}, "defaults.user.email"),
        ({"defaults": {"clients": {"name": "A"}}}, "defaults.clients"),
        ({"teams": {}}, "teams"),
    ],
)
def test_each_problem_is_named_by_its_key(patch: dict[str, Any], key: str) -> None:
    caught = problem_of({**TEAM, **patch})
    assert key in [k for k, _ in caught.problems]
    assert "\n" not in str(caught)


def test_no_message_quotes_a_connection_url() -> None:
    bad = {**TEAM, "team": {**TEAM["team"], "database_url": "mysql://root:hunter2@db/x"}}
    assert "hunter2" not in str(problem_of(bad))
    assert "s3cret" not in repr(team())


def test_environment_overrides_the_urls_and_the_key() -> None:
    data: dict[str, Any] = {"team": {}}
    env = {
        "CALBOT_DATABASE_URL": "postgresql://env/db",
        "CALBOT_BROKER_URL": "redis://env:6379/1",
        "CALBOT_SECRET_KEY": "x",
    }
    settings = team(data, env)
    assert settings.team.database_url == "postgresql://env/db"
    assert settings.team.broker_url == "redis://env:6379/1"
    assert [k for k, _ in problem_of(data, {}).problems] == [
        "team.database_url",
        "team.broker_url",
        "team.secret_key_file",
    ]


def test_budgets_default_under_googles_quotas_and_scale_with_the_window() -> None:
    limits = team().limits
    assert (limits.requests_per_minute_per_user, limits.requests_per_minute_per_project) == (
        500,
        8000,
    )
    assert limits.budget_window_seconds == 60
    assert limits.per_window(500) == 500
    short = TeamLimits(budget_window_seconds=6)
    assert short.per_window(500) == 50
    assert short.per_window(5) == 1  # never zero


def test_check_command_validates_team_and_user_configs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    team_file = tmp_path / "team.toml"
    team_file.write_text(
        '[team]\ndatabase_url = "postgresql://db/calbot"\nbroker_url = "redis://r:6379/0"\n'
        'secret_key_file = "/k"\n[defaults.user]\ntimezone = "Europe/Berlin"\n'
        '[[defaults.clients]]\nname = "Acme"\ndomains = ["acme.example"]\n'
    )
    good, bad = tmp_path / "ana.toml", tmp_path / "bo.toml"
    good.write_text('[user]\nemail = "ana@agency.example"\n')
    bad.write_text('[user]\nemail = "bo@agency.example"\n[thresholds]\nact_at = "high"\n')
    assert main(["team", "check", "--team-config", str(team_file), str(good)]) == 0
    assert "OK for ana@agency.example" in capsys.readouterr().out
    assert main(["team", "check", "--team-config", str(team_file), str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"calbot: {bad}: thresholds.act_at: ") and "\n" not in err
    team_file.write_text("[team\n")
    assert main(["team", "check", "--team-config", str(team_file)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
