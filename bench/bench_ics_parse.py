"""How much IcsSource.events() costs over bare icalendar + recurring-ical-events.

    python bench/bench_ics_parse.py [--big] [--sizes 1000,10000]

For each size, a calendar from `gen_ics.generate` is written to a temp dir, then two fresh
subprocesses each read it once over the whole generated window:
  bare    icalendar.Calendar.from_ical + recurring_ical_events.of(cal).between(start, end)
  calbot  IcsSource(path, ...).events(start, end), materialised as a list
and report wall time and peak RSS (ru_maxrss). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import gen_ics  # noqa: E402 - needs the path above

TODAY = date(2025, 6, 2)
ZONE = "Europe/Berlin"


def _window() -> tuple[datetime, datetime]:
    first, last = gen_ics.window(TODAY)
    zone = ZoneInfo(ZONE)
    start = datetime(first.year, first.month, first.day, tzinfo=zone)
    end = datetime(last.year, last.month, last.day, tzinfo=zone)
    return start, end


def child(mode: str, path: str) -> None:
    start, end = _window()
    began = time.perf_counter()
    if mode == "bare":
        import icalendar
        import recurring_ical_events

        calendar = icalendar.Calendar.from_ical(Path(path).read_bytes())
        count = len(recurring_ical_events.of(calendar).between(start, end))
    else:
        from calbot.adapters.ics import IcsSource

        source = IcsSource(path, "me@example.com", ZONE)
        count = len(list(source.events(start, end)))
    seconds = time.perf_counter() - began
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "count": count, "rss_mib": rss_kib / 1024}))


def run(mode: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="also 100,000 events")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    sizes = [int(s) for s in args.sizes.split(",")] + ([100_000] if args.big else [])
    print(
        f"{'events':>8} {'occurr.':>8} {'bare s':>8} {'calbot s':>9} {'ratio':>6} "
        f"{'bare MiB':>9} {'calbot MiB':>11} {'file MiB':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"bench_{n}.ics"
            path.write_text(gen_ics.generate(n, TODAY), encoding="utf-8", newline="")
            bare = run("bare", path)
            ours = run("calbot", path)
            ratio = ours["seconds"] / bare["seconds"]
            print(
                f"{n:>8} {int(ours['count']):>8} {bare['seconds']:>8.2f} "
                f"{ours['seconds']:>9.2f} {ratio:>6.2f} {bare['rss_mib']:>9.0f} "
                f"{ours['rss_mib']:>11.0f} {path.stat().st_size / 2**20:>9.1f}",
                flush=True,
            )
            if int(bare["count"]) != int(ours["count"]):
                print(f"         note: bare found {int(bare['count'])} occurrences")


if __name__ == "__main__":
    main()
