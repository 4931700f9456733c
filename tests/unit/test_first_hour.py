"""The first hour of a new user (issue "The first hour"): what a fresh clone trips over and
the conventions users of gcalcli and khal expect. Fast: no subprocess, no server (an ICS
URL on a closed loopback port is refused at once)."""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import re
import socket
import tomllib
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from builders import settings as make_settings

from calbot.adapters.google.oauth_flow import run_auth_flow
from calbot.cli.completion import no_color
from calbot.cli.google import print_checks
from calbot.cli.init import cmd_init, config_flag, starter_for
from calbot.cli.main import build_parser, main, parse_args
from calbot.config.loader import load_settings, starter_config
from calbot.config.placeholders import placeholders_in, placeholders_left
from calbot.config.settings import GoogleSettings, Outputs, Settings, Source
from calbot.errors import ServiceError, UsageError
from calbot.usecases.doctor_check import Check, exit_code_for
from calbot.usecases.doctor_source import ics_source, placeholders

ROOT = Path(__file__).resolve().parents[2]
CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:a@t\r\n"
    "DTSTAMP:20260101T000000Z\r\nDTSTART:20260105T100000Z\r\nDTEND:20260105T110000Z\r\n"
    "SUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _subparsers(parser: argparse.ArgumentParser) -> Any:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# --- the parser: help everywhere, --config before and after, -V, --color --------------------


def test_every_command_and_option_has_help_text() -> None:
    parser = build_parser()
    sub = _subparsers(parser)
    helps = {a.dest: a.help for a in sub._choices_actions}
    assert set(sub.choices) >= {"demo", "init", "scan", "explain", "auth", "doctor", "completion"}
    for name, command in [("calbot", parser), *sub.choices.items()]:
        if name != "calbot":
            assert helps.get(name), f"{name}: no help line"
            assert command.description, f"{name}: no description"
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help, f"{name} {action.option_strings or action.dest}: no help"


def test_help_cites_only_documents_that_exist() -> None:
    parser = build_parser()
    texts = [parser.description or "", parser.epilog or ""]
    for command in _subparsers(parser).choices.values():
        texts.append(command.description or "")
        texts += [a.help or "" for a in command._actions]
    text = " ".join(texts)
    for name in re.findall(r"[\w./-]+\.md\b", text):
        assert (ROOT / name).exists(), name
    assert "SPEC" not in text


def test_config_goes_before_or_after_the_command_and_after_wins() -> None:
    assert parse_args(["--config", "a.toml", "scan"]).config == "a.toml"
    assert parse_args(["scan", "--config", "b.toml"]).config == "b.toml"
    assert parse_args(["--config", "a.toml", "scan", "--config", "b.toml"]).config == "b.toml"
    assert parse_args(["scan"]).config is None


def test_config_before_the_command_is_the_one_read(tmp_path: Path, capsys: Any) -> None:
    missing = tmp_path / "nowhere.toml"
    assert main(["--config", str(missing), "scan"]) == 2
    assert str(missing) in capsys.readouterr().err


def test_short_version_flag(capsys: Any) -> None:
    with pytest.raises(SystemExit) as info:
        main(["-V"])
    assert info.value.code == 0
    assert re.fullmatch(r"calbot \d+\.\d+\.\d+\n", capsys.readouterr().out)


def test_color_flags_beside_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    assert no_color(parse_args(["doctor"])) is None  # rich reads NO_COLOR itself
    assert no_color(parse_args(["--no-color", "doctor"])) is True
    assert no_color(parse_args(["--no-color", "doctor", "--color"])) is False
    checks = [Check("config", True, "fine"), Check("source", False, "broken", "fix it")]
    monkeypatch.setenv("NO_COLOR", "1")
    out = Tty()
    print_checks(checks, out)
    assert not _coloured(out.getvalue())
    out = Tty()
    print_checks(checks, out, no_color=False)  # --color wins over NO_COLOR
    assert _coloured(out.getvalue())
    monkeypatch.delenv("NO_COLOR")
    out = Tty()
    print_checks(checks, out)
    assert _coloured(out.getvalue())
    out = Tty()
    print_checks(checks, out, no_color=True)  # --no-color
    assert not _coloured(out.getvalue())


