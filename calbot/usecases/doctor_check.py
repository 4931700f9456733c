"""One line of `calbot doctor`'s report, what the lines mean for the exit status, and the
fixes that several checks give."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PERMISSIONS_PAGE", "RUN_AUTH", "Check", "exit_code_for"]

RUN_AUTH = "run `calbot auth`"
PERMISSIONS_PAGE = "https://myaccount.google.com/permissions"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report. `exit_code` is what a failure means for the exit
    status (3 access expired/revoked, 2 config, 4 a server unreachable, 1 anything else);
    `warning` marks a passing check that still deserves attention."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    exit_code: int = 1
    warning: bool = False


def exit_code_for(checks: list[Check]) -> int:
    """0 all passed (warnings included); else 3 if access expired or was revoked, else 2 for
    a config problem, else 4 for a server (an ICS URL) that cannot be reached, else 1."""
    failing = {c.exit_code for c in checks if not c.ok}
    for code in (3, 2, 4):
        if code in failing:
            return code
    return 1 if failing else 0
