"""GitHub's REST API through the shared HTTP layer (retries, both rate limits, counting), behind one error type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

from connectors.github.config import GithubConfig
from continuum.connector import JSON
from continuum.http import RetryPolicy, new_session
from continuum.kit import ClientError, Fetched, LinkHeaderPaginator, RateLimitHeaders, walk

SYSTEM = "github"
# The primary window (x-ratelimit-*, reset in epoch seconds), and the secondary limit: a 403 or 429 with
# Retry-After, or naming it; without a wait GitHub asks for at least a minute.
RATE_LIMITS = RateLimitHeaders(remaining="x-ratelimit-remaining", reset="x-ratelimit-reset",
                               throttle_statuses=(403,), throttle_phrases=("secondary rate limit",
                                                                           "api rate limit exceeded"),
                               throttle_wait_s=60.0)
API_VERSION = "2022-11-28"
# full+json: comments come with body_text too, GitHub's own plain-text rendering of the Markdown.
ACCEPT = "application/vnd.github.full+json"


class GithubError(ClientError):
    @property
    def is_auth_error(self) -> bool:  # a 403 is also how GitHub throttles: that one is not the token's fault
        return self.status == 401 or (self.status == 403 and "rate limit" not in self.message.lower())


class GithubClient:
    def __init__(self, config: GithubConfig, policy: RetryPolicy | None = None) -> None:
        self.base_url = config.url
        self.session = new_session(SYSTEM, policy, rate_limits=RATE_LIMITS)
        self.session.headers.update({"Authorization": f"Bearer {config.token.get_secret_value()}",
                                     "Accept": ACCEPT, "X-GitHub-Api-Version": API_VERSION})

    def call(self, method: str, path: str, *, params: JSON | None = None, body: JSON | None = None,
             url: str | None = None) -> Fetched:
        """The decoded answer and its headers; ``url`` is a whole next-page link from GitHub's ``Link``."""
        if url is not None and not url.startswith(self.base_url + "/"):
            # The token goes with every request: never to a host a header named.
            raise GithubError(SYSTEM, f"a next-page link leaves {self.base_url}: {url[:100]!r}", method=method,
                              path=path)
        try:
            response = self.session.request(method, url or self.base_url + path, params=None if url else params,
                                            json=body)
        except requests.RequestException as exc:
            raise GithubError(SYSTEM, f"{type(exc).__name__}: {exc}", method=method, path=path) from None
        try:
            data: Any = response.json() if response.content else {}
        except ValueError:
            data = None
        if response.status_code >= 400 or data is None:
            message = data.get("message") if isinstance(data, dict) else None
            errors = data.get("errors") if isinstance(data, dict) else None
            text = str(message or response.reason or "the answer is not JSON")
            text += f" ({'; '.join(map(str, errors))[:200]})" if isinstance(errors, list) and errors else ""
            raise GithubError(SYSTEM, text[:300], status=response.status_code, method=method, path=path)
        return Fetched(data, response.headers)

    def get(self, path: str, params: JSON | None = None) -> Any:
        return self.call("GET", path, params=params).body

    def pages(self, path: str, params: JSON) -> Iterator[Fetched]:
        """Every page of a list, following ``Link: rel="next"``; a link or page that keeps coming back fails."""
        return walk(lambda request: self.call("GET", path, params=request, url=request.get("url")),
                    LinkHeaderPaginator(SYSTEM, params=params),
                    item_ids=lambda body: [item.get("id") for item in body if isinstance(item, dict)]
                    if isinstance(body, list) else [])
