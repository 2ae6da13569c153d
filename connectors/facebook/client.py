"""The Graph API calls the connector needs, through the shared HTTP layer (retries, usage headers, counting)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import requests

from connectors.facebook.config import FacebookConfig
from continuum.http import new_session
from continuum.kit import JSON, ClientError, Fetched, NextTokenPaginator, RateLimitExhausted, RateLimitHeaders, walk
from continuum.kit.pagination import dig

GRAPH_LIMITS = RateLimitHeaders(usage=("X-App-Usage", "X-Business-Use-Case-Usage"))
THROTTLED = frozenset({4, 17, 32, 613})  # app, user, page (business use case) and custom rate limits
BULK_IDS = 50  # Graph's limit of ids in one ``?ids=`` lookup


class GraphError(ClientError):
    auth_codes: ClassVar[frozenset[str]] = frozenset({"190", "102"})  # invalid/expired token, session

    def __init__(self, *args: Any, subcode: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subcode = subcode


@dataclass
class GraphPaginator(NextTokenPaginator):
    """Cursor paging: Graph sends ``paging.cursors`` on every page, ``paging.next`` only when there is more."""

    token_path: str = "paging.cursors.after"
    param: str = "after"

    def next(self, page: Fetched) -> dict[str, Any] | None:
        return super().next(page) if dig(page.body, "paging.next") else None


class GraphClient:
    def __init__(self, config: FacebookConfig, session: requests.Session | None = None) -> None:
        self.base = f"{config.url}/{config.api_version}"
        self.session = session or new_session("facebook", rate_limits=GRAPH_LIMITS)
        # The token goes in a header, not the query string: it stays out of URLs and access logs.
        self.session.headers["Authorization"] = f"Bearer {config.access_token.get_secret_value()}"

    def call(self, method: str, path: str, params: JSON | None = None, body: JSON | None = None) -> JSON:
        try:
            response = self.session.request(method, self.base + path, params=params, json=body)
        except requests.RequestException as exc:
            raise GraphError("facebook", type(exc).__name__, method=method, path=path) from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        error = data.get("error") if isinstance(data, dict) else None
        if response.status_code < 400 and isinstance(data, dict) and error is None:
            return data
        if not isinstance(error, dict):
            raise GraphError("facebook", f"HTTP {response.status_code}, not a Graph answer", method=method,
                             path=path, status=response.status_code)
        code, subcode = error.get("code"), error.get("error_subcode")
        if code in THROTTLED:  # Graph throttles with 400/403 and a code: stop cleanly, resume next run
            minutes = GRAPH_LIMITS.spent_usage_minutes(response.headers) or 0.0
            raise RateLimitExhausted("facebook", max(minutes * 60, 60.0), method=method, path=path)
        text = f"(#{code}) {error.get('message')}" + (f" [subcode {subcode}]" if subcode else "")
        raise GraphError("facebook", f"{text} (fbtrace_id {error.get('fbtrace_id')})"[:300], method=method,
                         path=path, status=response.status_code, code=str(code),
                         subcode=subcode if isinstance(subcode, int) else None)

    def pages(self, path: str, params: JSON, limit: int = 100) -> Iterator[list[JSON]]:
        """Each page's ``data``, in the order Graph serves them; a cursor that keeps coming back fails loudly."""
        def fetch(request: dict[str, Any]) -> Fetched:
            return Fetched(self.call("GET", path, request))

        items = lambda body: [i.get("id") for i in body.get("data") or [] if isinstance(i, dict)]  # noqa: E731
        for page in walk(fetch, GraphPaginator("facebook", {**params, "limit": limit}), item_ids=items):
            yield [i for i in page.body.get("data") or [] if isinstance(i, dict) and i.get("id")]

    def lookup(self, ids: list[str], fields: str) -> dict[str, JSON | None]:
        """``GET /?ids=`` in chunks of 50: each id's node, None for one that no longer exists.

        Graph refuses the whole call when an id is gone ("(#100) Some of the aliases you requested do not
        exist: a,b"): those are marked gone and the call is made again without them.
        """
        found: dict[str, JSON | None] = {}
        for start in range(0, len(ids), BULK_IDS):
            chunk = ids[start:start + BULK_IDS]
            while chunk:
                try:
                    answer = self.call("GET", "/", {"ids": ",".join(chunk), "fields": fields})
                except GraphError as exc:
                    gone = _missing_aliases(exc.message) if exc.code == "100" else set()
                    if not gone & set(chunk):
                        raise
                    found.update(dict.fromkeys(gone & set(chunk)))
                    chunk = [i for i in chunk if i not in gone]
                    continue
                found.update({i: answer.get(i) if isinstance(answer.get(i), dict) else None for i in chunk})
                break
        return found


def _missing_aliases(message: str) -> set[str]:
    _, marker, tail = message.partition("do not exist:")
    return {part.strip(" .") for part in tail.split("(fbtrace")[0].split(",")} - {""} if marker else set()
