"""The fault matrix (this directory): every fault Google can throw at a scan,
during a full scan (the first) and during an incremental scan (the second), against the
fake Google server with the real googleapiclient and google-auth over HTTP.

For each case the faulted scan either completes (exit 0) or stops with a one-line cause on
stderr and the exit code (3: access expired/revoked/lacking a scope, 4: Google still
failing after retries). Then, whatever happened: no duplicate draft (one Gmail draft per
Message-ID, every draft owned by the ledger), the state file passes `PRAGMA
integrity_check` and keeps its ledger rows, and the next scan with the fault gone recovers
by itself (exit 0, every meeting drafted once) — and the one after that writes nothing.

Each case adds a row (fault, scan kind, expected, outcome) to the table pytest prints at
the end (`fault_matrix` fixture, tests/fakes/plugin.py). Run: `pytest tests/system/faults
-rA`. docs/reliability.md explains the matrix.

Real sleeping is kept short: Retry-After 0.05-0.3 s, `[limits] retry_budget_seconds`
1-3 s, `http_timeout_seconds = 0.5` against answers held 1.2 s, and the back-off's jitter
pinned to 0.1 of its cap (`connect(rand=...)`; the sleeps themselves are real). Nothing
waits by a fixed sleep: a late answer is awaited with the fake's `wait_idle()`, a child
process with `wait_for` (a deadline, and it stops when the child died).
"""

import pytest
from fault_account import Account


@pytest.fixture
def account(google, tmp_path, monkeypatch, capsys) -> Account:
    from calbot.adapters.google import api as google_api

    real_connect = google_api.connect
    monkeypatch.setattr(  # jitter pinned low: back-off sleeps stay short and repeatable
        google_api, "connect", lambda settings: real_connect(settings, rand=lambda: 0.1)
    )
    monkeypatch.setenv("CALBOT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("CALBOT_CONFIG", raising=False)
    return Account(google, tmp_path, capsys)
