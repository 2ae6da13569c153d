"""Confluence Cloud through ``atlassian-python-api``'s ``Confluence`` class, on the shared HTTP layer's session.

The class brings Atlassian's auth (an account's e-mail and API token, HTTP Basic) and its error reading; it is
given our session, so every call goes through ``continuum.http`` (tenacity retries, ``Retry-After``, timeouts,
counting) and the library's own backoff stays off (one loop, one budget).  Pages are read and written through
the REST v2 ``/wiki/api/v2/pages`` API, which is where Atlassian moved page content (the v1 ``/content`` page
calls are deprecated and absent from v1's published description); labels, the account check and nothing else
go through v1 (``/wiki/rest/api``), where they still live.  The library's page helpers call the v1 content
API, so the client uses its REST verbs with the v2 paths.
"""

from __future__ import annotations

from typing import Any

import requests
from atlassian import Confluence

from connectors.confluence.config import ConfluenceConfig
from continuum.connector import JSON
from continuum.http import RetryPolicy, new_session
from continuum.kit import ClientError, RateLimitExhausted

SYSTEM = "confluence"
V1, V2 = "wiki/rest/api", "wiki/api/v2"


class ConfluenceError(ClientError):
    """A Confluence failure; ``status`` 409 is a version conflict (someone saved the page meanwhile)."""


