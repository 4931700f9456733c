"""Google source benchmark: requests, wall time and peak memory of a first scan (full sync)
and an unchanged rescan (one syncToken request), beside the bare cost of paging the same
events with googleapiclient alone.

The fake Google server runs in its own subprocess, so the peak RSS printed is calbot's
(this process) alone. Prints figures, asserts nothing.

    python bench/bench_google.py                 # 10,000 events
    python bench/bench_google.py --events 1000
    python bench/bench_google.py --events 100000 --rounds 1
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HISTORY = timedelta(days=14)
HORIZON = timedelta(days=14)
SPREAD = timedelta(days=90)  # the events lie between now - 40 days and now + 50 days


def serve(n: int, token_file: str) -> None:
    """Child process: the fake Google with n events; prints its root, runs until stdin ends."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.google import FakeGoogle

    fake = FakeGoogle()
    fake.start()
    me = fake.user_email
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=40)
    step = SPREAD / n
    for i in range(n):
        start = base + step * i
        end = start + timedelta(minutes=30 + 30 * (i % 3))
        fields: dict[str, Any] = {
            "summary": f"Meeting {i} with client {i % 50}",
            "description": f"Agenda for meeting {i}: status, next steps, open questions. " * 3,
            "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
            "end": {"dateTime": end.isoformat(), "timeZone": "Europe/Berlin"},
            "attendees": [
                {"email": me, "responseStatus": "accepted"},
                {"email": f"person{i % 50}@client{i % 7}.example", "displayName": "Client"},
                {"email": "colleague@example.com", "responseStatus": "tentative"},
            ],
        }
        if i % 3 == 0:
            fields["hangoutLink"] = f"https://meet.google.com/abc-{i:04d}"
        if i % 5 == 0:
            fields["location"] = "Client office, 1 Main Street"
        fake.add_event(**fields)
    fake.write_token(token_file, ["calendar.events"])
    # no garbage collection in the server: a pause there (its heap holds every event and
    # each listing's copy of them) would be counted against whichever client was waiting.
    # Its objects hold no cycles, and it keeps only the last page tokens' copies.
    gc.freeze()
    gc.disable()
    print(fake.root, flush=True)
    sys.stdin.read()
    fake.stop()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="report the median of this many")
    parser.add_argument(
        "--trace", action="store_true", help="also print the Python heap peak (tracemalloc)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--token-file", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.events, args.token_file)
        return

    tmp = Path(tempfile.mkdtemp(prefix="calbot-bench-"))
    token_file = tmp / "token.json"
    started = time.perf_counter()
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--events",
            str(args.events),
            "--token-file",
            str(token_file),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    api_root = child.stdout.readline().strip()
    if not api_root:
        raise SystemExit("the fake Google server did not start")
    print(f"fake Google with {args.events:,} events ready in {time.perf_counter() - started:.1f} s")
    try:
        run(api_root, token_file, tmp, args.events, rounds=args.rounds, trace=args.trace)
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def run(
    api_root: str, token_file: Path, tmp: Path, n: int, *, rounds: int = 3, trace: bool = False
) -> None:
    sys.path.insert(0, str(ROOT))
    from calbot.adapters.google.api import connect
    from calbot.adapters.sqlite import SqliteStore
    from calbot.config.loader import parse_settings

    data = {
        "user": {"email": "me@example.com", "timezone": "Europe/Berlin"},
        "source": {"kind": "google", "calendars": ["primary"]},
        "google": {"api_root": api_root, "token_file": str(token_file)},
        "outputs": {"outbox": ""},
        "clients": [{"name": "Client 0", "domains": ["client0.example"]}],
    }
    settings = parse_settings(data, path="bench.toml", check_templates=False)
    now = datetime.now(UTC)
    connect(settings)  # the discovery document parsed once: not counted as the scan's memory
    gc.collect()
    before = peak_mib()
    names = ("first scan (full sync)", "unchanged rescan")
    calbot: dict[str, list[float]] = {name: [] for name in names}
    bare: dict[str, list[float]] = {name: [] for name in names}
    requests = dict.fromkeys(names, 0)
    seen = dict.fromkeys(names, 0)
    bare_requests = bare_items = 0

    # Each round a fresh state store (a real first scan); the order of calbot and bare
    # paging alternates so neither always pays the first connection or a warm cache.
    for r in range(rounds):
        store = SqliteStore.open(tmp / f"state-{r}")
        for side in ("calbot", "bare") if r % 2 == 0 else ("bare", "calbot"):
            if side == "calbot":
                for name, (reqs, wall, count) in zip(
                    names, scan_twice(settings, store, now, trace=trace and r == 0), strict=True
                ):
                    calbot[name].append(wall)
                    requests[name], seen[name] = reqs, count
            else:
                full, sync, bare_requests, bare_items = page_bare(settings, now)
                bare[names[0]].append(full)
                bare[names[1]].append(sync)
        store.close()
    calbot_peak = peak_mib()
    db = tmp / "state-0" / "state.sqlite3"

    print(f"median of {rounds} round(s), each on a fresh state store")
    print(f"{'':26} {'requests':>8} {'wall s':>8} {'bare s':>8} {'ratio':>6} {'events':>7}")
    for name in names:
        wall, bare_s = median(calbot[name]), median(bare[name])
        print(
            f"{name:26} {requests[name]:8d} {wall:8.3f} {bare_s:8.3f} {wall / bare_s:6.2f}"
            f" {seen[name]:7d}"
        )
    print(f"bare paging: {bare_requests} requests, {bare_items:,} items")
    print(
        f"peak RSS: {before:.0f} MiB after imports, {calbot_peak:.0f} MiB after all scans"
        f" (+{calbot_peak - before:.0f} MiB)"
    )
    print(f"state store: {db.stat().st_size / 2**20:.1f} MiB for {n:,} events")


