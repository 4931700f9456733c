"""Drafts benchmark: a `calbot scan` (the CLI's own wiring, SQLite state) where 500 client
meetings need a reply, written as Gmail drafts (and a calendar note on each meeting) on the
fake Google server; then an unchanged rescan, each scan a fresh `python -m calbot` process.
Prints drafts per second and the requests per route. Asserts nothing.

The fake runs in its own subprocess (so its work is not counted as calbot's).

    python bench/bench_drafts.py               # 500 meetings
    python bench/bench_drafts.py --meetings 100
    python bench/bench_drafts.py --rounds 3    # each round a fresh process; medians
    python bench/bench_drafts.py --rounds 5 --before /tmp/before   # rounds alternate trees

Each figure is a ratio to bare `googleapiclient` pairs measured in the same round, so a
machine that slows down slows both; the spread (min-max over rounds) says how far to trust
a median. CPU figures (each scan process's own CPU time; the bare loop's, in this
process) move far less than wall time on a busy machine: they tell whether a change cut
calbot's own work.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Europe/Berlin")
WRITES = (
    "gmail.drafts.create",
    "gmail.drafts.update",
    "gmail.drafts.delete",
    "calendar.events.patch",  # the calendar note beside each draft
)


def serve(n: int, token_file: str) -> None:
    """Child: the fake with n client meetings over the next two working weeks; prints its
    root, then answers "counts" (requests per route, JSON) and "clear" on stdin."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.google import FakeGoogle

    fake = FakeGoogle()
    fake.start()
    days = [d for d in _next_days(21) if d.weekday() < 5][:10]
    per_day = -(-n // len(days))
    for i in range(n):
        day = days[i // per_day]
        slot = i % per_day
        start = datetime(day.year, day.month, day.day, 8, tzinfo=TZ) + timedelta(minutes=12 * slot)
        client = i % 20
        fake.add_event(
            summary=f"Client {client} sync {i}",
            description="Agenda: status, next steps.",
            start={"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
            end={
                "dateTime": (start + timedelta(minutes=90)).isoformat(),
                "timeZone": "Europe/Berlin",
            },
            organizer={"email": f"ana{client}@client{client}.example"},
            attendees=[
                {
                    "email": f"ana{client}@client{client}.example",
                    "organizer": True,
                    "responseStatus": "accepted",
                },
                {"email": "me@example.com", "self": True, "responseStatus": "accepted"},
            ],
        )
    fake.write_token(token_file, ["calendar.events", "gmail.compose"])
    print(fake.root, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "counts":
            with fake._lock:
                counts = Counter(r.route for r in fake.requests)
            print(json.dumps(counts), flush=True)
        elif command == "clear":
            fake.clear_log()
            print("{}", flush=True)
    problems = fake.violations + fake.fake_errors
    if problems:
        print("fake saw misuse: " + "; ".join(problems[:5]), file=sys.stderr)
    fake.stop()


def _next_days(n: int) -> list[date]:
    today = datetime.now(TZ).date()
    return [today + timedelta(days=i) for i in range(1, n + 1)]


def ask(child: subprocess.Popen[str], command: str) -> dict[str, int]:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(command + "\n")
    child.stdin.flush()
    data: dict[str, int] = json.loads(child.stdout.readline())
    return data


def write_config(tmp: Path, root: str, token: Path) -> Path:
    clients = "\n".join(
        f'[[clients]]\nname = "Client {c}"\ndomains = ["client{c}.example"]\n' for c in range(20)
    )
    sys.path.insert(0, str(ROOT / "tests"))
    from builders import google_toml

    # horizon: ten working days from tomorrow can reach past the default 14
    head = google_toml(root, token, source='horizon = "in 21 days"')
    config = tmp / "calbot.toml"
    config.write_text(
        head
        + f"""
[outputs]
gmail_drafts = true
calendar_notes = true
outbox = ""

[thresholds]
act_at = 1  # every client meeting gets a proposal: this measures the drafting path

[limits]
retry_budget_seconds = 30
lock_wait_seconds = 5

{clients}
""",
        encoding="utf-8",
    )
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--meetings", type=int, default=500)
    parser.add_argument(
        "--profile", metavar="FILE", help="cProfile each scan into FILE.scan, FILE.rescan"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="rounds, each in a fresh process; prints medians"
    )
    parser.add_argument(
        "--before",
        metavar="DIR",
        help="a tree holding another calbot/ (e.g. a git archive of main): rounds alternate"
        " between it and this checkout, each figure reported for both",
    )
    parser.add_argument("--tree", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--token-file", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.meetings, args.token_file)
        return
    if args.rounds > 1 or args.before:
        rounds(args.rounds, args.meetings, args.before)
        return

    tmp = Path(tempfile.mkdtemp(prefix="calbot-bench-drafts-"))
    token = tmp / "token.json"
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            "--meetings",
            str(args.meetings),
            "--token-file",
            token,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    root = child.stdout.readline().strip()
    if not root:
        raise SystemExit("the fake Google server did not start")
    sys.path.insert(0, args.tree)  # before write_config: its builders import calbot
    config = write_config(tmp, root, token)
    # each scan is a fresh `python -m calbot` process, as a user's scans are: both pay the
    # same start-up (imports, config, wiring), so "first scan - rescan" is the drafting alone
    # (in one process the first scan alone paid the imports, charged to drafting)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(CALBOT_STATE_DIR=str(tmp / "state"), PYTHONPATH=args.tree)
    subprocess.run(  # bytecode written once, as an installed calbot has it
        [sys.executable, "-m", "compileall", "-q", str(Path(args.tree) / "calbot")],
        check=True,
        env=env,
    )
    try:
        rows: list[tuple[str, float, dict[str, int], dict[str, Any]]] = []
        cpus: list[float] = []
        for label in ("first scan", "unchanged rescan"):
            ask(child, "clear")
            argv = [sys.executable, "-m", "calbot", "scan", "--config", str(config), "--json"]
            if args.profile:
                argv[1:1] = ["-m", "cProfile", "-o", f"{args.profile}.{label.split()[-1]}"]
            wall, cpu, code, out = timed_process(argv, env, cwd=tmp)
            if code != 0:
                raise SystemExit(f"calbot scan exited {code}")
            rows.append((label, wall, ask(child, "counts"), json.loads(out)))
            cpus.append(cpu)
        bare_rate, bare_cpu = bare_pairs(root, token, args.meetings)
    finally:
        child.stdin.close()
        child.wait(timeout=30)

    print(f"{args.meetings} client meetings over 10 working days, Gmail drafts and notes on")
    for label, wall, counts, doc in rows:
        meetings = doc.get("meetings", [])
        drafted = sum(1 for m in meetings if m.get("draft"))
        created = counts.get("gmail.drafts.create", 0)
        writes = sum(counts.get(r, 0) for r in WRITES)
        rate = f"{created / wall:.0f} drafts/s" if created else "-"
        print(
            f"{label:17} {wall:6.2f} s  meetings {len(meetings)}  with a draft {drafted}"
            f"  drafts.create {created}  writes {writes}  {rate}"
        )
        print(f"{'':17} requests: {dict(sorted(counts.items()))}")
        if meetings and not drafted:
            m = meetings[0]
            print(f"{'':17} e.g. {m['client']} score {m['score']} why {m['why']!r}")
        actions = Counter(str(m.get("action")) for m in meetings)
        print(f"{'':17} actions: {dict(sorted(actions.items()))}")
    first_wall, first_counts = rows[0][1], rows[0][2]
    created = first_counts.get("gmail.drafts.create", 0)
    calbot_rate = created / first_wall
    # what the drafts add: the first scan less the rescan that reads, scores and decides
    # the same meetings (and renders their drafts) but writes nothing
    drafting_rate = created / max(first_wall - rows[1][1], 1e-9)
    print(
        f"bare googleapiclient drafts.create + events.patch: {bare_rate:.0f} pairs/s;"
        f" calbot's whole first scan / bare: {calbot_rate / bare_rate:.2f}x;"
        f" its drafting (first scan - rescan, {drafting_rate:.0f} drafts/s) / bare:"
        f" {drafting_rate / bare_rate:.2f}x (target >= 0.5x)"
    )
    # CPU per draft: what calbot's processes spend (the fake's work is not in it)
    drafting_cpu = (cpus[0] - cpus[1]) / max(created, 1)
    print(
        f"CPU: first scan {cpus[0]:.2f} s, rescan {cpus[1]:.2f} s; drafting"
        f" {drafting_cpu * 1e3:.2f} ms a draft, bare {bare_cpu * 1e3:.2f} ms a pair"
    )
    figures = {
        "whole": calbot_rate / bare_rate,
        "drafting": drafting_rate / bare_rate,
        "calbot": calbot_rate,
        "bare": bare_rate,
        "drafting_cpu_ms": drafting_cpu * 1e3,
        "bare_cpu_ms": bare_cpu * 1e3,
    }
    print("ROUND " + json.dumps(figures), flush=True)


def rounds(n: int, meetings: int, before: str | None) -> None:
    """`n` rounds per tree, each a fresh process (a fresh fake, state and imports); with
    `before`, the two trees take turns, so a machine getting busier weighs on both alike.
    Prints each figure's median and spread."""
    import statistics

    trees = [("after", str(ROOT))] + ([("before", before)] if before else [])
    got: dict[str, list[dict[str, float]]] = {name: [] for name, _ in trees}
    for i in range(n):
        for name, tree in trees if i % 2 == 0 else trees[::-1]:
            out = subprocess.run(
                [sys.executable, __file__, "--meetings", str(meetings), "--tree", tree],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            print(f"[{name}]\n{out}", end="", flush=True)
            got[name] += [
                json.loads(line[6:]) for line in out.splitlines() if line.startswith("ROUND ")
            ]
    for name, figures in got.items():

        def spread(key: str, fmt: str = ".2f", figures: list[dict[str, float]] = figures) -> str:
            values = [f[key] for f in figures]
            lo, mid, hi = min(values), statistics.median(values), max(values)
            return f"{mid:{fmt}} ({lo:{fmt}}-{hi:{fmt}})"

        print(
            f"{name}: median (min-max) of {len(figures)}: whole first scan"
            f" {spread('calbot', '.0f')} drafts/s, bare {spread('bare', '.0f')} pairs/s,"
            f" whole/bare {spread('whole')}x; drafting/bare {spread('drafting')}x"
            f" (target >= 0.5x); CPU ms: drafting {spread('drafting_cpu_ms')} a draft,"
            f" bare {spread('bare_cpu_ms')} a pair"
        )


def timed_process(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds, exit code, stdout) of one child process (its own CPU,
    from wait4). `cwd` away from any checkout: `python -m` puts it first on the path."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if code != 0:
            sys.stderr.write(err.read().decode(errors="replace")[-2000:])
        return wall, usage.ru_utime + usage.ru_stime, code, out.read().decode()


def bare_pairs(root: str, token: Path, n: int) -> tuple[float, float]:
    """(pairs per second, CPU seconds a pair) of `drafts.create` (a small MIME message) +
    `events.patch` (a private property, as calbot's note) with googleapiclient alone, one
    Resource each, on the same fake."""
    import base64

    import google_auth_httplib2  # type: ignore[import-untyped]
    import httplib2
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    info = json.loads(token.read_text(encoding="utf-8"))
    creds = Credentials.from_authorized_user_info(info)

    def client(api: str, version: str, endpoint: str) -> Any:
        http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http())
        options = {"api_endpoint": endpoint}
        return build(api, version, http=http, static_discovery=True, client_options=options)

    events = client("calendar", "v3", root + "calendar/v3/").events()
    drafts = client("gmail", "v1", root).users().drafts()
    ids = [
        e["id"]
        for e in events.list(calendarId="primary", maxResults=2500, fields="items(id)")
        .execute()
        .get("items", [])
    ][:n]
    t0, c0 = time.perf_counter(), time.process_time()
    for i, event_id in enumerate(ids):
        raw = f"To: a@b.example\r\nSubject: bare {i}\r\n\r\nHello {i}\r\n".encode()
        body = {"message": {"raw": base64.urlsafe_b64encode(raw).decode()}}
        drafts.create(userId="me", body=body, fields="id,message/id").execute()
        note = {"extendedProperties": {"private": {"calbot": f"note {i}"}}}
        events.patch(
            calendarId="primary", eventId=event_id, body=note, sendUpdates="none", fields="id"
        ).execute()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return len(ids) / wall, cpu / max(len(ids), 1)


if __name__ == "__main__":
    main()
