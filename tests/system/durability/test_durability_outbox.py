"""The `.eml` outbox from an ICS calendar, its scans killed at random points: one `.eml` per
drafted meeting after a clean scan, no duplicate, no leftover temp file, a sound state file."""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import random
import signal
import subprocess
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from builders import DEMO_CLIENTS
from durability_rig import drafted, integrity, kill, scan, sink_records, start, wait_for

from calbot.usecases.demo import demo_calendar

# --- the outbox, killed at random points --------------------------------------------------


def ics_config(tmp: Path, *, signature: str = "Alex") -> Path:
    config = tmp / "calbot.toml"
    config.write_text(
        f"""
[user]
email = "alex@studio.example"
name = "Alex Doe"
timezone = "Europe/Berlin"
own_domains = ["studio.example"]
signature = "{signature}"

[source]
kind = "ics"
path = "{tmp / "cal.ics"}"

[outputs]
gmail_drafts = false
calendar_notes = false
outbox = "{tmp / "outbox"}"

[limits]
lock_wait_seconds = 5

{DEMO_CLIENTS}""",
        encoding="utf-8",
    )
    return config


def outbox_snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """name → (inode, mtime): an atomic rewrite changes the inode."""
    found = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            with contextlib.suppress(FileNotFoundError):
                st = entry.stat()
                found[entry.name] = (st.st_ino, st.st_mtime_ns)
    return found


def changes(before: dict[str, tuple[int, int]], folder: Path) -> int:
    now = outbox_snapshot(folder)
    return sum(1 for k in before.keys() | now.keys() if before.get(k) != now.get(k))


def kill_at_random(
    proc: subprocess.Popen[str],
    rng: random.Random,
    before: dict[str, tuple[int, int]],
    outbox: Path,
    duration: float,
) -> int:
    """SIGKILL after the outbox saw 1..6 file changes (a draft written, a temp file made,
    one deleted), or — one time in seven — at a random moment of the scan."""
    target = rng.randint(0, 6)
    if target == 0:
        deadline = time.monotonic() + rng.uniform(0, duration)
        wait_for(lambda: time.monotonic() >= deadline or proc.poll() is not None, "the moment")
    else:
        wait_for(
            lambda: proc.poll() is not None or changes(before, outbox) >= target,
            f"{target} outbox changes",
        )
    return kill(proc)


def test_outbox_survives_sigkill_at_random_points(tmp_path):
    """Ten scans, each with six drafts to write (new text or a new week), each killed at a
    random point — often between one draft's file and its record — then a clean scan: one
    `.eml` per drafted meeting, no duplicate, a sound state file."""
    seed = int(os.environ.get("CALBOT_KILL_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    weeks = [demo_calendar(date.today()), demo_calendar(date.today() + timedelta(days=7))]
    (tmp_path / "cal.ics").write_text(weeks[0], encoding="utf-8")
    env = dict(os.environ, CALBOT_STATE_DIR=str(tmp_path / "state"))
    env.pop("CALBOT_CONFIG", None)
    outbox = tmp_path / "outbox"
    config = ics_config(tmp_path)
    started = time.monotonic()
    scan(config, env)
    duration = time.monotonic() - started

    landed = []  # drafts written before each kill
    for i in range(10):
        # every run has work to do: new wording for every draft; runs 3 and 7 move the whole
        # calendar a week on and back (drafts deleted, written, updated)
        ics_config(tmp_path, signature=f"Alex {i}")
        if i % 4 == 3:
            (tmp_path / "cal.ics").write_text(weeks[(i // 4 + 1) % 2], encoding="utf-8")
        before = outbox_snapshot(outbox)
        code = kill_at_random(start(config, env), rng, before, outbox, duration)
        landed.append((code, changes(before, outbox)))
        assert code in (0, -signal.SIGKILL), f"seed {seed}: run {i} exited {code}"
        assert integrity(tmp_path / "state") == "ok", f"seed {seed}: run {i}"

    assert any(code == -signal.SIGKILL and n > 0 for code, n in landed), (seed, landed)
    doc = scan(config, env)
    acted = drafted(doc)
    assert len(acted) == 6, f"seed {seed}"
    files = sorted(outbox.glob("*.eml"))
    # Nobody deletes a draft here: a kill between calbot's own deletion of a draft and its
    # record must not read as the user's deletion.
    lost = [m for m in acted if not Path(m["draft"]["outbox_path"]).is_file()]
    assert not lost, f"seed {seed}: {lost}"
    kept = sorted(m["draft"]["outbox_path"] for m in acted if m not in lost)
    assert sorted(str(p) for p in files) == kept, f"seed {seed}: an .eml no meeting owns"
    ids = Counter(
        str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Message-ID"])
        for p in files
    )
    assert all(n == 1 for n in ids.values()), f"seed {seed}: {ids}"
    ledger = sorted(sink_records(tmp_path / "state", "outbox").values())
    assert ledger == sorted(
        [p.name for p in files] + [Path(m["draft"]["outbox_path"]).name for m in lost]
    )
    assert integrity(tmp_path / "state") == "ok"
    # temp files of killed writers (client data) are cleaned up by the next write
    leftovers = sorted(p.name for p in outbox.iterdir() if p.suffix != ".eml")
    assert not leftovers, f"seed {seed}: {leftovers}"
    again = scan(config, env)
    statuses = Counter(m["draft"]["status"] for m in drafted(again))
    # Nobody edited a draft here: a kill between an update's file and its record must not
    # read as the user's edit.
    assert set(statuses) == {"unchanged"}, f"seed {seed}: {statuses}"
