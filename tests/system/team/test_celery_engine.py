"""Team mode's engine with REAL processes: `celery -A calbot.team worker --pool=prefork -c 2`
and `celery -A calbot.team beat`, on a real PostgreSQL and Redis, the many-user fake Google
(per-user data). Rounds are started by making every user due in PostgreSQL (the beat's clock
is real); everything is polled with deadlines, never a fixed sleep."""

from __future__ import annotations

import io
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes.team import TeamFakeGoogle
from servers.celery_procs import wait_for
from servers.postgres_server import PostgresServer
from servers.redis_server import RedisServer
from servers.team_engine import (
    DEFAULTS,
    ROUND_SECONDS,
    WRITES,
    Engine,
    digest_drafts,
    drafts_per_user,
    single_user_drafts,
)

from calbot.cli.main import main
from calbot.team.pg_store import connect
from calbot.team.pg_users import load_digest
from calbot.team.secrets import new_key
from calbot.usecases.sink_duplicates import CREATE_SETTLES


@pytest.fixture
def engine(
    team_google: TeamFakeGoogle,
    team_db: str,
    redis_server: RedisServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Engine]:
    key_file = tmp_path / "service-account.json"
    team_google.write_service_account(key_file)
    secret = new_key()
    monkeypatch.setenv("CALBOT_SECRET_KEY", secret)  # `calbot team status` in this process
    config = tmp_path / "team.toml"
    config.write_text(
        f'[team]\ndatabase_url = "{team_db}"\nbroker_url = "{redis_server.url}"\n\n'
        f'[google]\nservice_account_file = "{key_file}"\napi_root = "{team_google.root}"\n\n'
        "[engine]\ntick_seconds = 1\nvisibility_timeout_seconds = 15\n" + DEFAULTS,
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALBOT_", "PYTEST", "COV"))}
    env.update(CALBOT_TEAM_CONFIG=str(config), CALBOT_SECRET_KEY=secret)
    private_key = json.loads(key_file.read_text())["private_key"]
    body = private_key.split("-----")[2].strip().splitlines()[1]
    eng = Engine(team_google, tmp_path, config, team_db, redis_server.url, env, (secret, body))
    try:
        yield eng
    finally:
        for proc in eng.procs:
            proc.stop()


def test_fifty_users_get_the_single_user_drafts_then_a_quiet_second_round(
    engine: Engine, tmp_path: Path
) -> None:
    # a long scan_every: a user's own slot rarely falls inside the test (when it does, that
    # user is rightly scanned once more, and the counts below allow for it)
    engine.tune(extra='\n[defaults.schedule]\nscan_every = "7 days"\n')
    engine.add_users(52)
    expected = single_user_drafts(engine, engine.users[0], tmp_path)
    assert expected > 0  # an overloaded day: the test can fail
    engine.fake.clear_log()
    engine.worker("w1")
    start = datetime.now(UTC) - timedelta(seconds=1)
    engine.beat()
    wait_for("round 1", lambda: engine.round_done(start), ROUND_SECONDS)
    assert drafts_per_user(engine) == {u: expected for u in engine.users}
    rows = engine.rows()
    assert {r["outcome"] for r in rows.values()} == {"ok"}
    # the next round is on each user's own offset within scan_every (7 days), spread out
    nexts = [r["next_scan"] for r in rows.values()]
    assert all(start < n <= start + timedelta(days=7, minutes=1) for n in nexts)
    assert len({n.replace(microsecond=0) for n in nexts}) > 40
    assert all(r["next_digest"] is not None for r in rows.values())
    n = len(engine.users)
    scans = wait_for("log lines", lambda: len(engine.scans()) >= n and engine.scans(), 30)
    assert set(d["user"] for d in scans if d["outcome"] == "ok") == set(engine.users)
    assert all(d["requests"] > 0 and d["drafts"] == expected for d in scans)

    engine.fake.clear_log()
    first_round_lines = len(scans)
    mark = len(engine.fake.user_requests)  # clear_log keeps the per-user log
    since = engine.due_now()
    wait_for("round 2", lambda: engine.round_done(since), ROUND_SECONDS)
    wait_for("log lines", lambda: len(engine.scans()) >= first_round_lines + n, 30)
    second = engine.scans()[first_round_lines:]
    round_two = engine.fake.user_requests[mark:]
    lists = Counter(u for u, route, _ in round_two if route == "calendar.events.list")
    # one events.list per user calendar per scan, and every user scanned
    assert lists == Counter(d["user"] for d in second if d["outcome"] == "ok")
    assert set(lists) == set(engine.users)
    assert sum(engine.fake.count(r) for r in WRITES) == 0
    assert drafts_per_user(engine) == {u: expected for u in engine.users}
    assert all(d["drafted"] == 0 for d in second)

    # a digest falls due: the task builds it and keeps it on the user's row
    conn = connect(engine.url)
    try:
        conn.execute("UPDATE users SET next_digest_at = now() WHERE email = %s", (engine.users[0],))

        def digested() -> Any:
            lines = [d for p in engine.procs for d in p.task_lines() if d["kind"] == "digest"]
            return lines and load_digest(conn, 1)

        wait_for("a digest", digested, 60)
        digests = [d for p in engine.procs for d in p.task_lines() if d["kind"] == "digest"]
        assert [(d["user"], d["outcome"]) for d in digests] == [(engine.users[0], "ok")]
        assert "Acme" in load_digest(conn, 1)[0]  # type: ignore[index]
        # ... and leaves its Gmail copy (gmail_drafts is on), through the budgets
        assert digests[0]["gmail"] == "new" and digests[0]["requests"] > 0
        copies = digest_drafts(engine.fake, engine.users[0])
        assert len(copies) == 1

        # the same digest task again the same day (a redelivery, its row never committed):
        # the copy is found by its Message-ID and rewritten, never a second one
        conn.execute(
            "UPDATE users SET digest_html = NULL, next_digest_at = now() WHERE email = %s",
            (engine.users[0],),
        )

        def redone() -> Any:
            lines = [d for p in engine.procs for d in p.task_lines() if d["kind"] == "digest"]
            return len(lines) >= 2 and load_digest(conn, 1) and lines

        lines = wait_for("the digest again", redone, 60)
        assert [d["gmail"] for d in lines] == ["new", "updated"]
        assert digest_drafts(engine.fake, engine.users[0]) == copies
    finally:
        conn.close()

    # `team status` shows the next due times; nothing secret in any log, message or output
    out = io.StringIO()
    assert main(["team", "status", "--team-config", str(engine.config)], out=out) == 0
    assert out.getvalue().count(" UTC") >= 3 * len(engine.users)  # last, next scan, digest
    assert "\t-\t" not in out.getvalue()
    engine.check_no_secrets()


def ok_scans_per_user(engine: Engine) -> dict[str, int]:
    counts = dict.fromkeys(engine.users, 0)
    for d in engine.scans():
        if d["outcome"] == "ok":
            counts[d["user"]] += 1
    return counts


def test_a_worker_killed_mid_round_has_its_tasks_redelivered_and_no_draft_doubled(
    engine: Engine, tmp_path: Path
) -> None:
    engine.tune(visibility_timeout=6)
    engine.add_users(12)
    expected = single_user_drafts(engine, engine.users[0], tmp_path)
    doomed = engine.worker("w1")
    start = datetime.now(UTC) - timedelta(seconds=1)
    engine.beat()

    def some_drafts() -> bool:
        counts = drafts_per_user(engine)
        return sum(counts.values()) >= 2 and not engine.round_done(start)

    wait_for("a round under way", some_drafts, 60, every=0.05)
    doomed.kill()  # SIGKILL: the worker and its pool processes, mid-scan
    # what w1 held is still in Redis: scan messages whose arguments are a user id, no more
    held = engine.queued()
    scans = [json.loads(m["body"]) for _, m in held if m["task"] == "calbot.scan"]
    assert scans and all(args == [[int(args[0][0])], {}] for *args, _ in scans)
    engine.check_no_secrets()
    engine.worker("w2")
    # w1's unacknowledged tasks come back after the visibility timeout (6 s here)
    wait_for("the round, redelivered", lambda: engine.round_done(start), ROUND_SECONDS)
    # the tasks w1 had taken and never finished ran again, on w2
    taken = set(re.findall(r"calbot\.scan\[([0-9a-f-]+)\] received", doomed.text()))
    unfinished = taken - {d["task_id"] for d in doomed.task_lines() if d["kind"] == "scan"}
    assert unfinished
    # each comes back when w2's consumer restores the unacknowledged messages, which may be
    # after the round was already completed by other tasks: wait for them, with a deadline
    w2 = engine.procs[-1]
    wait_for(
        "w1's unfinished tasks, run again on w2",
        lambda: unfinished <= {d.get("task_id") for d in w2.task_lines()},
        ROUND_SECONDS,
    )
    assert {r["outcome"] for r in engine.rows().values()} == {"ok"}
    counts = drafts_per_user(engine)
    assert max(counts.values()) == expected  # never doubled
    # a user killed between writing down a create and Gmail's answer has no draft yet: that
    # create may still land, so none is made again until CREATE_SETTLES has gone by
    short = {u for u, n in counts.items() if n < expected}
    assert short <= set(engine.pending_creates())
    engine.age_pending_creates(CREATE_SETTLES)
    again = engine.due_now()
    wait_for("a round after the creates settled", lambda: engine.round_done(again), ROUND_SECONDS)
    seen: dict[str, int] = {}

    def all_drafts() -> bool:
        seen.update(drafts_per_user(engine))
        return seen == dict.fromkeys(engine.users, expected)

    try:
        wait_for("every user's drafts", all_drafts, 60)
    except AssertionError as e:
        odd = {u: n for u, n in seen.items() if n != expected}
        raise AssertionError(f"{e}; expected {expected} each, these differ: {odd}") from None
    assert not engine.pending_creates()
    # nothing doubled: each draft once, whatever ran twice
    for user in engine.users:
        subjects = [d.get("subject", d.get("id")) for d in engine.fake.drafts_of(user).values()]
        assert len(subjects) == expected
    engine.check_no_secrets()


def test_two_beats_and_two_workers_scan_each_user_once_per_round_within_budgets(
    engine: Engine, tmp_path: Path
) -> None:
    """Also: a user whose delegation was revoked and one whose config broke are in `team
    status` with the fix, and nobody else notices."""
    window, per_user, per_project = 1.0, 3, 6
    # no user's own slot within `scan_every` falls inside the test: only the rounds it starts
    engine.tune(visibility_timeout=120, extra='\n[defaults.schedule]\nscan_every = "7 days"\n')
    engine.config.write_text(
        engine.config.read_text(encoding="utf-8").replace(
            "[engine]",
            f"[limits]\nrequests_per_minute_per_user = {per_user * 60}\n"
            f"requests_per_minute_per_project = {per_project * 60}\n"
            f"budget_window_seconds = {window}\n\n[engine]",
        ),
        encoding="utf-8",
    )
    engine.add_users(10)
    expected = single_user_drafts(engine, engine.users[0], tmp_path)
    revoked, broken = engine.users[1], engine.users[2]
    engine.fake.revoke_delegation(revoked)
    conn = connect(engine.url)
    conn.execute(
        "UPDATE users SET config = config || %s WHERE email = %s",
        ('\n[limits]\nlock_wait_seconds = "soon"\n', broken),
    )
    conn.close()
    healthy = [u for u in engine.users if u not in (revoked, broken)]
    mark = len(engine.fake.user_requests)
    engine.worker("w1")
    engine.worker("w2")
    start = datetime.now(UTC) - timedelta(seconds=1)
    engine.beat("beat1")
    engine.beat("beat2")
    wait_for("round 1", lambda: engine.round_done(start), ROUND_SECONDS)
    since = engine.due_now()
    wait_for("round 2", lambda: engine.round_done(since), ROUND_SECONDS)
    n = len(engine.users)
    wait_for("log lines", lambda: len(engine.scans()) >= 2 * n, 30)

    # each round claimed once: the ticks of both beats enqueued 2 scans per user in all
    ticks = [d for p in engine.procs for d in p.task_lines() if d.get("kind") == "tick"]
    assert sum(d["scans"] for d in ticks) == 2 * n
    assert ok_scans_per_user(engine) == {u: 2 if u in healthy else 0 for u in engine.users}
    assert drafts_per_user(engine) == {u: expected if u in healthy else 0 for u in engine.users}

    # both the user's and the project's budgets held across 4 processes (the fake's witness)
    from test_budgets import most_in_any_window  # type: ignore[import-not-found]

    requests = engine.fake.user_requests[mark:]
    slack = 0.4  # arrival at the fake trails the grant unevenly
    for user in healthy:
        arrivals = [at for u, _, at in requests if u == user]
        assert most_in_any_window(arrivals, window - slack) <= per_user, user
    assert most_in_any_window([at for _, _, at in requests], window - slack) <= per_project

    out = io.StringIO()
    assert main(["team", "status", "--json", "--team-config", str(engine.config)], out=out) == 0
    status = {u["email"]: u for u in json.loads(out.getvalue())}
    assert status[revoked]["outcome"] == "auth"
    assert "Domain-wide delegation" in status[revoked]["fix"]
    assert status[broken]["outcome"] == "failed" and "lock_wait_seconds" in status[broken]["error"]
    assert "add-user" in status[broken]["fix"]
    assert all(status[u]["outcome"] == "ok" and status[u]["error"] is None for u in healthy)
    engine.check_no_secrets()


def test_redis_then_postgres_restarted_mid_round_lose_and_double_nothing(
    engine: Engine, tmp_path: Path, redis_server: RedisServer, pg_cluster: PostgresServer
) -> None:
    engine.tune(visibility_timeout=30)
    engine.add_users(12)
    expected = single_user_drafts(engine, engine.users[0], tmp_path)
    want = dict.fromkeys(engine.users, expected)
    engine.worker("w1")
    start = datetime.now(UTC) - timedelta(seconds=1)
    engine.beat()

    def under_way(at_least: int) -> Any:
        return lambda: sum(drafts_per_user(engine).values()) >= at_least

    wait_for("round 1 under way", under_way(2), 60, every=0.05)
    redis_server.restart()
    wait_for("round 1 done", lambda: engine.round_done(start), ROUND_SECONDS)
    settle(engine, want)

    since = engine.due_now()  # round 2: rescans (reads, no writes), cut by a restart

    def rescanned(at_least: int) -> Any:
        return lambda: sum(r["last"] >= since for r in engine.rows().values()) >= at_least

    wait_for("round 2 under way", rescanned(2), 60, every=0.05)
    pg_cluster.restart()
    wait_for("round 2 done", lambda: engine.round_done(since), ROUND_SECONDS)
    settle(engine, want)
    engine.check_no_secrets()


def settle(engine: Engine, want: dict[str, int]) -> None:
    """Nothing lost: every user's scan of the round succeeded (a scan cut by a restart ran
    again: the Redis client retries, a task whose database went away is retried); nothing
    doubled: exactly `want` drafts."""
    assert {r["outcome"] for r in engine.rows().values()} == {"ok"}
    assert drafts_per_user(engine) == want