def _coloured(text: str) -> bool:
    """Whether `text` sets a foreground colour (SGR 30-38, 90-97); bold and italic are not
    colours."""
    return re.search(r"\x1b\[(?:\d+;)*(?:3[0-8]|9[0-7])(?:;\d+)*m", text) is not None


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script(shell: str) -> None:
    out = io.StringIO()
    assert main(["completion", shell], out=out) == 0
    script = out.getvalue()
    assert "calbot" in script
    for word in [*_subparsers(build_parser()).choices, "dry-run", "log-format"]:
        assert word in script, word


def test_the_man_page_is_generated_from_the_parser_and_fresh() -> None:
    spec = importlib.util.spec_from_file_location("make_man", ROOT / "scripts" / "make_man.py")
    assert spec is not None and spec.loader is not None
    make_man: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_man)
    page = (ROOT / "man" / "calbot.1").read_text(encoding="utf-8")
    assert page == make_man.render(), "man/calbot.1 is stale: run `python scripts/make_man.py`"
    for command in _subparsers(build_parser()).choices:
        assert f".SS calbot {command}" in page
    assert "\\-\\-dry\\-run" in page


# --- placeholders ----------------------------------------------------------------------------


def test_every_placeholder_in_the_starter_is_marked() -> None:
    data = tomllib.loads(starter_config())
    assert placeholders_in(data) == [
        "user.email",
        "user.name",
        "user.own_domains",
        "user.signature",
        "clients[0].name",
        "clients[0].domains",
        "clients[0].contacts[0].email",
    ]
    # the values that went out in a new user's drafts are gone
    text = starter_config()
    assert '"Alex"' not in text and '"Alex Doe"' not in text
    assert 'own_domains = ["example.com"]' not in text


def test_an_edited_config_has_no_placeholder(tmp_path: Path) -> None:
    data = tomllib.loads(starter_config())
    data["user"].update(
        email="me@studio.example",
        name="Mai Tran",
        signature="Mai",
        own_domains=["studio.example"],
    )
    data["clients"] = [{"name": "Acme", "domains": ["acme.example"]}]
    assert placeholders_in(data) == []
    assert placeholders_left(tmp_path / "missing.toml") == []


def test_doctor_fails_on_placeholders_but_passes_without(tmp_path: Path) -> None:
    path = tmp_path / "calbot.toml"
    path.write_text(starter_config(), encoding="utf-8")
    check = placeholders(load_settings(path, check_templates=False))
    assert check is not None and not check.ok and check.exit_code == 2
    assert "user.signature" in check.detail and "CHANGE ME" in check.fix
    path.write_text(
        '[user]\nemail = "me@studio.example"\ntimezone = "UTC"\n'
        '[[clients]]\nname = "Acme"\ndomains = ["acme.example"]\n',
        encoding="utf-8",
    )
    assert placeholders(load_settings(path, check_templates=False)) is None


# --- doctor: the ICS source, no config --------------------------------------------------------


def _ics(path: str, tmp_path: Path) -> Settings:
    return Settings(
        user=make_settings().user,
        path=str(tmp_path / "calbot.toml"),
        source=Source(kind="ics", path=path),
        outputs=Outputs(),
    )


def test_doctor_fails_on_a_missing_ics_file(tmp_path: Path) -> None:
    check = ics_source(_ics(str(tmp_path / "gone.ics"), tmp_path))
    assert not check.ok and check.exit_code == 2
    assert "no such file" in check.detail and "[source] path" in check.fix


def test_doctor_fails_on_a_file_that_is_not_a_calendar(tmp_path: Path) -> None:
    (tmp_path / "notes.ics").write_text("hello\n", encoding="utf-8")
    check = ics_source(_ics(str(tmp_path / "notes.ics"), tmp_path))
    assert not check.ok and "not an iCalendar" in check.detail


def test_doctor_passes_a_readable_calendar(tmp_path: Path) -> None:
    (tmp_path / "cal.ics").write_text(CALENDAR, encoding="utf-8")
    check = ics_source(_ics(str(tmp_path / "cal.ics"), tmp_path))
    assert check.ok and "1 events" in check.detail


