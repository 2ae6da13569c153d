"""Jira REST v3 on the ``jira`` library's session (its auth, our HTTP layer), behind one error type.

Plain ``/rest/api/3/<path>`` calls: the library's methods add calls we do not need (its search asks ``/field``
first, ``add_remote_link`` an admin-only list), cannot send entity properties, or fail on a short bulk answer."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import jira
import requests

from connectors.jira.config import JiraConfig
from continuum.connector import JSON
from continuum.http import RetryPolicy, mount
from continuum.kit.errors import ClientError
from continuum.kit.pagination import Fetched, NextTokenPaginator, OffsetPaginator, Paginator, walk

SYSTEM = "jira"


class JiraError(ClientError):
    answer: Any = None  # the decoded error body (a bulk create's per-issue errors)


class JiraApi:
    def __init__(self, config: JiraConfig, policy: RetryPolicy | None = None) -> None:
        token = config.api_token.get_secret_value()
        auth: JSON = {"token_auth": token} if config.auth == "pat" else {"basic_auth": (config.login, token)}
        # No call here (get_server_info=False); v3: ADF bodies, not wiki markup; one retry policy: our HTTP layer's.
        self.client = jira.JIRA(server=config.url, options={"rest_api_version": "3", "check_update": False},
                                max_retries=0, get_server_info=False, **auth)
        mount(self.client._session, SYSTEM, policy)

    def rest(self, method: str, path: str, *, params: JSON | None = None, body: Any = None) -> Any:
        """The decoded answer (``{}`` if empty).  Never ``str(JIRAError)``: it shows the Authorization header."""
        where = f"/rest/api/3/{path}"
        try:
            response = self.client._session.request(method, self.client._get_url(path), params=params,
                                                    data=None if body is None else json.dumps(body))
            return response.json() if response.content else {}
        except jira.JIRAError as exc:
            error = JiraError(SYSTEM, exc.text or "no details", status=exc.status_code, method=method, path=where)
            with contextlib.suppress(ValueError, AttributeError):  # no answer, or not JSON
                error.answer = exc.response.json()  # type: ignore[union-attr]
            raise error from None
        except (requests.RequestException, ValueError) as exc:
            raise JiraError(SYSTEM, f"{type(exc).__name__}: {exc}", method=method, path=where) from None

    def pages(self, path: str, paginator: Paginator, items: str) -> Iterator[JSON]:
        """Every page's body; a page token that comes back, or page after page of repeats, is an error."""
        for page in walk(lambda params: Fetched(self.rest("GET", path, params=params)), paginator,
                         item_ids=lambda body: [item.get("id") for item in body.get(items) or []]):
            yield page.body

    def search(self, jql: str, fields: str, size: int) -> Iterator[JSON]:
        params = {"jql": jql, "maxResults": size, "fields": fields}
        return self.pages("search/jql", NextTokenPaginator(SYSTEM, last_path="isLast", params=params), "issues")

    def comments(self, issue: str, expand: str | None = None) -> Iterator[JSON]:
        paginator = OffsetPaginator(SYSTEM, items_path="comments", params={"expand": expand} if expand else {})
        for page in self.pages(f"issue/{issue}/comment", paginator, "comments"):
            yield from page.get("comments") or []


def jql_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
