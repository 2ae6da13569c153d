"""A thin client for the few Discourse endpoints the connector needs.

Everything goes through :func:`continuum.http.new_session`, so retries,
throttling (Discourse answers 429 with ``Retry-After``), timeouts and call
counting are the same as for every other system.  Nothing touches the network
until a method is called.
"""

from __future__ import annotations

from urllib.parse import quote

from collections.abc import Iterable
from typing import Any

import requests

from continuum.http import new_session
from connectors.discourse.config import DiscourseConfig

JSON = dict[str, Any]


class DiscourseError(Exception):
    """A Discourse answer that is not a success, with its status and message."""

    def __init__(self, status: int | None, message: str, method: str = "", path: str = "") -> None:
        where = f"{method} {path}".strip()
        super().__init__(f"Discourse {where} -> {status}: {message}" if status else f"Discourse {where}: {message}")
        self.status = status
        self.message = message

    @property
    def is_auth_error(self) -> bool:
        return self.status in (401, 403)


def _error_message(response: requests.Response) -> str:
    """Discourse errors look like ``{"errors": [...], "error_type": "..."}``."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip()[:300]
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            kind = body.get("error_type")
            text = "; ".join(str(e) for e in errors)
            return f"{text} ({kind})" if kind else text
        if body.get("error_type"):
            return str(body["error_type"])
    return str(body)[:300]


class DiscourseClient:
    def __init__(self, config: DiscourseConfig, session: requests.Session | None = None) -> None:
        self.base_url = config.url
        self.session = session or new_session("discourse")
        # Header authentication (not query parameters), as Discourse requires
        # since 2.9; the key stays out of URLs and therefore out of access logs.
        self.session.headers.update({
            "Api-Key": config.api_key.get_secret_value(),
            "Api-Username": config.api_username,
            "Accept": "application/json",
        })

    def _request(self, method: str, path: str, params: Any = None, body: JSON | None = None) -> Any:
        try:
            response = self.session.request(method, self.base_url + path, params=params, json=body)
        except requests.RequestException as exc:
            raise DiscourseError(None, f"{type(exc).__name__}: {exc}", method, path) from exc
        if response.status_code >= 400:
            raise DiscourseError(response.status_code, _error_message(response), method, path)
        try:
            return response.json()
        except ValueError as exc:
            raise DiscourseError(response.status_code, "answer is not JSON", method, path) from exc

    # -- reading ------------------------------------------------------------
    def latest_posts(self, before: int | None = None) -> list[JSON]:
        """Up to 50 public posts, newest id first, with ``raw``, topic title and category.

        Real Discourse filters ``posts.id <= before`` (inclusive) although the
        description says "lower than"; callers must tolerate both.
        """
        params = {"before": before} if before is not None else None
        data = self._request("GET", "/posts.json", params=params)
        posts = data.get("latest_posts") if isinstance(data, dict) else None
        return [p for p in posts or [] if isinstance(p, dict)]

    def primary_email(self, username: str) -> str | None:
        """The user's primary e-mail (admin keys only). Discourse confirms it before the account is active."""
        data = self._request("GET", f"/u/{quote(username, safe='')}/emails.json")
        email = data.get("email") if isinstance(data, dict) else None
        return email if isinstance(email, str) and email else None

    def categories(self) -> list[JSON]:
        """Every category, subcategories flattened, each with ``parent_category_id`` set."""
        data = self._request("GET", "/categories.json", params={"include_subcategories": "true"})
        found: list[JSON] = []

        def walk(items: Iterable[Any], parent: int | None) -> None:
            for item in items:
                if not isinstance(item, dict):
                    continue
                found.append({**item, "parent_category_id": item.get("parent_category_id", parent)})
                walk(item.get("subcategory_list") or [], item.get("id"))

        walk((data.get("category_list") or {}).get("categories") or [], None)
        return found

    def topic(self, topic_id: int) -> JSON:
        """The topic view: first chunk of posts plus ``post_stream.stream`` (all post ids)."""
        data = self._request("GET", f"/t/{topic_id}.json")
        return data if isinstance(data, dict) else {}

    def topic_posts(self, topic_id: int, post_ids: list[int]) -> list[JSON]:
        """Posts of a topic by id (``post_ids[]`` in the query, as the web client sends it)."""
        params = [("post_ids[]", str(pid)) for pid in post_ids]
        data = self._request("GET", f"/t/{topic_id}/posts.json", params=params)
        posts = ((data or {}).get("post_stream") or {}).get("posts") if isinstance(data, dict) else None
        return [p for p in posts or [] if isinstance(p, dict)]

    def post(self, post_id: int) -> JSON:
        data = self._request("GET", f"/posts/{post_id}.json")
        return data if isinstance(data, dict) else {}

    # -- writing ------------------------------------------------------------
    def create_post(self, topic_id: int, raw: str, reply_to_post_number: int | None = None) -> JSON:
        body: JSON = {"topic_id": topic_id, "raw": raw}
        if reply_to_post_number is not None:
            body["reply_to_post_number"] = reply_to_post_number
        data = self._request("POST", "/posts.json", body=body)
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise DiscourseError(200, f"unexpected answer to a new post: {str(data)[:200]}", "POST", "/posts.json")
        return data

    def url_for(self, post: JSON) -> str | None:
        """Absolute URL of a post from ``post_url`` or its topic slug, id and number."""
        if isinstance(post.get("post_url"), str) and post["post_url"]:
            return self.base_url + post["post_url"]
        if post.get("topic_id") and post.get("post_number"):
            return f"{self.base_url}/t/{post.get('topic_slug') or '-'}/{post['topic_id']}/{post['post_number']}"
        return None
