"""The fault matrix's cases with a real `calbot scan` process: SIGKILL after Gmail made a
draft whose answer calbot never heard (the next scan adopts it), and the one stderr line a
user sees when a scan gives up."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable

import pytest
from durability_rig import Hold
from fault_account import (
    DEADLINE,
    FULL,
    HOURS,
    KINDS,
    SCOPES,
    Run,
    assert_no_duplicates,
    assert_recovers,
    assert_sound,
    drafted,
    one_line,
    outcome_of,
    prepare,
)

# --- SIGKILL mid-scan -------------------------------------------------------------------------


def wait_for(
    condition: Callable[[], bool], what: str, proc: subprocess.Popen[str] | None = None
) -> None:
    """Poll until `condition` holds; fail at the deadline, or at once if `proc` died."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if proc is not None and proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"the scan exited ({proc.returncode}) before {what}: {err!r}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_mid_scan(account, fault_matrix, kind):
    meetings, ledger_before = prepare(account, kind)
    nth = 3 if kind == FULL else 1  # full: the third of five drafts; incremental: the new one
    row = (
        "SIGKILL mid-scan (draft created, answer not heard)",
        kind,
        "killed; next scan adopts the draft, no duplicate",
    )
    fault_matrix(*row, "not killed")
    hold = Hold(account.google, "POST", "/users/me/drafts", nth)
    proc = account.start()
    try:
        wait_for(hold.reached.is_set, f"drafts.create #{nth}", proc)
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=DEADLINE)
    finally:
        hold.release()
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    fault_matrix(*row, f"exit {proc.returncode}")
    assert proc.returncode == -signal.SIGKILL
    assert account.integrity() == "ok"
    if kind == FULL:  # drafts 1..nth-1 recorded; the nth exists at Google, unrecorded
        assert len(account.ledger()) == nth - 1
    ledger = account.ledger()
    assert not {k for k, v in ledger_before.items() if ledger.get(k) != v}
    assert_no_duplicates(account)
    account.google.clear_log()
    run = assert_recovers(account, meetings)
    statuses = Counter(m["draft"]["status"] for m in drafted(run.doc))
    fault_matrix(*row, f"killed; next scan exit 0, {len(drafted(run.doc))} drafts {dict(statuses)}")


# --- a real `calbot scan` process: its stderr is the one line ---------------------------------


STDERR_CASES = [
    pytest.param(4, id="503 beyond the budget on gmail.drafts.create"),
    pytest.param(3, id="invalid_grant on refresh"),
]


@pytest.mark.parametrize("code", STDERR_CASES)
def test_real_process_prints_one_line(account, fault_matrix, code):
    """In-process scans have their logging captured by pytest; a real `python -m calbot
    scan` shows what a user sees: with retries logged on the way ("retrying in ..."), stderr
    still holds exactly the one line (`_logs_off_stderr` in calbot/cli.py)."""
    if code == 4:
        account.configure(budget=1)
        account.google.fail("gmail.drafts.create", *([503] * 40), retry_after=0.25)
        fault = "503 beyond the budget on gmail.drafts.create"
    else:
        account.google.write_token(account.token, SCOPES, expired=True)
        account.google.revoke()
        fault = "invalid_grant on refresh (revoked)"
    proc = account.start()
    try:
        out, err = proc.communicate(timeout=DEADLINE)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    account.google.wait_idle()
    run = Run(proc.returncode, {}, err)
    fault_matrix(f"{fault} (real process, stderr)", FULL, f"exit {code}, one line", outcome_of(run))
    assert proc.returncode == code, err
    line = one_line(err)
    assert err == line + "\n", f"stderr is more than the one line: {err!r}"
    assert out == ""
    if code == 4:
        assert line.startswith("calbot: Google still failing after ")
        assert account.google.faulted("gmail.drafts.create")
    else:
        assert line == "calbot: Google access expired or was revoked — run `calbot auth`"
    assert_sound(account, {})
    assert_recovers(account, len(HOURS))
