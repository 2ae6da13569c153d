"""Mastodon.py on the shared HTTP layer, pointed at the company's server, every failure one ``ClientError``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import requests
from mastodon import Mastodon, MastodonAPIError, MastodonError

from connectors.mastodon.config import MastodonConfig
from continuum.http import new_session
from continuum.kit import JSON, ClientError, RateLimitHeaders
from continuum.kit.ratelimit import spent_window

# Every answer carries X-RateLimit-Limit/Remaining/Reset; Reset is ISO 8601 (the end of the 5-minute window).
RATE_LIMITS = RateLimitHeaders(remaining="X-RateLimit-Remaining", reset="X-RateLimit-Reset")
BULK_IDS = 20  # ids per GET /api/v1/statuses (Mastodon 4.3+)
DEFAULT_MAX_CHARACTERS = 500  # Mastodon's default, for a server that does not say


def plain(value: Any) -> Any:
    """Mastodon.py's typed answer as the server's JSON: ids back to strings, datetimes to ISO 8601 in UTC."""
    if isinstance(value, dict):
        return {str(k): str(v) if (k == "id" or str(k).endswith("_id")) and isinstance(v, int) else plain(v)
                for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


class MastodonClient:
    def __init__(self, config: MastodonConfig, session: requests.Session | None = None) -> None:
        # "throw": the shared layer waits for short windows and stops cleanly on long ones, so Mastodon.py
        # must never sleep through one itself.  No version check: it would cost a call per connector.
        self.api = Mastodon(access_token=config.access_token.get_secret_value(), api_base_url=config.url,
                            session=session or new_session("mastodon", rate_limits=RATE_LIMITS),
                            ratelimit_method="throw", version_check_mode="none", mastodon_version="4.3.0",
                            user_agent="continuum-hub/0.1", request_timeout=30)

    @contextmanager
    def _call(self, method: str, path: str) -> Iterator[None]:
        try:
            yield
        except MastodonError as exc:
            if (window := spent_window(exc)) is not None:
                raise window from None  # the clean stop, unwrapped, as the engine knows it
            status, text = None, str(exc.args[0] if exc.args else type(exc).__name__)
            if isinstance(exc, MastodonAPIError) and len(exc.args) >= 4:  # (message, status, reason, error)
                status, text = exc.args[1], str(exc.args[3] or exc.args[2])
            raise ClientError("mastodon", text[:300], status=status if isinstance(status, int) else None,
                              method=method, path=path) from None

    def me(self) -> JSON:
        with self._call("GET", "/api/v1/accounts/verify_credentials"):
            return plain(self.api.account_verify_credentials())  # type: ignore[no-any-return]

    def mentions(self, after: str, limit: int) -> Iterator[list[JSON]]:
        """Mention notifications newer than ``after`` a page at a time, oldest page first (``min_id``, then the
        ``Link`` header's ``prev``: the next newer page), each ascending by id."""
        with self._call("GET", "/api/v1/notifications"):
            page = self.api.notifications(types=["mention"], min_id=after or "0", limit=limit)
        while page:
            yield sorted(plain(list(page)), key=lambda n: int(n["id"]))
            with self._call("GET", "/api/v1/notifications"):
                page = self.api.fetch_previous(page)

    def statuses(self, ids: Sequence[str]) -> list[JSON]:
        """Those of ``ids`` that still exist and we may see: a deleted status is simply absent."""
        found: list[JSON] = []
        for start in range(0, len(ids), BULK_IDS):
            with self._call("GET", "/api/v1/statuses"):
                found += plain(list(self.api.statuses(list(ids[start:start + BULK_IDS]))))
        return found

    def status(self, status_id: str) -> JSON | None:
        try:
            with self._call("GET", f"/api/v1/statuses/{status_id}"):
                return plain(self.api.status(status_id))  # type: ignore[no-any-return]
        except ClientError as exc:
            if exc.status == 404:  # deleted, or not visible to the company's account
                return None
            raise

    def context(self, status_id: str) -> JSON:
        with self._call("GET", f"/api/v1/statuses/{status_id}/context"):
            return plain(self.api.status_context(status_id))  # type: ignore[no-any-return]

    @cached_property
    def max_characters(self) -> int:
        with self._call("GET", "/api/v2/instance"):
            value = plain(self.api.instance_v2()).get("configuration", {}).get("statuses", {}).get("max_characters")
        return value if isinstance(value, int) and value > 0 else DEFAULT_MAX_CHARACTERS

    def post(self, text: str, in_reply_to_id: str, visibility: str, key: str) -> JSON:
        """A reply; a repeat under the same ``key`` gets the status made first (the server keeps keys an hour)."""
        with self._call("POST", "/api/v1/statuses"):
            status = plain(self.api.status_post(text, in_reply_to_id=in_reply_to_id, visibility=visibility,
                                                idempotency_key=key))
        if not isinstance(status.get("id"), str):
            raise ClientError("mastodon", f"unexpected answer to a new status: {str(status)[:200]}", status=200)
        return status  # type: ignore[no-any-return]