class ConfluenceApi:
    def __init__(self, config: ConfluenceConfig, policy: RetryPolicy | None = None) -> None:
        limits = policy or RetryPolicy()
        self.session = new_session(SYSTEM, policy)
        # cloud=True: the Cloud client whatever the host (a simulator on loopback too); no call is made here.
        self.client = Confluence(  # type: ignore[no-untyped-call]  # the library has no type hints
            config.url,
            username=config.login,
            password=config.api_token.get_secret_value(),
            cloud=True,
            session=self.session,
            timeout=int(limits.read_timeout_s),
            backoff_and_retry=False,
        )

    def call(self, method: str, path: str, *, params: JSON | None = None, body: JSON | list[JSON] | None = None) -> Any:
        """The decoded answer; a failure is a :class:`ConfluenceError` built from the answer, never the request
        (the library's own message is kept out: it may quote what was sent)."""
        where = f"/{path}"
        try:
            client = self.client
            verb: Any = {"GET": client.get, "POST": client.post, "PUT": client.put, "DELETE": client.delete}[method]
            response = verb(path, params=params, data=body, advanced_mode=True)
        except RateLimitExhausted:
            raise
        except requests.RequestException as exc:
            raise ConfluenceError(SYSTEM, f"{type(exc).__name__}: no answer", method=method, path=where) from None
        if response.status_code >= 400:
            retry_after = response.headers.get("Retry-After")
            raise ConfluenceError(
                SYSTEM,
                _message(response),
                status=response.status_code,
                method=method,
                path=where,
                retry_after=float(retry_after) if _number(retry_after) else None,
            )
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise ConfluenceError(
                SYSTEM, "the answer is not JSON", status=response.status_code, method=method, path=where
            ) from None

    # -- v1 --------------------------------------------------------------------------
    def me(self) -> JSON:
        return dict(self.call("GET", f"{V1}/user/current"))

    def delete_versions(self, page_id: str, current: int) -> int:
        """Delete every earlier version of the page (the current one stays); returns how many went.  Newest
        first: deleting version n renumbers only the versions after it, which are gone by then (or current)."""
        for number in range(current - 1, 0, -1):
            self.call("DELETE", f"{V1}/content/{page_id}/version/{number}")
        return max(current - 1, 0)

    def add_labels(self, page_id: str, labels: list[str]) -> None:
        self.call("POST", f"{V1}/content/{page_id}/label", body=[{"prefix": "global", "name": n} for n in labels])

    # -- v2 --------------------------------------------------------------------------
    def space_id(self, key: str) -> str:
        found = self.call("GET", f"{V2}/spaces", params={"keys": key, "limit": 1}).get("results") or []
        if not found:
            raise ConfluenceError(
                SYSTEM,
                f"no space with the key {key!r} (or the account cannot see it)",
                status=404,
                method="GET",
                path=f"/{V2}/spaces",
            )
        return str(found[0]["id"])

    def page(self, page_id: str) -> JSON | None:
        """The page with its storage body and version; None when it is gone (deleted, or not visible)."""
        try:
            return dict(self.call("GET", f"{V2}/pages/{page_id}", params={"body-format": "storage"}))
        except ConfluenceError as exc:
            if exc.status == 404:
                return None
            raise

    def trashed(self, page_id: str) -> JSON | None:
        try:
            return dict(self.call("GET", f"{V2}/pages/{page_id}", params={"status": "trashed"}))
        except ConfluenceError as exc:
            if exc.status == 404:
                return None
            raise

    def page_titled(self, space_id: str, title: str) -> JSON | None:
        """The current page of that title in the space: titles are unique in a space, so it is the page's key."""
        found = (
            self.call(
                "GET",
                f"{V2}/pages",
                params={
                    "space-id": space_id,
                    "title": title,
                    "status": "current",
                    "body-format": "storage",
                    "limit": 1,
                },
            ).get("results")
            or []
        )
        return dict(found[0]) if found else None

    def create_page(self, space_id: str, parent_id: str | None, title: str, storage: str) -> JSON:
        body: JSON = {
            "spaceId": space_id,
            "status": "current",
            "title": title,
            "body": {"representation": "storage", "value": storage},
        }
        if parent_id:
            body["parentId"] = parent_id
        return dict(self.call("POST", f"{V2}/pages", body=body))

    def delete_page(self, page_id: str) -> bool:
        """Move the page to the trash, then purge it from there, which takes its earlier versions with it (a
        page only trashed keeps them); False when there was no page to delete.  A retry after a lost answer
        finds the page already in the trash, or gone, and finishes the job."""
        path = f"{V2}/pages/{page_id}"
        try:
            self.call("DELETE", path)
        except ConfluenceError as exc:
            if exc.status != 404:  # 404: already in the trash (or gone): purge what is there
                raise
        try:
            self.call("DELETE", path, params={"purge": "true"})
        except ConfluenceError as exc:
            # A 404 is also how Confluence refuses a call the account may not make: gone only if not in the trash.
            if exc.status == 404 and self.trashed(page_id) is None:
                return False
            raise ConfluenceError(
                SYSTEM,
                f"page {page_id} is in the trash but was not purged ({exc.message}): its earlier versions remain "
                "until a space admin purges it, or the hub's account is given space admin permission",
                status=exc.status,
                method="DELETE",
                path=f"/{path}",
            ) from None
        return True

    def update_page(self, page: JSON, title: str, storage: str, message: str) -> JSON:
        """Save the page as the next version after the one read: a 409 means someone saved it meanwhile."""
        number = int((page.get("version") or {}).get("number") or 0) + 1
        body: JSON = {
            "id": str(page["id"]),
            "status": "current",
            "title": title,
            "body": {"representation": "storage", "value": storage},
            "version": {"number": number, "message": message},
        }
        return dict(self.call("PUT", f"{V2}/pages/{page['id']}", body=body))


def storage_of(page: JSON) -> str:
    return str(((page.get("body") or {}).get("storage") or {}).get("value") or "")


def version_of(page: JSON) -> int:
    return int((page.get("version") or {}).get("number") or 0)


def _number(text: str | None) -> bool:
    try:
        return text is not None and float(text) >= 0
    except ValueError:
        return False


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("title") or errors[0].get("detail") or errors[0].get("code"))[:300]
        for name in ("message", "reason"):
            if body.get(name):
                return str(body[name])[:300]
    return f"HTTP {response.status_code}"
