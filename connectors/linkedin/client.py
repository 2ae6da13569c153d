"""The few Community Management endpoints the connector needs (Rest.li 2.0), through the shared HTTP layer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import requests

from connectors.linkedin.config import LinkedInConfig
from continuum.http import GATES, new_session
from continuum.kit import JSON, ClientError, RateLimitExhausted, RateLimitHeaders

# LinkedIn sends no window headers; a 429 carries Retry-After only sometimes (the layer honours it then).
# A 429 without one is a spent daily application or member limit, reset at midnight UTC.
LIMITS = RateLimitHeaders()


def urn(value: str) -> str:
    """A URN as Rest.li 2.0 wants it in a path or a List(): every reserved character percent-encoded."""
    return quote(value, safe="")


def until_midnight_utc(now: datetime | None = None) -> float:
    now = now or datetime.now(UTC)
    return ((now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0) - now).total_seconds()


def iso_ms(ms: int) -> str:
    """LinkedIn's epoch milliseconds as ISO 8601 UTC."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class LinkedInClient:
    def __init__(self, config: LinkedInConfig, session: requests.Session | None = None) -> None:
        self.base_url = config.url + "/rest"
        self.session = session or new_session("linkedin", rate_limits=LIMITS)
        self.session.headers.update({"Authorization": f"Bearer {config.access_token.get_secret_value()}",
                                     "LinkedIn-Version": config.api_version, "X-Restli-Protocol-Version": "2.0.0"})

    def request(self, method: str, path: str, query: str = "", body: JSON | None = None,
                headers: dict[str, str] | None = None) -> JSON:
        url = self.base_url + path + (f"?{query}" if query else "")
        try:
            response = self.session.request(method, url, json=body, headers=headers)
        except RateLimitExhausted:
            raise
        except requests.RequestException as exc:
            raise ClientError("linkedin", f"{type(exc).__name__}: {exc}", method=method, path=path) from exc
        if response.status_code == 429 and not response.headers.get("Retry-After"):
            wait = until_midnight_utc()
            GATES.spend("linkedin", wait)  # every further call this run stops before it is sent
            raise RateLimitExhausted("linkedin", wait, method=method, path=path)
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = None
        if response.status_code < 400 and isinstance(data, dict):
            return data
        # {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN", "message": "..."}
        message = data.get("message") if isinstance(data, dict) else None
        code = data.get("code") if isinstance(data, dict) else None
        raise ClientError("linkedin", str(message or response.reason or "the answer is not JSON")[:300],
                          status=response.status_code, code=str(code) if code else None, method=method, path=path)

    def organization_posts(self, organization: str, start: int, count: int) -> JSON:
        """The page's posts, newest first (``sortBy=CREATED``)."""
        return self.request("GET", "/posts", f"q=author&author={urn(organization)}&sortBy=CREATED"
                                             f"&start={start}&count={count}")

    def comments(self, target: str, start: int, count: int) -> JSON:
        """Comments on a post, or (``target`` a comment URN) the replies under a comment."""
        return self.request("GET", f"/socialActions/{urn(target)}/comments", f"start={start}&count={count}")

    def batch_comments(self, target: str, ids: list[str]) -> dict[str, JSON]:
        """The comments among ``ids`` (comment ids, not URNs) that still exist, by id; a batch GET per call,
        one GET per id where the tier refuses batch calls (Development tier answers 403); none where the post
        is gone."""
        try:
            listed = ",".join(urn(i) for i in ids)
            answer = self.request("GET", f"/socialActions/{urn(target)}/comments", f"ids=List({listed})",
                                  headers={"X-RestLi-Method": "BATCH_GET"})
            results = answer.get("results")
            return {str(k): v for k, v in results.items() if isinstance(v, dict)} if isinstance(results, dict) else {}
        except ClientError as exc:
            if exc.status == 404:  # the post itself is gone (deleted by its author), and its comments with it
                return {}
            if exc.status not in (400, 403):
                raise
        found: dict[str, JSON] = {}
        for cid in ids:
            try:
                found[cid] = self.request("GET", f"/socialActions/{urn(target)}/comments/{urn(cid)}")
            except ClientError as exc:
                if exc.status != 404:
                    raise
        return found

    def comment(self, target: str, cid: str) -> JSON:
        return self.request("GET", f"/socialActions/{urn(target)}/comments/{urn(cid)}")

    def create_comment(self, target: str, body: JSON) -> JSON:
        data = self.request("POST", f"/socialActions/{urn(target)}/comments", body=body)
        if not isinstance(data.get("id"), str):
            raise ClientError("linkedin", f"unexpected answer to a new comment: {str(data)[:200]}", status=201)
        return data

    def post(self, post: str) -> JSON:
        return self.request("GET", f"/posts/{urn(post)}")

    def notifications(self, organization: str, actions: list[str], since: int, until: int, start: int,
                      count: int) -> JSON:
        """The page's social action notifications of ``actions`` in [since, until) (epoch ms); Rest.li 2.0
        keeps the structural characters of ``List(...)`` and ``(start:…,end:…)`` as they are."""
        return self.request("GET", "/organizationalEntityNotifications",
                            f"q=criteria&organizationalEntity={urn(organization)}&actions=List({','.join(actions)})"
                            f"&timeRange=(start:{since},end:{until})&start={start}&count={count}")

    def whoami(self, organization: str) -> JSON:
        """The first of the page's posts: proves the token and that it may read the page."""
        return self.organization_posts(organization, 0, 1)
