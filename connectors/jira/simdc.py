"""REST v2 for the Jira simulator: Cloud's v2 API and a Data Center (Server) mode.

Continuum talks v3 only, but other clients do not: singer-io ``tap-jira``
(the benchmark's peer) calls ``/rest/api/2/serverInfo``, ``/rest/api/2/myself``
and ``/rest/api/2/search/jql``, and falls back to the old
``/rest/api/2/search`` (``startAt`` paging) when ``search/jql`` is missing,
which is what Jira Data Center serves.  This subclass adds those endpoints to
the same in-memory Jira so that both clients read identical issues:

* ``mode="cloud"``: ``/rest/api/2/search/jql`` with ``nextPageToken``, the
  old ``/rest/api/2/search`` answers 410 Gone as it does on Cloud;
* ``mode="datacenter"``: ``deploymentType`` is ``Server``, ``search/jql`` is
  a 404 and ``/rest/api/2/search`` pages with ``startAt``/``total``.

v2 differs from v3 in the body format: rich text (description, environment,
comment bodies) is a wiki-markup string instead of an ADF document.  Only
the read side that the peer needs is served; writes stay v3.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Literal

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from connectors.jira import simjql
from connectors.jira.adf import adf_to_text
from connectors.jira.simmodel import JSON, SimIssue
from connectors.jira.simulator import SEARCH_LIMIT, JiraSimulator

V2 = "/rest/api/2"
Mode = Literal["cloud", "datacenter"]


def _rule(path: str, endpoint: str, *methods: str) -> Rule:
    return Rule(V2 + path, endpoint=endpoint, methods=list(methods))


class JiraV2Simulator(JiraSimulator):
    """The Jira simulator with the v2 read endpoints a v2 client needs."""

    rules = JiraSimulator.rules + (
        _rule("/serverInfo", "v2_server_info", "GET"),
        _rule("/myself", "v2_myself", "GET"),
        _rule("/search/jql", "v2_search_jql", "GET", "POST"),
        _rule("/search", "v2_search", "GET", "POST"),
    )

    def __init__(self, mode: Mode = "cloud", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mode = mode
        # (jql, issue count, newest update) -> the sorted matching ids: a paging client
        # asks the same query once per page, and re-filtering every issue per page would
        # make the simulator, not the client, the thing a benchmark measures.
        self._search_cache: tuple[tuple[str, int, Any], list[str]] | None = None

    # -- identity -------------------------------------------------------------
    def v2_server_info(self, request: Request) -> Response:
        response = self.server_info(request)
        body = json.loads(response.get_data())
        if self.mode == "datacenter":
            body.update({"deploymentType": "Server", "version": "9.12.0", "versionNumbers": [9, 12, 0]})
        return self._v2(body)

    def v2_myself(self, request: Request) -> Response:
        return self._v2(json.loads(self.myself(request).get_data()))

    # -- search ---------------------------------------------------------------
    def search_jql(self, request: Request) -> Response:
        """v3 search with the same cached matching as v2, so both clients pay the same per page."""
        return self._token_search(request, v2=False)

    def v2_search_jql(self, request: Request) -> Response:
        if self.mode == "datacenter":
            return self._error(404, "null for uri: " + request.url)
        return self._token_search(request, v2=True)

    def _token_search(self, request: Request, v2: bool) -> Response:
        args = self._search_args(request)
        if isinstance(args, Response):
            return args
        jql, token, limit, fields, expand = args
        fingerprint = hashlib.sha256(jql.encode()).hexdigest()[:12]
        start = self._page_start(fingerprint, token)
        if isinstance(start, Response):
            return start
        matching = self._matching(jql)
        if isinstance(matching, Response):
            return matching
        chosen = matching[start:start + limit]
        render = self._v2_issue if v2 else (
            lambda issue, wanted, _expand: self.render.issue(issue, wanted, self.search_comment_limit))
        result: JSON = {"issues": [render(self._issues[i], fields, expand) for i in chosen],
                        "isLast": start + limit >= len(matching)}
        if not result["isLast"]:
            result["nextPageToken"] = base64.urlsafe_b64encode(f"{fingerprint}:{start + limit}".encode()).decode()
        return self._v2(result) if v2 else self.json_response(result)

    def v2_search(self, request: Request) -> Response:
        if self.mode == "cloud":
            return self.search_gone(request)
        args = self._search_args(request)
        if isinstance(args, Response):
            return args
        jql, _, limit, fields, expand = args
        source = request.args if request.method == "GET" else (self._body(request) or {})
        try:
            start = max(0, int(source.get("startAt", 0)))
        except (TypeError, ValueError):
            return self._error(400, "startAt must be a number.")
        matching = self._matching(jql)
        if isinstance(matching, Response):
            return matching
        chosen = matching[start:start + limit]
        return self._v2({"expand": "schema,names", "startAt": start, "maxResults": limit, "total": len(matching),
                         "issues": [self._v2_issue(self._issues[i], fields, expand) for i in chosen]})

    # -- helpers --------------------------------------------------------------
    def _search_args(self, request: Request) -> tuple[str, str | None, int, list[str] | None, set[str]] | Response:
        if request.method == "POST":
            body = self._body(request)
            if not isinstance(body, dict):
                return self._error(400, "Invalid request payload. Refer to the REST API documentation and try again.")
            fields, expand = body.get("fields"), body.get("expand") or ""
            jql, token, limit = body.get("jql") or "", body.get("nextPageToken"), body.get("maxResults")
            expand = ",".join(expand) if isinstance(expand, list) else str(expand)
        else:
            args = request.args
            jql, token, limit = args.get("jql", ""), args.get("nextPageToken"), args.get("maxResults")
            fields = [part for value in args.getlist("fields") for part in value.split(",") if part] or None
            expand = args.get("expand", "")
        try:
            size = max(1, min(int(limit or 50), SEARCH_LIMIT))
        except ValueError:
            return self._error(400, "maxResults must be a number.")
        return jql, token, size, fields, {part.strip() for part in expand.split(",") if part.strip()}

    def _matching(self, jql: str) -> list[str] | Response:
        try:
            query = simjql.parse(jql, self.zone)
        except simjql.JqlError as exc:
            return self.json_response({"errorMessages": [str(exc)], "warningMessages": []}, 400)
        newest = max((i.updated for i in self._issues.values()), default=None)
        key = (jql, len(self._issues), newest)
        if self._search_cache is not None and self._search_cache[0] == key:
            return self._search_cache[1]
        rows = query.sort([row for row in (i.row() for i in self._issues.values()) if query.matches(row)])
        ids = [row["id"] for row in rows]
        self._search_cache = (key, ids)
        return ids

    def _v2_issue(self, issue: SimIssue, fields: list[str] | None, expand: set[str]) -> JSON:
        body = self.render.issue(issue, fields, self.search_comment_limit)
        values = body.get("fields") or {}
        for name in ("description", "environment"):
            if values.get(name) is not None:
                values[name] = adf_to_text(values[name])  # v2 bodies are wiki-markup strings
        for comment in (values.get("comment") or {}).get("comments") or []:
            comment["body"] = adf_to_text(comment.get("body"))
        if "changelog" in expand:
            body["changelog"] = {"startAt": 0, "maxResults": 0, "total": 0, "histories": []}
        if "transitions" in expand:
            body["transitions"] = self.render.transitions(issue)["transitions"]
        return body

    def _v2(self, body: Any, status: int = 200) -> Response:
        # v2 answers name v2 URLs; the rendering is shared with v3.
        return Response(json.dumps(body).replace("/rest/api/3/", "/rest/api/2/"), status=status,
                        content_type="application/json")