def scan_twice(
    settings: Any, store: Any, now: datetime, *, trace: bool
) -> list[tuple[int, float, int]]:
    """(requests, wall seconds, events in the window) of a first scan and an unchanged
    rescan through calbot's Google source and SQLite cache."""
    from calbot.adapters.google.api import connect
    from calbot.adapters.google.calendar import GoogleCalendarSource

    start, end = now - HISTORY, now + HORIZON
    rows = []
    for label in ("first scan", "unchanged rescan"):
        gc.collect()
        api = connect(settings)
        if trace:
            tracemalloc.start()
        t0 = time.perf_counter()
        source = GoogleCalendarSource(api, settings, store, writable=True, now=now)
        events = list(source.events(start, end))
        elapsed = time.perf_counter() - t0
        rows.append((source.requests, elapsed, len(events)))
        if trace:
            heap = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            print(f"{label}: Python heap peak {heap:.1f} MiB (timed with tracemalloc on)")
        del events, source, api
    return rows


def page_bare(settings: Any, now: datetime) -> tuple[float, float, int, int]:
    """The same pages with googleapiclient alone: no cache, no conversion, nothing kept.
    (full-paging seconds, sync-token request seconds, requests, items)."""
    from calbot.adapters.google.api import connect
    from calbot.adapters.google.events import EVENT_FIELDS

    api = connect(settings)
    time_min = (now - HISTORY - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    t0 = time.perf_counter()
    page_token = None
    requests = 0
    items = 0
    sync_token = None
    while True:
        response = (
            api.calendar.events()
            .list(
                calendarId="primary",
                singleEvents=True,
                maxResults=2500,
                timeMin=time_min,
                fields=EVENT_FIELDS,
                pageToken=page_token,
            )
            .execute()
        )
        requests += 1
        items += len(response.get("items", []))
        page_token = response.get("nextPageToken")
        sync_token = response.get("nextSyncToken")
        del response
        if not page_token:
            break
    full = time.perf_counter() - t0
    t0 = time.perf_counter()
    api.calendar.events().list(
        calendarId="primary",
        singleEvents=True,
        maxResults=2500,
        syncToken=sync_token,
        fields=EVENT_FIELDS,
    ).execute()
    return full, time.perf_counter() - t0, requests, items


if __name__ == "__main__":
    main()
