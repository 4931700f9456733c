"""Shared request budgets against a real redis-server: with several processes and threads
hammering, no user (and not the project) ever exceeds its budget in any window — checked on
the Redis clock, and end to end on the fake Google's own request log."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import google_auth_httplib2
import httplib2
import redis
from fakes.team import TeamFakeGoogle, api_client, at
from servers.redis_server import RedisServer

from calbot.team.budgets import BudgetedHttp, Budgets
from calbot.team.credentials import ServiceAccountKey

USERS = ("ana@agency.example", "bo@agency.example", "cy@agency.example")
EVENTS = "https://www.googleapis.com/auth/calendar.events"


def most_in_any_window(times: list[float], window: float) -> int:
    """The most entries in any half-open window [t, t + window)."""
    times = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most


def hammer(url: str, seconds: float, threads: int, out: Any) -> None:
    """One worker process: `threads` threads taking budgets for every user in turn."""
    budgets = Budgets(redis.Redis.from_url(url), per_user=5, per_project=12, window_seconds=1.0)
    grants: list[tuple[str, int]] = []
    lock = threading.Lock()

    def run(offset: int) -> None:
        stop = time.monotonic() + seconds
        i = offset
        while time.monotonic() < stop:
            user = USERS[i % len(USERS)]
            i += 1
            grant = budgets.try_take(user)
            if grant.granted:
                with lock:
                    grants.append((user, grant.at_us))
            else:
                time.sleep(min(grant.wait_seconds, 0.02))

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put(grants)


def test_no_user_or_project_exceeds_its_budget_in_any_window(redis_server: RedisServer) -> None:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=hammer, args=(redis_server.url, 2.5, 3, out)) for _ in range(3)]
    for p in procs:
        p.start()
    grants = [g for _ in procs for g in out.get(timeout=60)]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    window_us = 1_000_000
    for user in USERS:
        mine = [t for u, t in grants if u == user]
        assert most_in_any_window(mine, window_us) <= 5, user
    assert most_in_any_window([t for _, t in grants], window_us) <= 12
    # and the budgets were used, not just refused: 2.5 s ≈ 3 windows of 12
    assert len(grants) >= 24


def test_budgets_hold_end_to_end_on_the_fakes_request_log(
    redis_server: RedisServer, team_google: TeamFakeGoogle, tmp_path: Path
) -> None:
    key_path = tmp_path / "sa.json"
    team_google.write_service_account(key_path)
    key = ServiceAccountKey.load(key_path)
    for user in USERS[:2]:
        with team_google.as_user(user):
            team_google.add_event(summary=f"{user} meeting", start=at(9), end=at(10))
    window, per_user = 1.5, 4
    taken: list[int] = []

    def worker(user: str) -> None:
        budgets = Budgets(
            redis.Redis.from_url(redis_server.url),
            per_user=per_user,
            per_project=100,
            window_seconds=window,
        )
        creds = key.for_user(user, [EVENTS])
        authorized = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=10))
        http = BudgetedHttp(authorized, budgets, user, timeout=30)
        calendar = api_client(team_google, creds)
        stop = time.monotonic() + 3.2
        while time.monotonic() < stop:
            calendar.events().list(calendarId="primary").execute(http=http)
        taken.append(http.taken)

    threads = [threading.Thread(target=worker, args=(u,)) for u in USERS[:2] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    slack = 0.4  # arrival at the fake trails the grant unevenly (ms, more on a busy machine)
    for user in USERS[:2]:
        arrivals = [at_ for route, at_ in team_google.requests_of(user)]
        assert most_in_any_window(arrivals, window - slack) <= per_user, user
        assert len(arrivals) >= 2 * per_user  # at least two windows' worth got through
    # token requests are not counted: every budget taken is one API request at the fake
    assert sum(taken) == len(team_google.user_requests)
    assert team_google.count("oauth.token") >= 2


def test_take_waits_for_room_then_gives_up_at_its_deadline(redis_server: RedisServer) -> None:
    from calbot.team.budgets import BudgetExhausted

    budgets = Budgets(
        redis.Redis.from_url(redis_server.url), per_user=1, per_project=10, window_seconds=0.3
    )
    first = budgets.take(USERS[0], timeout=0)
    second = budgets.take(USERS[0], timeout=5)  # waits until the first leaves the window
    assert second.at_us - first.at_us >= 300_000
    try:
        budgets.take(USERS[0], timeout=0)
    except BudgetExhausted as exc:
        assert exc.exit_code == 4 and USERS[0] in str(exc)
    else:
        raise AssertionError("a full budget with no time left must refuse")
    assert budgets.take(USERS[1], timeout=0).granted  # another user's budget is its own
