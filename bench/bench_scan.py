"""Speed of a whole scan on generated ICS calendars; prints figures, asserts nothing.

    python bench/bench_scan.py [--sizes 1000,10000] [--big]

Per size: the core (classify + workload + score + decide) as the scan runs it ("core": the
default window, the next 14 days, with 14 days of history feeding counts and load; its
"ratio" is to the bare parse + expand) and on every occurrence in the file ("all"),
the whole `calbot scan --dry-run` (default window: the next 14 days) with a cold ICS cache,
again with the cache it left ("rescan": the file unchanged), and over the file's last 366
days ("full": every meeting scored, drafted and printed), each in its own
process, beside the bare cost of parsing and expanding the same file with icalendar +
recurring-ical-events alone (the floor), and peak RSS. Then `calbot --help` start-up time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))
import gen_ics

ZONE = ZoneInfo("Europe/Berlin")
CONFIG = """
[user]
email = "me@example.com"
timezone = "Europe/Berlin"
own_domains = ["example.com"]

[source]
kind = "ics"
path = "{path}"

[outputs]
outbox = ""

[[clients]]
name = "Acme"
domains = ["acme.example"]
tier = "key"
language = "vi"

[[clients]]
name = "Globex"
domains = ["globex.example"]
language = "ms"

[[clients]]
name = "Initech"
domains = ["initech.example"]
chatty = true

