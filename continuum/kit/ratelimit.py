"""A platform's rate-limit window, as its response headers tell it, and the stop when the window is spent.

Each connector declares which headers its platform sends::

    X = RateLimitHeaders(remaining="x-rate-limit-remaining", reset="x-rate-limit-reset")
    GRAPH = RateLimitHeaders(usage=("X-App-Usage", "X-Business-Use-Case-Usage"))

and hands it to ``continuum.http.new_session(system, rate_limits=X)``.  When a window is spent and its reset is
further away than a run should wait, the next call raises :class:`RateLimitExhausted` instead of sleeping: the
engine commits what it has, keeps the cursor of the last committed page, and the next run resumes there.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from continuum.kit.errors import ClientError

# A server may say "retry after 0": never turn that into a hot loop.
MIN_RETRY_AFTER_S = 0.05


class RateLimitExhausted(ClientError):
    """The platform's window is spent for ``resume_in_s`` more seconds: stop cleanly, resume next run."""

    def __init__(self, system: str, resume_in_s: float, *, method: str = "", path: str = "") -> None:
        super().__init__(system, f"rate-limit window spent; resumes in {resume_in_s:.0f} s (next run continues)",
                         status=429, method=method, path=path, retry_after=resume_in_s)
        self.resume_in_s = resume_in_s


def spent_window(exc: BaseException) -> RateLimitExhausted | None:
    """The :class:`RateLimitExhausted` behind ``exc``, even when a vendor library wrapped it in its own error.

    Mastodon.py and prawcore catch whatever their session raises and raise their own error from it: the
    stop must still be seen as a stop, not as a failure.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, RateLimitExhausted):
            return current
        seen.add(id(current))
        inner = getattr(current, "original_exception", None)  # prawcore.RequestException
        current = inner if isinstance(inner, BaseException) else (current.__cause__ or current.__context__)
    return None


@dataclass(frozen=True)
class RateLimitHeaders:
    """Header names (matched case-insensitively) that carry a window's state.

    ``remaining``/``reset``: calls left and when the window resets (epoch seconds, seconds from now or ISO 8601:
    ``parse_rate_limit_reset``).  ``usage``: Graph-style JSON headers of percentages
    (``{"call_count": 100, ...}``, or per business id a list of such objects); 100 or more means spent,
    ``estimated_time_to_regain_access`` (minutes) says for how long.

    ``throttle_statuses``: statuses besides 429 that a platform also uses to say "slow down" (GitHub's 403).
    Such an answer is a throttle only when it shows it (a ``Retry-After``, a spent window, or a body holding one
    of ``throttle_phrases``); otherwise it keeps its meaning, a refusal.  ``throttle_wait_s``: how long to wait
    after a throttle that names no wait at all (GitHub: "at least one minute").
    ``used_of``: a header of ``name=used/limit`` counts (``api-usage=4990/5000; per-app-api-usage=3/250(...)``);
    any count at its limit means spent, until a reset the header does not say.
    """

    remaining: str | None = None
    reset: str | None = None
    usage: tuple[str, ...] = ()
    throttle_statuses: tuple[int, ...] = ()
    throttle_phrases: tuple[str, ...] = ()
    throttle_wait_s: float | None = None
    used_of: str | None = None

    def is_throttle(self, status: int, headers: Mapping[str, str], body: str) -> bool:
        """Whether an answer says "slow down" (``headers`` matched case-insensitively, as requests keeps them)."""
        if status == 429:
            return True
        if status not in self.throttle_statuses:
            return False
        if headers.get("Retry-After") or (self.remaining and str(headers.get(self.remaining, "")).strip() == "0"):
            return True
        return any(phrase.lower() in body.lower() for phrase in self.throttle_phrases)

    def spent_usage_minutes(self, headers: Mapping[str, str]) -> float | None:
        """Minutes until a usage header's spent window regains access (0 if spent with no estimate), or None."""
        worst: float | None = None
        for name in self.usage:
            raw = headers.get(name)
            if not raw:
                continue
            try:
                data = json.loads(raw)
            except ValueError:
                continue
            for usage in _usages(data):
                percents = [v for k, v in usage.items() if k != "estimated_time_to_regain_access"
                            and isinstance(v, int | float) and not isinstance(v, bool)]
                if percents and max(percents) >= 100:
                    wait = usage.get("estimated_time_to_regain_access")
                    minutes = float(wait) if isinstance(wait, int | float) and not isinstance(wait, bool) else 0.0
                    worst = max(worst or 0.0, minutes)
        return worst


def spent_counts(value: str | None) -> bool:
    """Whether a ``name=used/limit`` header shows a count at (or past) its limit."""
    return any(int(used) >= int(limit) > 0 for used, limit in _COUNTS.findall(value or ""))


_COUNTS = re.compile(r"=\s*(\d{1,15})\s*/\s*(\d{1,15})")


def _usages(data: object) -> list[dict[str, object]]:
    if isinstance(data, dict):
        if any(isinstance(v, list) for v in data.values()):  # X-Business-Use-Case-Usage: {business_id: [ ... ]}
            return [u for v in data.values() if isinstance(v, list) for u in v if isinstance(u, dict)]
        return [data]
    return []


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # "nan" or "inf" would crash or hang time.sleep(): treat as no usable value.
        return max(seconds, MIN_RETRY_AFTER_S) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(when.timestamp() - now, MIN_RETRY_AFTER_S)


def parse_rate_limit_reset(value: str | None, now: float | None = None) -> float | None:
    """Seconds until an ``X-RateLimit-Reset`` moment.

    Vendors disagree on the format: epoch seconds (GitHub), seconds from now,
    or an ISO-8601 timestamp (Jira).  All three are accepted.
    """
    if not value:
        return None
    now = time.time() if now is None else now
    try:
        number = float(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(moment.timestamp() - now, 0.0)
    if math.isnan(number):
        return None
    if number > 1_000_000_000:  # an epoch timestamp, not a delta
        return max(number - now, 0.0)
    return max(number, 0.0)
