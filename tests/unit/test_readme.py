"""The README's two set-up commands are the contract with a new user and with CI."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def shell_blocks() -> list[str]:
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", README, re.S)]


def test_the_first_two_commands_run_the_demo_and_the_tests():
    demo, tests = shell_blocks()[:2]
    assert demo.endswith("pip install . && calbot demo")
    assert "pip install -e '.[test]'" in tests


def test_ci_runs_exactly_the_readmes_test_command():
    readme_test = shell_blocks()[1].rsplit("&&", 1)[1].strip()
    last_command = [line for line in CI.splitlines() if line.strip() and not line.startswith("#")][
        -1
    ]
    assert last_command.strip() == readme_test


def test_test_extra_has_what_the_suite_imports():
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    names = {re.split(r"[<>=\[]", d)[0] for d in extras["test"]}
    assert {"pytest", "hypothesis"} <= names


def test_every_cli_command_is_in_the_readme():
    from calbot.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert len(sub.choices) >= 8
    for name in sub.choices:
        assert f"calbot {name}" in README, name


def test_no_bench_placeholder_left():
    assert "BENCH_FIGURES" not in README
