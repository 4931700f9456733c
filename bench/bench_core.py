"""Core benchmark: the CPU a scan spends after reading, on the bench_google calendar (dense:
~31k events in the window at 100k): `score_window`, `decide_all`, and the `--json`
document (`result_doc` + `json_text`). The events are read once through the Google source
and pickled; each round is a fresh process (cold caches, as a scan is) that loads them and
times the core alone. With --before, the rounds alternate with processes running another
checkout's calbot, with the same `now`, and the JSON digests are compared.
Prints figures, asserts nothing.

    python bench/bench_core.py --events 100000 --rounds 5 [--before /tmp/x-before]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("score_window", "decide_all", "result_doc", "json_text")


def settings_for(api_root: str, token_file: str) -> object:
    from calbot.config.loader import parse_settings

    data = {
        "user": {"email": "me@example.com", "timezone": "Europe/Berlin"},
        "source": {"kind": "google", "calendars": ["primary"]},
        "google": {"api_root": api_root, "token_file": token_file},
        "outputs": {"outbox": ""},
        "clients": [{"name": "Client 0", "domains": ["client0.example"]}],
    }
    return parse_settings(data, path="bench.toml", check_templates=False)


def window_for(now: datetime) -> object:
    from calbot.core.scan_result import Window

    return Window(start=now, end=now + timedelta(days=14), history_start=now - timedelta(14))


def read(api_root: str, token_file: str, now_text: str, events_file: str) -> None:
    """Child: the window's events through the Google source, pickled to `events_file`."""
    from calbot.adapters.google.api import connect
    from calbot.adapters.google.calendar import GoogleCalendarSource
    from calbot.adapters.sqlite import SqliteStore
    from calbot.core.classify import dedupe
    from calbot.core.workload import clip_events

    settings: Any = settings_for(api_root, token_file)
    now = datetime.fromisoformat(now_text)
    window: Any = window_for(now)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore.open(Path(tmp))
        source = GoogleCalendarSource(connect(settings), settings, store, writable=True, now=now)
        events, _ = clip_events(
            source.events(window.history_start, window.end), window.history_start, window.end
        )
        store.close()
    Path(events_file).write_bytes(pickle.dumps(dedupe(events)))


def once(api_root: str, token_file: str, now_text: str, events_file: str) -> None:
    """Child: one timed round of the core on the pickled events."""
    import gc

    from calbot.core.decide import Scene, decide_all
    from calbot.core.scan_result import Outcome, ScanResult
    from calbot.present.render import json_text, result_doc
    from calbot.usecases.scan import score_window

    settings: Any = settings_for(api_root, token_file)
    now = datetime.fromisoformat(now_text)
    window: Any = window_for(now)
    events = pickle.loads(Path(events_file).read_bytes())
    gc.disable()  # as run_scan does
    t0 = time.perf_counter()
    workload, scored = score_window(events, settings, window)
    t1 = time.perf_counter()
    scene = Scene(now=now, horizon_end=window.end, workload=workload, settings=settings)
    decisions = decide_all(scored, scene)
    t2 = time.perf_counter()
    outcomes = sorted(
        (Outcome(s.meeting, decisions[s.meeting.event.id]) for s in scored),
        key=lambda o: o.meeting.event.start,
    )
    result = ScanResult(now, window, outcomes, len(events), 0, [])
    doc = result_doc(result, {}, settings.user.language)
    t3 = time.perf_counter()
    text = json_text(doc, pretty=False)
    t4 = time.perf_counter()
    times = dict(zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    print(json.dumps({"events": len(events), "digest": digest, "times": times}))


def run(mode: str, args: list[str], path: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=path)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(
        [sys.executable, __file__, mode, *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    if mode == "--read":
        return {}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("--read", "--once"):
        (read if sys.argv[1] == "--read" else once)(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5, help="report the median of this many")
    parser.add_argument("--before", default="", help="a checkout (with calbot/) to compare")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="calbot-bench-core-") as tmp:
        compare(args, Path(tmp))


def compare(args: argparse.Namespace, tmp: Path) -> None:
    token_file = tmp / "token.json"
    serve = ["--serve", "--events", str(args.events), "--token-file", str(token_file)]
    fake = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "bench_google.py"), *serve],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake.stdout is not None and fake.stdin is not None
    api_root = fake.stdout.readline().strip()
    child_args = [api_root, str(token_file), datetime.now(UTC).isoformat(), str(tmp / "events")]
    try:
        run("--read", child_args, str(ROOT))
    finally:
        fake.stdin.close()
        fake.wait(timeout=30)
    paths = {"after": str(ROOT)} | ({"before": args.before} if args.before else {})
    sides: dict[str, list[dict[str, Any]]] = {name: [] for name in paths}
    for r in range(args.rounds):
        for name in paths if r % 2 == 0 else reversed(paths):
            sides[name].append(run("--once", child_args, paths[name]))
    print(f"median of {args.rounds} round(s), each in a fresh process; seconds")
    print(f"{'':8} {'events':>7} " + " ".join(f"{p:>12}" for p in PHASES) + "   total  digest")
    for name, rounds in sides.items():
        figures = [median(r["times"][p] for r in rounds) for p in PHASES]
        total = median(sum(r["times"].values()) for r in rounds)
        cells = " ".join(f"{f:12.3f}" for f in figures)
        digests = ",".join(sorted({r["digest"] for r in rounds}))
        print(f"{name:8} {rounds[0]['events']:7} {cells} {total:7.3f}  {digests}")


if __name__ == "__main__":
    main()
