"""The few Discourse endpoints the connector needs, through the shared HTTP layer (retries, 429s, counting)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from connectors.discourse.config import DiscourseConfig
from continuum.http import new_session
from continuum.kit import JSON, ClientError, Fetched


def _posts(items: Any) -> list[JSON]:
    """The posts (with an integer id) of an answer's list; odd entries are dropped."""
    return [p for p in items if isinstance(p, dict) and isinstance(p.get("id"), int)] if isinstance(items, list) else []


class DiscourseClient:
    def __init__(self, config: DiscourseConfig, session: requests.Session | None = None) -> None:
        self.base_url = config.url
        self.session = session or new_session("discourse")
        # Header authentication, as Discourse requires since 2.9: the key stays out of URLs and access logs.
        self.session.headers.update({"Api-Key": config.api_key.get_secret_value(),
                                     "Api-Username": config.api_username, "Accept": "application/json"})

    def request(self, method: str, path: str, params: Any = None, body: JSON | None = None) -> JSON:
        try:
            response = self.session.request(method, self.base_url + path, params=params, json=body)
        except requests.RequestException as exc:
            raise ClientError("discourse", f"{type(exc).__name__}: {exc}", method=method, path=path) from exc
        try:
            if response.status_code < 400:
                data = response.json()
                return data if isinstance(data, dict) else {}
            errors = response.json().get("errors")  # {"errors": [...], "error_type": "..."}
        except (ValueError, AttributeError):  # a proxy's HTML page, a body cut short
            errors = None
        text = response.text if response.status_code >= 400 else "the answer is not JSON"
        text = "; ".join(map(str, errors)) if isinstance(errors, list) else text or response.reason
        raise ClientError("discourse", str(text)[:300], status=response.status_code, method=method, path=path)

    def latest_posts(self, params: JSON) -> Fetched:
        """50 posts, newest first, with ``raw``, topic and category; ``before`` is inclusive on real sites."""
        return Fetched(_posts(self.request("GET", "/posts.json", params or None).get("latest_posts")))

    def primary_email(self, username: str) -> str | None:
        """The user's primary e-mail (confirmed before the account is active); None where it is not ours to see."""
        try:
            email = self.request("GET", f"/u/{quote(username, safe='')}/emails.json").get("email")
        except ClientError as exc:
            if exc.status in (403, 404):  # not an admin key, or a deleted user
                return None
            raise  # transient: the page is read again next run, not stored without it
        return email if isinstance(email, str) and email else None

    def categories(self) -> list[JSON]:
        """Every category, subcategories (``subcategory_list``) flattened with their ``parent_category_id``."""
        listing = self.request("GET", "/categories.json", {"include_subcategories": "true"}).get("category_list")
        tops = [c for c in (listing or {}).get("categories") or [] if isinstance(c, dict)]
        return tops + [{**sub, "parent_category_id": top.get("id")} for top in tops
                       for sub in top.get("subcategory_list") or [] if isinstance(sub, dict)]

    def find_post(self, topic_id: int, username: str, needle: str) -> JSON | None:
        """The newest post by ``username`` in the topic whose ``raw`` holds ``needle``, or None.

        The topic view lists every post id and serves a first chunk; the rest come 20 at a time, as the web
        client asks them.  Only that user's posts are opened: cooking drops HTML comments, ``raw`` keeps them.
        """
        stream = self.request("GET", f"/t/{topic_id}.json").get("post_stream") or {}
        known = {p["id"]: p for p in _posts(stream.get("posts"))}
        ids = [pid for pid in reversed(stream.get("stream") or []) if isinstance(pid, int)]
        for chunk in (ids[start:start + 20] for start in range(0, len(ids), 20)):
            if missing := [("post_ids[]", str(pid)) for pid in chunk if pid not in known]:
                answer = self.request("GET", f"/t/{topic_id}/posts.json", missing)
                known.update((p["id"], p) for p in _posts((answer.get("post_stream") or {}).get("posts")))
            for pid in (pid for pid in chunk if str(known.get(pid, {}).get("username")).lower() == username.lower()):
                if needle in str((post := self.request("GET", f"/posts/{pid}.json")).get("raw", "")):
                    return post
        return None

    def create_post(self, topic_id: int, raw: str, reply_to_post_number: int | None) -> JSON:
        body = {"topic_id": topic_id, "raw": raw, "reply_to_post_number": reply_to_post_number}
        data = self.request("POST", "/posts.json", body={k: v for k, v in body.items() if v is not None})
        if not isinstance(data.get("id"), int):
            raise ClientError("discourse", f"unexpected answer to a new post: {str(data)[:200]}", status=200)
        return data

    def url_for(self, post: JSON) -> str | None:
        return self.base_url + post["post_url"] if isinstance(post.get("post_url"), str) else None
