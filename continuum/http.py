"""The one HTTP layer every connector goes through.

Each system gets a ``requests.Session`` with a :class:`ThrottledAdapter`
mounted on it.  Client libraries that bring their own session (``jira``,
``atlassian-python-api``) get the same adapter mounted on theirs, so that
throttling, retries, timeouts and counting are the same for every call.

Retry policy, and why:

* 429 and connection failures before the request was sent are always safe
  to retry: the server did not act on the request.
* 5xx, read timeouts, dropped connections and unparseable JSON are retried
  only for idempotent methods.  A POST that failed mid-way may have been
  applied; the engine's outbox recovers it by idempotency key instead of
  blindly sending it again.

Rate-limit windows: by default the generic ``X-RateLimit-*`` headers hold
the system's next call until the reset (capped by the time budget).  A
connector that declares its platform's headers (``rate_limits``, a
:class:`~continuum.kit.RateLimitHeaders`) gets a clean stop instead of a
long sleep: a window that resets later than ``max_window_wait_s`` makes the
system's next call raise :class:`~continuum.kit.RateLimitExhausted` before
sending, and so does a 429 that asks for a longer wait.  The engine commits
what it has and the next run resumes (:mod:`continuum.engine.pauses`).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_before_delay,
)

# The header parsers live with the rest of rate-limit reading; imported here, where callers have always found them.
from continuum.kit.ratelimit import (  # noqa: F401
    MIN_RETRY_AFTER_S,
    RateLimitExhausted,
    RateLimitHeaders,
    parse_rate_limit_reset,
    parse_retry_after,
    spent_counts,
)

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


@dataclass
class CallStats:
    calls: int = 0
    retries: int = 0
    throttled: int = 0  # 429 answers
    transient_errors: int = 0
    waited_s: float = 0.0


class _Registry:
    """Per-system counters, shared by every session of that system in the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[str, CallStats] = {}

    def bump(self, system: str, **deltas: float) -> None:
        with self._lock:
            stats = self._stats.setdefault(system, CallStats())
            for name, delta in deltas.items():
                setattr(stats, name, getattr(stats, name) + delta)

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {name: asdict(stats) for name, stats in self._stats.items()}

    def reset(self) -> None:
        with self._lock:
            self._stats.clear()


STATS = _Registry()


class _Gates:
    """Per-system "no call before" moments, shared by every session of that system in the process.

    A connector (and so its session) is built per run; a Retry-After that the
    previous run received must still hold for the next one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._not_before: dict[str, float] = {}
        # Windows too long to wait for: every call of the system raises until then.
        self._spent_until: dict[str, float] = {}

    def hold(self, system: str, delay_s: float) -> None:
        with self._lock:
            self._not_before[system] = max(self._not_before.get(system, 0.0), time.monotonic() + delay_s)

    def remaining(self, system: str) -> float:
        with self._lock:
            return self._not_before.get(system, 0.0) - time.monotonic()

    def spend(self, system: str, resume_in_s: float) -> None:
        with self._lock:
            self._spent_until[system] = max(self._spent_until.get(system, 0.0), time.monotonic() + resume_in_s)

    def spent_for(self, system: str) -> float:
        """Seconds until the system's spent window resets (0 or less: not spent)."""
        with self._lock:
            return self._spent_until.get(system, 0.0) - time.monotonic()

    def reset(self) -> None:
        with self._lock:
            self._not_before.clear()
            self._spent_until.clear()


GATES = _Gates()


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    max_total_s: float = 120.0
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 10.0
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    # A declared window (``rate_limits``) that resets within this is waited for; a longer one stops the
    # system cleanly (RateLimitExhausted) so that a worker never sleeps through a 15-minute or 24-hour window.
    max_window_wait_s: float = 60.0


class _Retryable(Exception):
    """Raised inside the retry loop; carries what to return if retries run out."""

    def __init__(self, response: requests.Response | None, error: Exception | None, wait_s: float | None):
        super().__init__(str(error) if error else f"HTTP {response.status_code if response is not None else '?'}")
        self.response = response
        self.error = error
        self.wait_s = wait_s