[[clients]]
name = "Umbrella"
domains = ["umbrella.example"]
tier = "low"
"""


def window(today: date) -> tuple[datetime, datetime]:
    first, last = gen_ics.window(today)
    return (
        datetime(first.year, first.month, first.day, tzinfo=ZONE),
        datetime(last.year, last.month, last.day, tzinfo=ZONE),
    )


def child(mode: str, path: str, config: str) -> None:
    """Runs in its own process so that its peak RSS is its own."""
    start, end = window(date.today())
    began = time.perf_counter()
    extra: dict[str, float] = {}
    if mode == "bare":
        import icalendar
        import recurring_ical_events

        calendar = icalendar.Calendar.from_ical(Path(path).read_bytes())
        count = len(recurring_ical_events.of(calendar).between(start, end))
    elif mode == "core":
        extra, count = core(path, config, start, end)
    else:  # the whole command, as a user runs it
        from calbot.cli.main import main

        argv = ["scan", "--dry-run", "--config", config]
        if mode == "full":  # every event in the file scored, not just the next 14 days
            # (at most 366 days: the longest window calbot scans)
            argv += ["--from", f"{end - timedelta(days=365):%Y-%m-%d}", "--to", f"{end:%Y-%m-%d}"]
        with open("/dev/null", "w") as sink:
            code = main(argv, out=sink)
        assert code == 0, code
        count = -1
    seconds = time.perf_counter() - began
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "count": count, "rss_mib": rss, **extra}))


def core(path: str, config: str, start: datetime, end: datetime) -> tuple[dict[str, float], int]:
    """The core as `calbot scan` runs it (`score_window` + `decide_all`, default window: the
    next 14 days with 14 days of history), on the events the scan reads; then, for
    comparison, the same core on every occurrence in the file ("all")."""
    from calbot.adapters.ics import IcsSource
    from calbot.config.loader import load_settings
    from calbot.core.classify import dedupe
    from calbot.core.decide import Scene, decide_all
    from calbot.core.scan_result import Window
    from calbot.core.workload import clip_events
    from calbot.usecases.scan import score_window
    from calbot.usecases.wiring import scan_window

    settings = load_settings(Path(config))
    now = datetime.now(ZONE)
    source = IcsSource(path, "me@example.com", "Europe/Berlin")
    figures: dict[str, float] = {}
    count = 0
    for label, window in (
        ("core", scan_window(settings, now, None, None)),
        ("all", Window(start=start, end=end, history_start=start, full=True)),
    ):
        events, _ = clip_events(
            source.events(window.history_start, window.end), window.history_start, window.end
        )
        events = dedupe(events)
        began = time.perf_counter()
        workload, scored = score_window(events, settings, window)
        scene = Scene(now=now, horizon_end=window.end, workload=workload, settings=settings)
        decisions = decide_all(scored, scene)
        figures[f"{label}_s"] = time.perf_counter() - began
        figures[f"{label}_meetings"] = len(scored)
        figures[f"{label}_acted"] = sum(1 for d in decisions.values() if d.action != "none")
        count = max(count, len(events))
    return figures, count


BEFORE: list[str] = []  # --before CHECKOUT: run calbot from there instead


def run(mode: str, path: Path, config: Path, cache: Path | None = None) -> dict[str, float]:
    """One child process; `cache` its platform cache dir (a fresh one unless given)."""
    with tempfile.TemporaryDirectory() as fresh:
        env = dict(os.environ, XDG_CACHE_HOME=str(cache or fresh))
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode written once
        if BEFORE:
            env["PYTHONPATH"] = BEFORE[0]
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(path), str(config)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def startup() -> float:
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "calbot", "--help"], check=True, capture_output=True)
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also 100,000 events")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument(
        "--before", metavar="CHECKOUT", help="also the scans with calbot from this checkout"
    )
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = [int(s) for s in args.sizes.split(",")] + ([100_000] if args.big else [])
    print(
        f"{'events':>8} {'occurr.':>8} {'meetings':>9} {'all s':>7} {'core s':>7} {'ratio':>6} "
        f"{'bare s':>7} "
        f"{'scan s':>7} {'ratio':>6} {'rescan':>7} {'ratio':>6} {'full s':>7} {'ratio':>6} "
        f"{'bare MiB':>9} {'scan MiB':>9} {'full MiB':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"bench_{n}.ics"
            path.write_text(gen_ics.generate(n, date.today()), encoding="utf-8", newline="")
            config = Path(tmp) / f"bench_{n}.toml"
            config.write_text(CONFIG.format(path=path), encoding="utf-8")
            core_run = run("core", path, config)
            bare = run("bare", path, config)
            cache = Path(tmp) / f"cache_{n}"
            scan = run("scan", path, config, cache)  # a cold cache: parses, keeps
            rescan = run("scan", path, config, cache)  # the file unchanged: from the cache
            full = run("full", path, config)
            if args.before:
                BEFORE.append(args.before)
                old_cache = Path(tmp) / f"old_cache_{n}"
                old = (run("scan", path, config, old_cache), run("scan", path, config, old_cache))
                BEFORE.clear()
            print(
                f"{n:>8} {int(core_run['count']):>8} {int(core_run['all_meetings']):>9} "
                f"{core_run['all_s']:>7.2f} {core_run['core_s']:>7.3f} "
                f"{core_run['core_s'] / bare['seconds']:>6.3f} "
                f"{bare['seconds']:>7.2f} {scan['seconds']:>7.2f} "
                f"{scan['seconds'] / bare['seconds']:>6.2f} {rescan['seconds']:>7.2f} "
                f"{rescan['seconds'] / bare['seconds']:>6.2f} {full['seconds']:>7.2f} "
                f"{full['seconds'] / bare['seconds']:>6.2f} {bare['rss_mib']:>9.0f} "
                f"{scan['rss_mib']:>9.0f} {full['rss_mib']:>9.0f}",
                flush=True,
            )
            if args.before:
                print(
                    f"{'before:':>36} {old[0]['seconds']:>7.2f} "
                    f"{old[0]['seconds'] / bare['seconds']:>6.2f} {old[1]['seconds']:>7.2f} "
                    f"{old[1]['seconds'] / bare['seconds']:>6.2f} {'':>14} {'':>9} "
                    f"{old[0]['rss_mib']:>9.0f}",
                    flush=True,
                )
    print(f"\n`calbot --help` start-up: {startup() * 1000:.0f} ms (best of 5)")


if __name__ == "__main__":
    main()
