"""Team mode's throughput: real `celery -A calbot.team worker` / `beat` processes over a real
PostgreSQL and Redis and the many-user fake Google; prints figures, asserts nothing.

    python bench/bench_team.py [--users 1000] [--events 200] [--procs 1,2]

Per pool size (`worker --pool=prefork -c N`, a fresh database each): a first round (full
sync, drafts made) and an unchanged second round, each started by making every user due;
users scanned per minute, Google requests per user (from the tasks' JSON lines), p50/p95
scan time, peak RSS per worker process (VmHWM), most PostgreSQL connections seen. Then a
projection for 4 processes and for 10,000 users every 30 minutes against Google's 10,000
requests/minute project quota. Needs PostgreSQL, Redis (`apt-get install -y postgresql
redis-server`) and the `team` extra; as root, PostgreSQL runs as `postgres`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from servers.team_engine import team_defaults  # noqa: E402

TZ = ZoneInfo("Europe/Berlin")
# the team rig's [defaults] (tests/servers/team_engine.py), scans retrying up to a minute
DEFAULTS = team_defaults(retry_budget_seconds=60)


def seed(fake: Any, email: str, events: int) -> None:
    """`events` meetings over the coming weeks, five of them (one hour each) an overloaded Acme
    Tuesday that nothing else shares."""
    today = datetime.now(TZ).date()
    tuesday = today + timedelta(days=7 - today.weekday() + 1)
    me = {"email": email, "self": True, "responseStatus": "accepted"}
    with fake.as_user(email):
        for i in range(events):
            if i < 5:
                day, hour, who = tuesday, (9, 10, 11, 13, 14)[i], "ana@acme.example"
            else:
                day = today + timedelta(days=i % 90 - 60)  # history and a lighter month ahead
                if day == tuesday:  # leave the Acme day to Acme: its decision is the bench's
                    day += timedelta(days=1)
                hour, who = 8 + i % 9, f"p{i}@agency.example"
            minute, length = (0, 60) if i < 5 else ((i * 7) % 50, 45)
            start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)
            fake.add_event(
                summary=f"Meeting {i}",
                description="Agenda: the plan.",
                start={"dateTime": start.isoformat()},
                end={"dateTime": (start + timedelta(minutes=length)).isoformat()},
                organizer={"email": who},
                attendees=[{"email": who, "organizer": True, "responseStatus": "accepted"}, me],
            )


def peak_rss_mb(pgid: int) -> list[float]:
    """VmHWM of every process in the worker's process group (main + pool), MB."""
    peaks = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except (OSError, ProcessLookupError):
            continue
    return sorted(peaks)