def _looks_like_broken_json(response: requests.Response) -> bool:
    if response.status_code >= 300 or "json" not in response.headers.get("Content-Type", ""):
        return False
    if not response.content:
        return False
    try:
        json.loads(response.content)
    except ValueError:
        return True
    return False


class ThrottledAdapter(HTTPAdapter):
    """An HTTPAdapter that retries, throttles, times out and counts every call."""

    def __init__(
        self,
        system: str,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rate_limits: RateLimitHeaders | None = None,
    ) -> None:
        super().__init__(pool_connections=4, pool_maxsize=8)
        self.system = system
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        # None: the generic X-RateLimit-* headers, always waited for (capped by the time budget), as before.
        self.rate_limits = rate_limits

    # -- throttling state -------------------------------------------------
    def _hold_until(self, delay_s: float) -> None:
        GATES.hold(self.system, delay_s)

    def _wait_for_gate(self) -> None:
        delay = GATES.remaining(self.system)
        if delay > 0:
            STATS.bump(self.system, waited_s=delay)
            self._sleep(delay)

    def _window_wait(self, response: requests.Response) -> float | None:
        """Seconds until a declared window that this answer says is spent resets (None: not spent).

        A spent window whose reset the platform does not say is taken as one that is too long to wait for:
        guessing short would hammer a platform that already said no."""
        limits = self.rate_limits
        assert limits is not None
        headers = response.headers  # a CaseInsensitiveDict: declared names match in any case
        waits: list[float] = []
        if limits.remaining:
            remaining = headers.get(limits.remaining)
            try:
                spent = remaining is not None and float(remaining) <= 0
            except ValueError:
                spent = False
            if spent:
                reset = parse_rate_limit_reset(headers.get(limits.reset)) if limits.reset else None
                waits.append(self._unknown_wait() if reset is None else reset)
        if limits.used_of and spent_counts(headers.get(limits.used_of)):
            waits.append(self._unknown_wait())
        minutes = limits.spent_usage_minutes(headers)
        if minutes is not None:
            waits.append(minutes * 60 if minutes > 0 else self._unknown_wait())
        return max(waits) if waits else None

    def _unknown_wait(self) -> float:
        return self.policy.max_window_wait_s + 1

    def _note_window(self, wait_s: float) -> None:
        """Wait for a short window (the gate); a long one stops the system's next call."""
        if wait_s <= self.policy.max_window_wait_s:
            self._hold_until(min(wait_s, self.policy.max_total_s))
            return
        GATES.spend(self.system, wait_s)
        log.warning("%s: rate-limit window spent, resumes in %.0f s", self.system, wait_s)

    def _note_rate_limit_headers(self, response: requests.Response) -> None:
        if self.rate_limits is not None:
            wait = self._window_wait(response)
            if wait is not None:
                self._note_window(wait)
            return
        remaining = response.headers.get("X-RateLimit-Remaining")
        if remaining is None:
            return
        try:
            exhausted = float(remaining) <= 0
        except ValueError:
            return
        if exhausted:
            reset = parse_rate_limit_reset(response.headers.get("X-RateLimit-Reset"))
            if reset:
                self._hold_until(min(reset, self.policy.max_total_s))

    # -- the send loop ----------------------------------------------------
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (self.policy.connect_timeout_s, self.policy.read_timeout_s)
        method = (request.method or "GET").upper()
        idempotent = method in IDEMPOTENT_METHODS
        # The path only: a query string may carry a token (Graph's access_token).
        path = urlsplit(request.url or "").path

        def refuse_if_spent() -> None:
            resume = GATES.spent_for(self.system)
            if resume > 0:
                raise RateLimitExhausted(self.system, resume, method=method, path=path)

        def attempt() -> requests.Response:
            refuse_if_spent()
            self._wait_for_gate()
            STATS.bump(self.system, calls=1)
            try:
                response = super(ThrottledAdapter, self).send(request, **kwargs)
            except requests.exceptions.ConnectTimeout as exc:
                raise _Retryable(None, exc, None) from exc
            except requests.exceptions.ConnectionError as exc:
                if idempotent or _never_sent(exc):
                    raise _Retryable(None, exc, None) from exc
                raise
            except requests.exceptions.Timeout as exc:
                if idempotent:
                    raise _Retryable(None, exc, None) from exc
                raise
            self._note_rate_limit_headers(response)
            # A 429, or what the platform declares means the same (GitHub's 403 naming its secondary limit).
            limits, status = self.rate_limits, response.status_code
            throttled = status == 429 or (limits is not None and status in limits.throttle_statuses
                                          and limits.is_throttle(status, response.headers, response.text))
            retry_after = parse_retry_after(response.headers.get("Retry-After")) \
                if throttled or response.status_code in TRANSIENT_STATUSES else None
            if throttled and self.rate_limits is not None:
                # A declared window: a long wait ends the system's calls for this run instead of a long sleep.
                wait = retry_after if retry_after is not None else self._window_wait(response)
                if wait is None and self.rate_limits.throttle_wait_s is not None:
                    wait = retry_after = self.rate_limits.throttle_wait_s
                if wait is not None and wait > self.policy.max_window_wait_s:
                    STATS.bump(self.system, throttled=1)
                    GATES.spend(self.system, wait)
                    refuse_if_spent()
            if retry_after is not None:
                # Whatever happens to this request (retried, given up, not retryable), no call of
                # this system leaves before the server said it may.
                self._hold_until(min(retry_after, self.policy.max_total_s))
            if throttled:
                STATS.bump(self.system, throttled=1)
                raise _Retryable(response, None, retry_after)
            if response.status_code in TRANSIENT_STATUSES:
                STATS.bump(self.system, transient_errors=1)
                if idempotent:
                    raise _Retryable(response, None, retry_after)
            elif idempotent and _looks_like_broken_json(response):
                STATS.bump(self.system, transient_errors=1)
                raise _Retryable(response, None, None)
            return response

        retrying = Retrying(
            # stop_before_delay: never sleep past the budget only to give up afterwards
            # (a Retry-After of an hour must not hold a worker for an hour).
            stop=stop_after_attempt(self.policy.max_attempts)
            | stop_after_delay(self.policy.max_total_s)
            | stop_before_delay(self.policy.max_total_s),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as exhausted:
            if exhausted.response is not None:
                return exhausted.response
            assert exhausted.error is not None
            raise exhausted.error from None

    def _wait(self, state: RetryCallState) -> float:
        """Honour the server's Retry-After; otherwise back off exponentially with full jitter."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.wait_s is not None:
            # Retry-After is a floor; a little jitter keeps parallel workers apart.
            return exc.wait_s + random.uniform(0, 0.1)
        ceiling = min(self.policy.backoff_max_s, self.policy.backoff_initial_s * 2 ** (state.attempt_number - 1))
        return random.uniform(self.policy.backoff_initial_s / 2, ceiling)

    def _count_retry(self, state: RetryCallState) -> None:
        STATS.bump(self.system, retries=1)
        exc = state.outcome.exception() if state.outcome else None
        log.info("%s: retrying after %s (attempt %d)", self.system, exc, state.attempt_number)


def _never_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request left."""
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text


def mount(session: requests.Session, system: str, policy: RetryPolicy | None = None,
          rate_limits: RateLimitHeaders | None = None) -> requests.Session:
    """Put the shared layer under an existing session (ours or a client library's).

    ``rate_limits`` declares the platform's window headers; with it, a window that resets later than
    ``policy.max_window_wait_s`` stops the system's next call with :class:`RateLimitExhausted`."""
    adapter = ThrottledAdapter(system, policy, rate_limits=rate_limits)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def new_session(system: str, policy: RetryPolicy | None = None,
                rate_limits: RateLimitHeaders | None = None) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = "continuum-hub/0.1"
    return mount(session, system, policy, rate_limits)
