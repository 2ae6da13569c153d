"""The search side of the Jira simulator: JQL over the enhanced ``/search/jql`` (``nextPageToken`` paging),
the retired ``/search`` answering 410 Gone as on Cloud.  Mixed into :class:`JiraSimulator`; the Data Center
mode (simdc.py) reuses the argument parsing, the query and the paging for its v2 routes."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn
from zoneinfo import ZoneInfo

from connectors.jira import simjql
from connectors.jira.simmodel import JSON, Renderer, SimIssue
from continuum.simkit import PageTokens, Response, SimRequest, Table, under, window

SEARCH_LIMIT = 100
TOKENS = PageTokens(urlsafe=True)
api = under("/rest/api/3")


class SearchArgs(NamedTuple):
    jql: str
    token: str | None
    size: int
    fields: list[str] | None
    expand: set[str]


class SearchRoutes:
    zone: ZoneInfo
    faults: Any
    projects: dict[str, JSON]
    search_comment_limit: int
    _issues: Table[str, SimIssue]
    _search_cache: tuple[tuple[str, int, datetime | None], list[str]] | None

    if TYPE_CHECKING:  # what the simulator provides; declared for the type checker only, never shadowing it
        @property
        def render(self) -> Renderer: ...

        def now(self) -> datetime: ...

        def json_response(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
            ...

        def reject(self, response: Response) -> NoReturn: ...

        def _error(self, status: int, *messages: str, errors: JSON | None = None) -> Response: ...

        def _object(self, request: SimRequest) -> JSON: ...

    # -- endpoints: search ----------------------------------------------------------
    @api("/search", "GET", "POST")
    def search_gone(self, request: SimRequest) -> Response:
        return self._error(410, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                                "API. A full migration guideline is available at "
                                "https://developer.atlassian.com/changelog/#CHANGE-2046")

    @api("/search/jql", "GET", "POST")
    def search_jql(self, request: SimRequest) -> Response:
        args = self._search_args(request)
        query = self._query(args.jql)
        if not query.clauses:
            return self.json_response({"errorMessages": ["Unbounded JQL queries are not allowed here. "
                                                         "Please add a search restriction to your query."],
                                       "warningMessages": []}, 400)
        unknown = query.unknown_project({ref for p in self.projects.values() for ref in (p["key"], p["id"])})
        if unknown is not None:
            return self.json_response({"errorMessages": [f"The value '{unknown}' does not exist for the field "
                                                         "'project'."], "warningMessages": []}, 400)
        return self.json_response(self._token_page(
            args, query, lambda issue: self.render.issue(issue, args.fields, self.search_comment_limit)))

    def _search_args(self, request: SimRequest) -> SearchArgs:
        if request.method == "POST":
            body = self._object(request)
            fields, expand = body.get("fields"), body.get("expand") or ""
            jql, token, limit = body.get("jql") or "", body.get("nextPageToken"), body.get("maxResults")
            expand = ",".join(expand) if isinstance(expand, list) else str(expand)
        else:
            jql, token, limit = request.args.get("jql", ""), request.args.get("nextPageToken"), request.args.get(
                "maxResults")
            fields = [part for value in request.args.getlist("fields") for part in value.split(",") if part] or None
            expand = request.args.get("expand", "")
        try:
            size = max(1, min(int(limit or 50), SEARCH_LIMIT))
        except ValueError:
            self.reject(self._error(400, "maxResults must be a number."))
        return SearchArgs(jql, token, size, fields, {part.strip() for part in expand.split(",") if part.strip()})

    def _query(self, jql: str) -> simjql.Query:
        try:
            return simjql.parse(jql, self.zone)
        except simjql.JqlError as exc:
            self.reject(self.json_response({"errorMessages": [str(exc)], "warningMessages": []}, 400))

    def _matching(self, jql: str, query: simjql.Query) -> list[str]:
        """The ids of the issues ``query`` finds, in its order."""
        newest = max((i.updated for i in self._issues.values()), default=None)
        key = (jql, len(self._issues), newest)
        if self._search_cache is None or self._search_cache[0] != key:
            rows = query.sort([row for row in (i.row() for i in self._issues.values()) if query.matches(row)])
            self._search_cache = (key, [row["id"] for row in rows])
        return self._search_cache[1]

    def _token_page(self, args: SearchArgs, query: simjql.Query, render: Callable[[SimIssue], JSON]) -> JSON:
        """One ``nextPageToken`` page; a token made for another query is refused, as Jira does."""
        fingerprint = hashlib.sha256(args.jql.encode()).hexdigest()[:12]
        start = TOKENS.offset(fingerprint, args.token)
        if start is None:
            self.reject(self._error(400, "The provided next page token is invalid or expired."))
        page = window(self.faults, lambda: self._matching(args.jql, query), args.size, start=start,
                      resumed=start > 0, shift=self._edit_served)
        result: JSON = {"issues": [render(self._issues[i]) for i in page.items], "isLast": not page.more}
        if page.more:
            result["nextPageToken"] = TOKENS.encode(fingerprint, page.end)
        return result

    def _edit_served(self, rng: random.Random, served: Sequence[str]) -> None:
        """The "shift" paging fault: someone edits an issue already served.

        ORDER BY updated moves it to the end and every later issue up one place,
        so one issue crosses the page boundary unseen (offset paging).
        """
        if served:
            self._issues[served[rng.randrange(len(served))]].updated = self.now()

