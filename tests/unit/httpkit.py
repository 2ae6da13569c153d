"""A tiny items API and helpers for the HTTP-layer tests (real loopback HTTP, no mocks)."""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import pairwise

import requests
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from continuum.http import (
    STATS,
    RetryPolicy,
    ThrottledAdapter,
)
from continuum.simkit import Exchange, Simulator

# Clock slack when comparing the simulator's wall-clock arrival times.
SLACK_S = 0.01


class ItemsSim(Simulator):
    """GET/POST /items, and /limited whose rate-limit headers the test chooses."""

    system = "items"
    rules = [
        Rule("/items", methods=["GET"], endpoint="list_items"),
        Rule("/items", methods=["POST"], endpoint="create_item"),
        Rule("/limited", methods=["GET"], endpoint="limited"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict[str, object]] = []
        # Called at request time, so values such as "reset in 0.6 s" are fresh.
        self.limit_headers: Callable[[], dict[str, str]] = dict

    def list_items(self, request: Request) -> Response:
        return self.json_response({"items": self.items})

    def create_item(self, request: Request) -> Response:
        item = {"id": len(self.items) + 1, **(request.get_json() or {})}
        self.items.append(item)
        return self.json_response(item, 201)

    def limited(self, request: Request) -> Response:
        return self.json_response({"ok": True}, headers=self.limit_headers())


def fast(**overrides: float) -> RetryPolicy:
    """A policy with tiny backoffs so tests stay fast."""
    values: dict[str, float] = dict(
        max_attempts=5, max_total_s=10.0, backoff_initial_s=0.01, backoff_max_s=0.05,
        connect_timeout_s=2.0, read_timeout_s=5.0,
    )
    values.update(overrides)
    return RetryPolicy(**values)  # type: ignore[arg-type]


def guarded_session(system: str, policy: RetryPolicy, limit_s: float) -> requests.Session:
    """A session whose adapter sleeps for real, but fails the test instead of sleeping past ``limit_s``.

    A broken cap would otherwise hang the test (for an hour) rather than fail it.
    """
    started = time.monotonic()

    def sleep(seconds: float) -> None:
        if time.monotonic() - started + seconds > limit_s:
            raise AssertionError(f"asked to sleep {seconds:.2f}s, past the {limit_s}s this test allows")
        time.sleep(seconds)

    session = requests.Session()
    adapter = ThrottledAdapter(system, policy, sleep=sleep)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def stats(system: str = "items") -> dict[str, float]:
    return STATS.snapshot().get(system, {})


def requests_to(sim: Simulator, method: str, path: str = "/items") -> list[Exchange]:
    """Every request that reached the simulator, faults included, in arrival order."""
    with sim.lock:
        return sorted((x for x in sim.exchanges if x.method == method and x.path == path), key=lambda x: x.at)


def wait_for_exchanges(sim: Simulator, method: str, count: int, timeout_s: float = 3.0) -> list[Exchange]:
    """Requests whose answer was delayed are recorded when the answer is ready: wait for them."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen = requests_to(sim, method)
        if len(seen) >= count or time.monotonic() > deadline:
            return seen
        time.sleep(0.02)


def gaps(exchanges: list[Exchange]) -> list[float]:
    return [b.at - a.at for a, b in pairwise(exchanges)]
