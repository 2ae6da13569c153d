"""A platform's rate-limit window, as its response headers tell it, and the stop when the window is spent.

Each connector declares which headers its platform sends::

    X = RateLimitHeaders(remaining="x-rate-limit-remaining", reset="x-rate-limit-reset")
    GRAPH = RateLimitHeaders(usage=("X-App-Usage", "X-Business-Use-Case-Usage"))

and hands it to ``continuum.http.new_session(system, rate_limits=X)``.  When a window is spent and its reset is
further away than a run should wait, the next call raises :class:`RateLimitExhausted` instead of sleeping: the
engine commits what it has, keeps the cursor of the last committed page, and the next run resumes there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from continuum.kit.errors import ClientError


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
    ``continuum.http.parse_rate_limit_reset``).  ``usage``: Graph-style JSON headers of percentages
    (``{"call_count": 100, ...}``, or per business id a list of such objects); 100 or more means spent,
    ``estimated_time_to_regain_access`` (minutes) says for how long.
    """

    remaining: str | None = None
    reset: str | None = None
    usage: tuple[str, ...] = ()

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


def _usages(data: object) -> list[dict[str, object]]:
    if isinstance(data, dict):
        if any(isinstance(v, list) for v in data.values()):  # X-Business-Use-Case-Usage: {business_id: [ ... ]}
            return [u for v in data.values() if isinstance(v, list) for u in v if isinstance(u, dict)]
        return [data]
    return []
