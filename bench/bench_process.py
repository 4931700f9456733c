"""Whole processes against their bare baselines, all measured in one run: the ratios of the
"Speed" section of the README. Prints figures, asserts nothing.

    python bench/bench_process.py                  # 10,000 Google events
    python bench/bench_process.py --events 100000 --rounds 1

Against the fake Google server (its own subprocess, so its work is never counted), each in
a fresh process, median of --rounds, with the peak RSS of that process:
- bare paging: googleapiclient `events.list` pages of every event, nothing kept;
- `calbot scan --json` first scan (fresh state dir: a full sync), stdout a pipe;
- bare incremental: one `events.list` with the sync token, in a fresh process;
- `calbot scan --json` unchanged rescan;
- `python -c pass` and `calbot --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
import bench_google  # noqa: E402  (the fake's event generator)

BARE = """
import json, sys
from googleapiclient.discovery import build
from googleapiclient.http import HttpRequest
import httplib2
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
root, token_file, mode, time_min, fields = sys.argv[1:6]
info = json.load(open(token_file))
creds = Credentials.from_authorized_user_info(info)
http = AuthorizedHttp(creds, http=httplib2.Http())
service = build("calendar", "v3", http=http, static_discovery=True, cache_discovery=False,
                client_options={"api_endpoint": root + "calendar/v3/"})
events = service.events()
if mode == "page":
    token = None; items = 0
    while True:
        r = events.list(calendarId="primary", singleEvents=True, maxResults=2500,
                        timeMin=time_min, pageToken=token, fields=fields).execute()
        items += len(r.get("items", []))
        token = r.get("nextPageToken")
        if not token:
            break
    print(json.dumps({"items": items, "sync": r.get("nextSyncToken")}))
else:
    r = events.list(calendarId="primary", singleEvents=True, maxResults=2500,
                    syncToken=mode, fields=fields).execute()
    print(json.dumps({"items": len(r.get("items", []))}))
"""


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB, stdout) of one child process (reaped with wait4 for its
    own resource usage)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{argv[:4]} failed ({proc.returncode}): {err.read()[-2000:]!r}")
        return wall, usage.ru_maxrss / 1024, out.read().decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--before",
        metavar="CHECKOUT",
        help="also run calbot from this checkout (e.g. a worktree of the parent commit)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="calbot-bench-"))
    token_file = tmp / "token.json"
    fake = subprocess.Popen(
        [sys.executable, bench_google.__file__, "--serve", "--events", str(args.events),
         "--token-file", str(token_file)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert fake.stdout is not None and fake.stdin is not None
    root = fake.stdout.readline().strip()
    if not root:
        raise SystemExit("the fake Google server did not start")
    try:
        figures = measure(root, token_file, tmp, args.rounds, args.before)
    finally:
        fake.stdin.close()
        fake.wait(timeout=60)
    report(figures, args.events, args.rounds)


def measure(
    root: str, token_file: Path, tmp: Path, rounds: int, before: str | None
) -> dict[str, list[tuple[float, float]]]:
    from datetime import UTC, datetime, timedelta

    from calbot.adapters.google.events import EVENT_FIELDS

    config = tmp / "calbot.toml"
    config.write_text(
        f"""[user]\nemail = "me@example.com"\ntimezone = "Europe/Berlin"\n
[source]\nkind = "google"\ncalendars = ["primary"]\n
[google]\napi_root = "{root}"\ntoken_file = "{token_file}"\n
[outputs]\noutbox = ""\n
[[clients]]\nname = "Client 0"\ndomains = ["client0.example"]\n""",
        encoding="utf-8",
    )
    time_min = (datetime.now(UTC) - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    py = sys.executable
    calbot = [py, "-m", "calbot", "scan", "--json", "--config", str(config)]
    figures: dict[str, list[tuple[float, float]]] = {}
    # as an installed calbot runs: its modules' bytecode written once and reused (a shell
    # with PYTHONDONTWRITEBYTECODE would compile calbot's ~150 modules in every process)
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    timed([py, "-m", "calbot", "--help"], base)
    if before:
        timed([py, "-m", "calbot", "--help"], dict(base, PYTHONPATH=before))

    def add(name: str, wall: float, rss: float) -> None:
        figures.setdefault(name, []).append((wall, rss))

    for r in range(rounds):
        # a fresh state dir each round (a real first scan); one cache dir for all rounds,
        # as a user's (templates checked once, e.g. by `calbot init`)
        env = dict(
            base, CALBOT_STATE_DIR=str(tmp / f"state-{r}"), XDG_CACHE_HOME=str(tmp / "cache")
        )
        wall, rss, out = timed(
            [py, "-c", BARE, root, str(token_file), "page", time_min, EVENT_FIELDS], base
        )
        add("bare paging", wall, rss)
        sync = json.loads(out)["sync"]
        wall, rss, _ = timed(calbot, env)
        add("calbot scan --json, first", wall, rss)
        wall, rss, _ = timed(
            [py, "-c", BARE, root, str(token_file), sync, time_min, EVENT_FIELDS], base
        )
        add("bare incremental events.list", wall, rss)
        wall, rss, _ = timed(calbot, env)
        add("calbot scan --json, rescan", wall, rss)
        add("python -c pass", *timed([py, "-c", "pass"], base)[:2])
        add("calbot --help", *timed([py, "-m", "calbot", "--help"], base)[:2])
        if before:  # the same runs with the other checkout's calbot first on the path
            old = dict(env, PYTHONPATH=before, CALBOT_STATE_DIR=str(tmp / f"old-state-{r}"))
            add("before: calbot scan --json, first", *timed(calbot, old)[:2])
            add("before: calbot scan --json, rescan", *timed(calbot, old)[:2])
            help_argv = [py, "-m", "calbot", "--help"]
            add("before: calbot --help", *timed(help_argv, dict(base, PYTHONPATH=before))[:2])
    return figures


def report(figures: dict[str, list[tuple[float, float]]], events: int, rounds: int) -> None:
    wall = {k: median(w for w, _ in v) for k, v in figures.items()}
    rss = {k: max(m for _, m in v) for k, v in figures.items()}
    print(f"{events:,} Google events, median of {rounds} round(s), each a fresh process")
    print(f"{'':34} {'wall s':>8} {'peak MiB':>9}")
    for name in figures:
        print(f"{name:34} {wall[name]:8.3f} {rss[name]:9.0f}")
    ratios = (
        ("first scan / bare paging", "calbot scan --json, first", "bare paging", 1.25),
        (
            "rescan / bare incremental",
            "calbot scan --json, rescan",
            "bare incremental events.list",
            2.0,
        ),
        ("--help / python -c pass", "calbot --help", "python -c pass", 5.0),
    )
    for label, a, b, target in ratios:
        print(f"{label:34} {wall[a] / wall[b]:8.2f}x  (target <= {target}x)")
    if "before: calbot --help" in wall:
        for label, a, b, _target in ratios:
            print(f"{'before: ' + label:34} {wall['before: ' + a] / wall[b]:8.2f}x")
    peak = max(rss["calbot scan --json, first"], rss["calbot scan --json, rescan"])
    print(f"{'peak RSS / bare paging':34} {peak / rss['bare paging']:8.2f}x  (target <= 2.5x)")


if __name__ == "__main__":
    main()