def run_rounds(
    procs: int,
    args: argparse.Namespace,
    env: dict[str, str],
    fake: Any,
    url: str,
    users: list[str],
    folder: Path,
) -> dict[str, Any]:
    from servers.celery_procs import CeleryProcess

    from calbot.team.pg_store import connect

    worker = CeleryProcess(
        f"w{procs}",
        [
            "worker",
            "--pool=prefork",
            "-c",
            str(procs),
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        folder / f"w{procs}",
        env,
    ).start()
    beat = CeleryProcess(
        f"beat{procs}",
        ["beat", "--loglevel=WARNING", "--schedule", str(folder / f"beat{procs}.db")],
        folder / f"beat{procs}",
        env,
    )
    conn = connect(url)
    result: dict[str, Any] = {"procs": procs}
    try:
        beat.start()
        for name in ("first", "unchanged"):
            since = conn.execute("SELECT now()").fetchone()[0]
            lines_before = len(worker.task_lines())
            conn.execute("UPDATE users SET next_scan_at = now()")
            began = time.monotonic()
            most_conns = 0
            while True:
                done = conn.execute(
                    "SELECT count(*) FROM users WHERE last_scan_at >= %s", (since,)
                ).fetchone()[0]
                most_conns = max(
                    most_conns,
                    conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    ).fetchone()[0]
                    - 1,
                )  # not this connection
                if done >= len(users):
                    break
                if time.monotonic() - began > args.timeout:
                    raise SystemExit(f"round {name}: {done}/{len(users)} after {args.timeout} s")
                time.sleep(0.5)
            elapsed = time.monotonic() - began
            lines = [d for d in worker.task_lines()[lines_before:] if d["kind"] == "scan"]
            ok = [d for d in lines if d["outcome"] == "ok"]
            durations = sorted(d["duration_seconds"] for d in ok)
            result[name] = {
                "seconds": round(elapsed, 1),
                "users_per_minute": round(len(users) / elapsed * 60, 1),
                "requests_per_user": round(statistics.mean(d["requests"] for d in ok), 2),
                "drafts_per_user": round(statistics.mean(d.get("drafts", 0) for d in ok), 2),
                "p50_scan_s": round(statistics.median(durations), 3),
                "p95_scan_s": round(durations[int(0.95 * (len(durations) - 1))], 3),
                "failed": len(lines) - len(ok),
                "pg_connections_max": most_conns,
            }
        result["peak_rss_mb_per_process"] = [round(x) for x in peak_rss_mb(worker.proc.pid)]
    finally:
        conn.close()
        beat.stop()
        worker.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--procs", default="1,2")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    from fakes.team import TeamFakeGoogle
    from servers.pg_session import fresh_database
    from servers.postgres_server import PostgresServer, find_pg_bin
    from servers.redis_server import RedisServer, find_redis

    from calbot.team.pg_schema import migrate
    from calbot.team.pg_store import connect
    from calbot.team.pg_users import add_user
    from calbot.team.secrets import new_key

    bin_dir, redis_bin = find_pg_bin(), find_redis()
    if bin_dir is None or redis_bin is None:
        raise SystemExit("needs PostgreSQL and Redis: apt-get install -y postgresql redis-server")
    folder = Path(tempfile.mkdtemp(prefix="calbot-bench-team-"))
    pg = PostgresServer(bin_dir)
    pg.init()
    pg.start()
    redis_server = RedisServer(redis_bin, folder / "redis")
    redis_server.start()
    fake = TeamFakeGoogle()
    fake.start()
    try:
        t0 = time.monotonic()
        users = [f"u{i:05d}@agency.example" for i in range(args.users)]
        for email in users:
            seed(fake, email, args.events)
        print(
            f"seeded {args.users} users x {args.events} events in {time.monotonic() - t0:.0f} s",
            flush=True,
        )
        key_file = folder / "service-account.json"
        fake.write_service_account(key_file)
        results = []
        for procs in [int(p) for p in args.procs.split(",")]:
            url = fresh_database(pg)
            conn = connect(url)
            migrate(conn)
            for email in users:
                add_user(conn, email, f'[user]\nemail = "{email}"\nname = "U"\n')
            conn.close()
            for email in users:  # every run starts from no drafts
                with fake.as_user(email):
                    fake.drafts.clear()
            config = folder / f"team-{procs}.toml"
            config.write_text(
                f'[team]\ndatabase_url = "{url}"\nbroker_url = "{redis_server.url}"\n\n'
                f'[google]\nservice_account_file = "{key_file}"\napi_root = "{fake.root}"\n\n'
                "[limits]\nrequests_per_minute_per_user = 500\n"
                "requests_per_minute_per_project = 8000\n\n"
                "[engine]\ntick_seconds = 1\nvisibility_timeout_seconds = 1800\n" + DEFAULTS,
                encoding="utf-8",
            )
            env = {k: v for k, v in os.environ.items() if not k.startswith("CALBOT_")}
            env.update(CALBOT_TEAM_CONFIG=str(config), CALBOT_SECRET_KEY=new_key())
            result = run_rounds(procs, args, env, fake, url, users, folder)
            results.append(result)
            print(json.dumps(result), flush=True)
        project(results, args.users)
    finally:
        fake.stop()
        redis_server.stop()
        pg.stop()
        pg.remove()


def project(results: list[dict[str, Any]], users: int) -> None:
    """Scans are bound by CPU (calbot's own work and the fake's): project linearly in
    processes from the best measured per-process rate (an upper bound: PostgreSQL, Redis and
    Google latency are not in it)."""
    best = max(r["first"]["users_per_minute"] / r["procs"] for r in results)
    steady = max(r["unchanged"]["users_per_minute"] / r["procs"] for r in results)
    req_first = max(r["first"]["requests_per_user"] for r in results)
    req_steady = max(r["unchanged"]["requests_per_user"] for r in results)
    print(
        f"projection, 4 processes: first round {4 * best:.0f} users/min, "
        f"unchanged {4 * steady:.0f} users/min"
    )
    need = 10_000 / 30  # users per minute, 10,000 users every 30 minutes
    print(
        f"projection, 10,000 users every 30 min: {need:.0f} users/min needs "
        f"{need / steady:.1f} processes (unchanged rounds), "
        f"{need * req_steady:.0f} Google requests/min of the 10,000/min project quota "
        f"(first round: {need * req_first:.0f}/min if all at once; "
        "the 8,000/min budget spreads it)"
    )
    print(f"measured with {users} users")


if __name__ == "__main__":
    main()
