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

import json
from typing import Any, Literal

from connectors.jira.adf import adf_to_text
from connectors.jira.simmodel import JSON, SimIssue
from connectors.jira.simulator import JiraSimulator
from continuum.simkit import Response, SimRequest, under, window

V2 = "/rest/api/2"
Mode = Literal["cloud", "datacenter"]
v2 = under(V2)


class JiraV2Simulator(JiraSimulator):
    """The Jira simulator with the v2 read endpoints a v2 client needs."""

    def __init__(self, mode: Mode = "cloud", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mode = mode

    # -- identity -------------------------------------------------------------
    @v2("/serverInfo", "GET")
    def v2_server_info(self, request: SimRequest) -> Response:
        body = json.loads(self.server_info(request).get_data())
        if self.mode == "datacenter":
            body.update({"deploymentType": "Server", "version": "9.12.0", "versionNumbers": [9, 12, 0]})
        return self._v2(body)

    @v2("/myself", "GET")
    def v2_myself(self, request: SimRequest) -> Response:
        return self._v2(json.loads(self.myself(request).get_data()))

    # -- search ---------------------------------------------------------------
    @v2("/search/jql", "GET", "POST")
    def v2_search_jql(self, request: SimRequest) -> Response:
        if self.mode == "datacenter":
            return self._error(404, "null for uri: " + request.url)
        args = self._search_args(request)
        return self._v2(self._token_page(args, self._query(args.jql),
                                         lambda issue: self._v2_issue(issue, args.fields, args.expand)))

    @v2("/search", "GET", "POST")
    def v2_search(self, request: SimRequest) -> Response:
        """Data Center's offset paging: ``startAt``, ``maxResults`` and ``total``."""
        if self.mode == "cloud":
            return self.search_gone(request)
        args = self._search_args(request)
        source = request.args if request.method == "GET" else (request.json_body or {})
        try:
            start = max(0, int(source.get("startAt", 0)))
        except (TypeError, ValueError):
            return self._error(400, "startAt must be a number.")
        query = self._query(args.jql)
        page = window(self.faults, lambda: self._matching(args.jql, query), args.size, start=start,
                      resumed=start > 0, shift=self._edit_served)
        return self._v2({"expand": "schema,names", **page.offset_fields(args.size),
                         "issues": [self._v2_issue(self._issues[i], args.fields, args.expand) for i in page.items]})

    # -- helpers --------------------------------------------------------------
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
