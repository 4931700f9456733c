"""Shared request budgets in Redis: per user and per project, taken before every Google
request by every worker, so any number of workers stays inside Google's quotas.

A small Lua script keeps one sorted set per budget (a sliding log: one entry per request,
scored by the Redis server's clock, so workers on different machines share one clock). It
takes a request from the user's and the project's budget together, atomically, only when
both have room: no request is ever counted against one and refused by the other. Any window
of `budget_window_seconds` then holds at most the budget's count of requests — a guarantee
a token bucket (which allows a burst of twice its size across a window) does not give.
Why not the `limits` library's moving window: it takes one limit at a time, and two
separate takes would leak the user's budget whenever the project's was full.

Token requests are not counted (`BudgetedHttp` wraps the authorized transport, outside
google-auth's own refresh); every API request is, retries included.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

from calbot.errors import ServiceError
from calbot.team.config import TeamLimits

__all__ = ["BudgetExhausted", "BudgetedHttp", "Budgets", "Grant"]

# KEYS: the budgets' sorted sets. ARGV[1]: the window in microseconds; ARGV[2..]: each
# key's limit; last ARGV: this request's unique member. Returns {granted, wait_us, now_us}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local member = ARGV[#KEYS + 2]
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[i + 1]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return {0, wait, now} end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.floor(window / 1000) + 1000)
end
return {1, 0, now}
"""


class BudgetExhausted(ServiceError):
    """No room in a budget before the deadline (exit 4, like a Google that keeps failing)."""


@dataclass(frozen=True, slots=True)
class Grant:
    granted: bool
    wait_seconds: float  # until the oldest counted request leaves the window
    at_us: int  # the Redis server's clock, microseconds


class Budgets:
    def __init__(
        self,
        client: redis.Redis,
        *,
        per_user: int,
        per_project: int,
        window_seconds: float,
        prefix: str = "calbot:budget",
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.per_user, self.per_project = per_user, per_project
        self.window_us = max(1, round(window_seconds * 1_000_000))
        self.prefix = prefix
        self.sleep, self.monotonic = sleep, monotonic
        self._script = client.register_script(_TAKE)

    @classmethod
    def from_limits(cls, client: redis.Redis, limits: TeamLimits, **kw: Any) -> Budgets:
        """The team config's per-minute budgets as counts per `budget_window_seconds`."""
        return cls(
            client,
            per_user=limits.per_window(limits.requests_per_minute_per_user),
            per_project=limits.per_window(limits.requests_per_minute_per_project),
            window_seconds=limits.budget_window_seconds,
            **kw,
        )

    def try_take(self, user: str) -> Grant:
        """One request from `user`'s and the project's budgets, or how long until room."""
        keys = [f"{self.prefix}:user:{user}", f"{self.prefix}:project"]
        args: list[int | str] = [self.window_us, self.per_user, self.per_project, uuid.uuid4().hex]
        granted, wait_us, now_us = self._script(keys=keys, args=args)
        return Grant(bool(granted), int(wait_us) / 1_000_000, int(now_us))

    def take(self, user: str, *, timeout: float) -> Grant:
        """Wait for room (as long as the budgets say, at most `timeout` in all), then take
        one request. BudgetExhausted when the deadline comes first."""
        deadline = self.monotonic() + timeout
        while True:
            grant = self.try_take(user)
            if grant.granted:
                return grant
            left = deadline - self.monotonic()
            if left <= 0:
                raise BudgetExhausted(
                    f"request budget for {user} still full after {timeout:g} s — lower the "
                    "scan frequency or raise [limits] requests_per_minute_* (under Google's "
                    "quotas)"
                )
            # a little jitter: waiting workers do not all come back on the same microsecond
            self.sleep(min(left, grant.wait_seconds + random.uniform(0, 0.01)))  # noqa: S311


class BudgetedHttp:
    """An authorized httplib2-style transport that takes a budget before each request.

    Wrap google-auth's `AuthorizedHttp` (whose token refreshes use its own inner transport,
    so they are not counted) and hand this to `googleapiclient.discovery.build(http=...)`."""

    def __init__(self, inner: Any, budgets: Budgets, user: str, *, timeout: float) -> None:
        self._inner, self._budgets, self._user, self._timeout = inner, budgets, user, timeout
        self.taken = 0

    def request(self, uri: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        self._budgets.take(self._user, timeout=self._timeout)
        self.taken += 1
        return self._inner.request(uri, method, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # timeout, credentials, close, ...
        return getattr(self._inner, name)