def test_doctor_fails_on_an_unreachable_ics_url(tmp_path: Path) -> None:
    url = f"http://user:s3cret@127.0.0.1:{_closed_port()}/cal.ics"
    check = ics_source(_ics(url, tmp_path))
    assert not check.ok and check.exit_code == 4
    assert "s3cret" not in check.detail and "127.0.0.1" in check.detail
    assert exit_code_for([Check("x", True, ""), check]) == 4


def test_doctor_without_a_config_gives_the_fix_once(tmp_path: Path) -> None:
    out = io.StringIO()
    missing = tmp_path / "calbot.toml"
    assert main(["doctor", "--config", str(missing)], out=out) == 2
    text = out.getvalue()
    assert text.count("calbot init") == 1, text
    assert f"calbot init --config {missing}" in text


# --- init ------------------------------------------------------------------------------------


def _init(tmp_path: Path, *extra: str, **kw: Any) -> tuple[int, str, Path]:
    path = tmp_path / "conf" / "calbot.toml"
    out = io.StringIO()
    args = parse_args(["init", "--config", str(path), *extra])
    return cmd_init(args, out, **kw), out.getvalue(), path


def test_init_without_a_terminal_writes_google_and_says_how_to_switch(tmp_path: Path) -> None:
    code, text, path = _init(tmp_path, ask=_no_questions)
    assert code == 0
    assert load_settings(path, check_templates=False).source.kind == "google"
    flag = f"--config {path}"
    assert f"calbot scan {flag} --dry-run" in text and f"calbot auth {flag}" in text
    assert f"calbot init {flag} --force --ics PATH|URL" in text


def test_init_with_an_ics_file_writes_a_config_that_scans_it(tmp_path: Path) -> None:
    (tmp_path / "my cal.ics").write_text(CALENDAR, encoding="utf-8")
    code, text, path = _init(tmp_path, "--ics", str(tmp_path / "my cal.ics"), ask=_no_questions)
    assert code == 0
    s = load_settings(path, check_templates=False)
    assert s.source.kind == "ics" and s.source.path == str(tmp_path / "my cal.ics")
    assert not s.outputs.gmail_drafts and not s.outputs.calendar_notes
    assert f"Next: `calbot scan --config {path} --dry-run`." in text
    assert "auth" not in text


def test_init_makes_a_relative_ics_path_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, path = _init(tmp_path, "--ics", "cal.ics", ask=_no_questions)
    assert code == 0
    assert load_settings(path, check_templates=False).source.path == str(tmp_path / "cal.ics")


def test_init_asks_on_a_terminal(tmp_path: Path) -> None:
    answers = iter(["ics", "https://cal.example/x.ics"])
    code, _, path = _init(tmp_path, ask=lambda _: next(answers), interactive=True)
    assert code == 0
    assert load_settings(path, check_templates=False).source.path == "https://cal.example/x.ics"


def test_init_caldav_writes_a_caldav_section() -> None:
    text = starter_for(starter_config(), "caldav", None)
    data = tomllib.loads(text)
    assert data["source"]["kind"] == "caldav"
    assert data["caldav"]["url"].startswith("https://") and "caldav.url" in placeholders_in(data)


