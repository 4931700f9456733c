"""Exactly-once drafts with real processes and real files (this directory).

Every scan here is a `calbot scan` subprocess: against the fake Google server (Gmail drafts,
calendar notes, a real SQLite state file) or an ICS calendar with the `.eml` outbox. The
process is killed with SIGKILL where a crash hurts most, two scans race for one state
store, and after each of these every drafted meeting has exactly one draft and the state
file passes `PRAGMA integrity_check`. No fixed sleeps: everything waits on a condition,
with a deadline.
"""

import pytest
from durability_rig import Account


@pytest.fixture
def account(google, tmp_path) -> Account:
    return Account(google, tmp_path)
