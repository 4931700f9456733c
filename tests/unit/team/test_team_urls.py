"""The team's connection URLs (`[team] database_url`, `broker_url`) and the variables that
override them (`$CALBOT_DATABASE_URL`, `$CALBOT_BROKER_URL`) are checked as URLs: a bad one
is one line naming the variable or key, exit 2, and never shows the URL (its password)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from calbot.cli.main import main
from calbot.config.loader import ConfigProblems
from calbot.team.config import parse_team_settings

PW = "hunter2-pw"
GOOD = {
    "database_url": f"postgresql://calbot:{PW}@db.internal:5432/calbot",
    "broker_url": f"redis://:{PW}@redis.internal:6379/0",
    "secret_key_file": "/run/secrets/calbot-key",
}
BAD_DB = [
    f"mysql://root:{PW}@db/x",
    f"postgresql://calbot:{PW}@db:99999/calbot",  # port out of range
    f"postgresql://calbot:{PW}@db:port/calbot",
    f"postgresql://calbot:{PW}@[::1/calbot",  # broken IPv6 host
    f"postgresql://calbot:{PW} @db/calbot",
    f"postgresql://calbot:{PW}@db/calbot\n",
    f"calbot:{PW}@db/calbot",  # no scheme
]
BAD_BROKER = [
    f"amqp://guest:{PW}@rabbit//",
    f"redis://:{PW}@/0",  # no host
    f"redis://:{PW}@redis:6379/zero",
    f"redis://:{PW}@redis:70000/0",
]


def problems(data: dict[str, Any], env: dict[str, str]) -> ConfigProblems:
    with pytest.raises(ConfigProblems) as caught:
        parse_team_settings(data, path="team.toml", env=env)
    return caught.value


def test_good_urls_pass_from_the_file_and_from_the_environment() -> None:
    settings = parse_team_settings({"team": GOOD}, path="team.toml", env={})
    assert settings.team.database_url == GOOD["database_url"]
    unix = "postgresql:///calbot?host=/run/postgresql"
    env = {"CALBOT_DATABASE_URL": unix, "CALBOT_BROKER_URL": "rediss://r.internal:6380"}
    settings = parse_team_settings({"team": GOOD}, path="team.toml", env=env)
    assert settings.team.database_url == unix
    assert settings.team.broker_url == env["CALBOT_BROKER_URL"]


@pytest.mark.parametrize("bad", BAD_DB)
def test_a_bad_database_url_is_named_by_its_key_never_quoted(bad: str) -> None:
    caught = problems({"team": {**GOOD, "database_url": bad}}, {})
    assert [k for k, _ in caught.problems] == ["team.database_url"]
    assert PW not in str(caught) and "\n" not in str(caught)


@pytest.mark.parametrize("bad", BAD_BROKER)
def test_a_bad_broker_url_is_named_by_its_key_never_quoted(bad: str) -> None:
    caught = problems({"team": {**GOOD, "broker_url": bad}}, {})
    assert [k for k, _ in caught.problems] == ["team.broker_url"]
    assert PW not in str(caught)


@pytest.mark.parametrize(
    ("variable", "key", "bad"),
    [("CALBOT_DATABASE_URL", "database_url", b) for b in BAD_DB]
    + [("CALBOT_BROKER_URL", "broker_url", b) for b in BAD_BROKER],
)
def test_a_bad_variable_is_named_even_over_a_good_file(variable: str, key: str, bad: str) -> None:
    caught = problems({"team": GOOD}, {variable: bad})
    ((where, reason),) = caught.problems
    assert where == f"team.{key}" and f"${variable}" in reason
    assert PW not in str(caught)


@pytest.mark.parametrize("variable", ["CALBOT_DATABASE_URL", "CALBOT_BROKER_URL"])
def test_the_commands_and_the_engine_exit_2_on_a_bad_variable(
    variable: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "team.toml"
    config.write_text(
        f'[team]\ndatabase_url = "{GOOD["database_url"]}"\n'
        f'broker_url = "{GOOD["broker_url"]}"\nsecret_key_file = "/k"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(variable, f"postgresql+redis://user:{PW}@host:1234567/x")
    for command in (["status"], ["users", "--json"], ["migrate"], ["check"]):
        assert main(["team", *command, "--team-config", str(config)]) == 2
        captured = capsys.readouterr()
        line = captured.err.strip()
        assert "\n" not in line and f"${variable}" in line and str(config) in line
        assert PW not in captured.err + captured.out