def test_init_source_ics_needs_the_calendar_without_a_terminal(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        _init(tmp_path, "--source", "ics", ask=_no_questions)
    with pytest.raises(UsageError):
        _init(tmp_path, "--source", "google", "--ics", "x.ics", ask=_no_questions)


def test_init_at_the_default_path_names_no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALBOT_CONFIG", "/somewhere/calbot.toml")
    assert config_flag(Path("/somewhere/calbot.toml")) == ""
    assert config_flag(Path("/else where/c.toml")) == " --config '/else where/c.toml'"


def _no_questions(prompt: str) -> str:
    raise AssertionError(f"asked without a terminal: {prompt}")


# --- auth --------------------------------------------------------------------------------------


def _google(tmp_path: Path, token_uri: str) -> Settings:
    secret = tmp_path / "client_secret.json"
    secret.write_text(
        json.dumps(
            {
                "installed": {
                    "client_id": "id.apps.example",
                    "client_secret": "not-a-secret",
                    "auth_uri": "https://accounts.example/o/oauth2/auth",
                    "token_uri": token_uri,
                    "redirect_uris": ["http://localhost"],
                }
            }
        ),
        encoding="utf-8",
    )
    secret.chmod(0o600)
    base = make_settings()
    return Settings(
        user=base.user,
        source=Source(kind="google"),
        google=GoogleSettings(
            client_secret_file=str(secret), token_file=str(tmp_path / "token.json")
        ),
    )


def test_auth_no_browser_with_stdin_closed_is_a_usage_error(tmp_path: Path) -> None:
    def closed(prompt: str) -> str:
        raise EOFError

    with pytest.raises(UsageError) as info:
        run_auth_flow(
            _google(tmp_path, "https://oauth2.example/token"),
            client_secret=None,
            no_browser=True,
            input=closed,
            out=lambda _: None,
        )
    assert info.value.exit_code == 2 and "stdin" in str(info.value)


def test_auth_that_cannot_reach_google_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the closed port is plain http
    settings = _google(tmp_path, f"http://127.0.0.1:{_closed_port()}/token")
    with pytest.raises(ServiceError) as info:
        run_auth_flow(
            settings, client_secret=None, no_browser=True, input=lambda _: "4/code", out=print
        )
    assert info.value.exit_code == 4
    assert "could not reach Google" in str(info.value) and "refused" not in str(info.value)
    assert not (tmp_path / "token.json").exists()


# --- pytest's fault-matrix table, on request ---------------------------------------------------


class _Reporter:
    def __init__(self) -> None:
        report = SimpleNamespace(
            nodeid="t::x",
            when="call",
            failed=False,
            passed=True,
            user_properties=[("fault_matrix", ("500 on list", "full", "exit 4", "exit 4"))],
        )
        self.stats = {"passed": [report]}
        self.lines: list[str] = []

    def section(self, title: str) -> None:
        self.lines.append(f"== {title}")

    def write_line(self, line: str) -> None:
        self.lines.append(line)


def test_fault_table_prints_only_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    from fakes import plugin

    monkeypatch.delenv("CALBOT_FAULT_TABLE", raising=False)
    short = _Reporter()
    plugin.pytest_terminal_summary(short, 0, None)  # type: ignore[arg-type]
    assert short.lines == ["fault matrix: 1 rows, 0 FAILED (CALBOT_FAULT_TABLE=1 prints the table)"]
    monkeypatch.setenv("CALBOT_FAULT_TABLE", "1")
    full = _Reporter()
    plugin.pytest_terminal_summary(full, 0, None)  # type: ignore[arg-type]
    assert "== fault matrix" in full.lines and any("500 on list" in x for x in full.lines)


# --- packaging and docs --------------------------------------------------------------------------


def test_packaging_metadata() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    assert "urls" not in project["project"]
    assert any(
        c.startswith("Programming Language :: Python :: 3")
        for c in project["project"]["classifiers"]
    )
    [setuptools] = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    assert setuptools.replace(" ", "") == "setuptools>=77"
    assert "the calbot authors" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Keep a Changelog" in changelog and "## [Unreleased]" in changelog


def test_demo_outbox_is_ignored_and_deploy_files_cite_existing_docs() -> None:
    default = next(
        a.default
        for a in _subparsers(build_parser()).choices["demo"]._actions
        if a.dest == "outbox"
    )
    assert f"{default}/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    deploy_files = sorted(p for p in (ROOT / "deploy").rglob("*") if p.is_file())
    for path in [ROOT / "README.md", *deploy_files]:
        for name in re.findall(r"\bdocs/[\w./-]+\.md\b", path.read_text(encoding="utf-8")):
            assert (ROOT / name).exists(), f"{path.name} cites {name}"


def test_readme_says_what_calbot_writes_by_hand_one_line_each() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### What calbot writes itself, and why", 1)[1].split("\n#", 1)[0]
    bullets = [line for line in section.splitlines() if line.startswith("- ")]
    assert all(not line.startswith("  ") for line in section.splitlines() if line.strip()), (
        "one line each"
    )
    for topic in (
        "Retries",
        "The lock",
        "The HTML digest",
        "Day and month names",
        "Config validation",
        "Logs",
    ):
        assert sum(topic in b for b in bullets) == 1, topic
