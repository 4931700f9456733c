"""The bad-input matrix for configs, through the real CLI: every broken config stops
`calbot scan` with exit 2 and exactly one stderr line naming the file, the key and the reason,
before any request reaches the (fake) Google server."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from bad_input_rig import SCOPES, google_config

from calbot.cli.main import main


@dataclass(frozen=True)
class BadConfig:
    edit: Callable[[str], str]
    key: str  # the dotted key the message must name ("" for the whole file)
    reason: str  # a fragment of the reason
    template: str = ""  # a broken override: (file name, text)
    template_text: str = ""


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return edit


CONFIG_MATRIX = {
    "malformed_toml": BadConfig(_replace("[limits]", "[limits"), "", "not valid TOML"),
    "unknown_key": BadConfig(
        _replace("[limits]", "[limits]\nlock_wait_secs = 3"),
        "limits.lock_wait_secs",
        "did you mean 'lock_wait_seconds'?",
    ),
    "wrong_type_number": BadConfig(
        _replace("[limits]", '[limits]\nhttp_timeout_seconds = "thirty"'),
        "limits.http_timeout_seconds",
        "expected a number, got 'thirty'",
    ),
    "wrong_type_list": BadConfig(
        _replace('own_domains = ["example.com"]', 'own_domains = "example.com"'),
        "user.own_domains",
        "expected a list",
    ),
    "wrong_type_table": BadConfig(
        _replace("[limits]", "[[limits]]"),
        "limits",
        "expected a [limits] table, got a list",
    ),
    "bad_timezone": BadConfig(
        _replace('timezone = "Europe/Berlin"', 'timezone = "Europe/Berlln"'),
        "user.timezone",
        "unknown timezone 'Europe/Berlln' (did you mean 'Europe/Berlin'?)",
    ),
    "working_hours_inverted": BadConfig(
        _replace('signature = "Me"', 'signature = "Me"\nworking_hours = "18:00-09:00"'),
        "user.working_hours",
        "start 18:00 is not before end 09:00",
    ),
    "empty_clients": BadConfig(
        lambda text: text.split("[[clients]]")[0], "clients", "no [[clients]]"
    ),
    "unknown_language": BadConfig(
        _replace('tier = "low"', 'tier = "low"\nlanguage = "fr"'),
        "clients[0].language",
        "unknown language 'fr'",
    ),
    "template_syntax_error": BadConfig(
        lambda t: t,
        "outputs.templates_dir",
        "line 3: syntax error",
        template="call.en.txt.j2",
        template_text="Subject: {{ title }}\n\n{% if %}\n",
    ),
    "template_unknown_variable": BadConfig(
        lambda t: t,
        "outputs.templates_dir",
        "unknown variable: secret_key",
        template="shorten.vi.txt.j2",
        template_text="Subject: {{ title }}\n\nHi {{ secret_key }}\n",
    ),
    "template_unknown_name": BadConfig(
        lambda t: t,
        "outputs.templates_dir",
        "unknown template name",
        template="reschedul.en.txt.j2",
        template_text="Subject: x\n\nbody\n",
    ),
}


@pytest.mark.parametrize("case", list(CONFIG_MATRIX), ids=list(CONFIG_MATRIX))
def test_bad_config_is_one_line_exit_2_before_any_request(case, google, tmp_path, capsys):
    bad = CONFIG_MATRIX[case]
    outputs = ""
    where = tmp_path / "calbot.toml"
    if bad.template:
        folder = tmp_path / "templates"
        folder.mkdir()
        (folder / bad.template).write_text(bad.template_text, encoding="utf-8")
        outputs = f'templates_dir = "{folder}"'
        where = folder / bad.template
    # an expired token: a scan that reached Google would have to refresh it first
    google.write_token(tmp_path / "token.json", SCOPES, expired=True)
    config = google_config(tmp_path, google, outputs=outputs)
    config.write_text(bad.edit(config.read_text(encoding="utf-8")), encoding="utf-8")

    out = io.StringIO()
    code = main(["scan", "--config", str(config)], out=out)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert err.startswith(f"calbot: {where}: ")
    if bad.key:
        assert f": {bad.key}: " in err, err
    assert bad.reason in err, err
    assert out.getvalue() == ""
    assert google.requests == []
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").iterdir())
