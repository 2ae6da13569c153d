"""JiraSimulator: an in-memory Jira Cloud (REST v3) for tests and the demo.

It serves the endpoints the connector uses plus what ``jira.JIRA`` itself
calls on the way (``/field`` for field-name translation in searches,
``/serverInfo`` and ``/myself``).  Everything else is a 404, so a new call
in the connector or the library shows up as a failing test, not a silent
success.  The retired ``/rest/api/3/search`` answers 410 Gone as on Cloud.

Human-side helpers (``add_staff_comment``, ``set_status``...) change state
directly, as if staff had used the Jira UI; they are not counted as API
effects.  Staff can do the same through the API: basic auth with
``SIM_STAFF_LOGIN`` and ``SIM_STAFF_TOKEN`` acts as the staff member (a
comment is theirs, a transition is theirs), and only the hub's own calls count
as its effects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from connectors.jira.simmodel import (
    BOT_ACCOUNT,
    JSON,
    SIM_LOGIN,
    SIM_PAT,
    SIM_PROJECT,
    SIM_STAFF_LOGIN,
    SIM_STAFF_TOKEN,
    SIM_TIMEZONE,
    SIM_TOKEN,
    STAFF_ACCOUNT,
    TRANSITIONS,
    Renderer,
    SimComment,
    SimIssue,
    adf_problem,
    field_errors,
)
from connectors.jira.simsearch import SearchRoutes
from connectors.jira.simstaff import StaffActions
from continuum.simkit import Clock, Response, Serial, SimRequest, Simulator, Table, under

__all__ = ["SIM_LOGIN", "SIM_PAT", "SIM_PROJECT", "SIM_STAFF_LOGIN", "SIM_STAFF_TOKEN", "SIM_TIMEZONE", "SIM_TOKEN",
           "JiraSimulator"]

API = "/rest/api/3"
BULK_LIMIT = 50
NOT_FOUND = "Issue does not exist or you do not have permission to see it."
BAD_PAYLOAD = "Invalid request payload. Refer to the REST API documentation and try again."
api = under(API)


class JiraSimulator(SearchRoutes, StaffActions, Simulator):
    system = "jira"
    effects = ("created", "updated", "comments", "replies", "transitions", "remote_links", "calls", "bulk_calls")
    # Search results embed at most this many comments per issue (Jira's
    # embedded page is limited too); tests lower it to exercise the follow-up fetch.
    search_comment_limit = 20
    # Who may call the API (`continuum simulate` prints these): the hub and staff.
    accounts: ClassVar[tuple[JSON, ...]] = (
        {"role": "hub", "basic": [SIM_LOGIN, SIM_TOKEN], "does": "the hub's own account (its connection)"},
        {"role": "staff", "basic": [SIM_STAFF_LOGIN, SIM_STAFF_TOKEN],
         "does": "answer on a ticket: POST /rest/api/3/issue/<key>/comment with an ADF body (public; a "
                 "'visibility' makes it an internal note), POST .../transitions {\"transition\": {\"id\": \"31\"}} "
                 "closes it"},
    )

    def __init__(self, projects: Iterable[str] = (SIM_PROJECT,)) -> None:
        super().__init__()
        self.zone = ZoneInfo(SIM_TIMEZONE)
        self.clock = Clock()  # wall-clock time, so JQL dates near "now" mean what they say
        self.projects: dict[str, JSON] = {}
        self._issues: Table[str, SimIssue] = Table("issue", first_id=10001)
        self._comment_ids, self._link_ids = Serial(10001), Serial(10001)
        self._keys: Counter[str] = Counter()
        # (jql, issue count, newest update) -> the sorted matching ids: a paging client asks the
        # same query once per page, and re-filtering every issue per page would make the
        # simulator, not the client, the thing a benchmark measures.
        self._search_cache: tuple[tuple[str, int, datetime | None], list[str]] | None = None
        for key in projects:
            self.create_project(key)
        self._caller: JSON = BOT_ACCOUNT  # who the request being served acts as (set under self.lock)

    # -- plumbing -----------------------------------------------------------------
    def authenticate(self, request: SimRequest) -> Response | None:
        token, basic = request.bearer_token(), request.basic_credentials()
        if token == SIM_PAT or basic == (SIM_LOGIN, SIM_TOKEN):
            self._caller = BOT_ACCOUNT
            return None
        if basic == (SIM_STAFF_LOGIN, SIM_STAFF_TOKEN):
            self._caller = STAFF_ACCOUNT
            return None
        return self.json_response({"errorMessages": ["Client must be authenticated to access this resource."]},
                                  401, {"WWW-Authenticate": 'Basic realm="protected-area"'})

    def _count(self, effect: str) -> None:
        """Count an effect of the hub's (staff's calls are people at work, not the hub's effects)."""
        if self._caller is BOT_ACCOUNT:
            self.count(effect)

    def now(self) -> datetime:
        """Wall-clock time plus any :meth:`advance_clock` shift, strictly increasing."""
        with self.lock:
            return self.clock.now()

    @property
    def render(self) -> Renderer:
        return Renderer(self.base_url or "http://localhost", self.projects)

    def _find(self, id_or_key: str) -> SimIssue | None:
        wanted = id_or_key.upper()
        return self._issues.get(id_or_key) or self._issues.find(lambda i: i.key == wanted)

    def _issue(self, id_or_key: str) -> SimIssue:
        """The issue a path names, or Jira's 404 answer."""
        return self._find(id_or_key) or self.reject(self._error(404, NOT_FOUND))

    def _object(self, request: SimRequest) -> JSON:
        """The request body as a JSON object, or Jira's 400 answer."""
        body = request.json_body
        return body if isinstance(body, dict) else self.reject(self._error(400, BAD_PAYLOAD))

    def _error(self, status: int, *messages: str, errors: JSON | None = None) -> Response:
        return self.json_response({"errorMessages": list(messages), "errors": errors or {}}, status)

    # -- endpoints: identity ------------------------------------------------------
    @api("/myself", "GET")
    def myself(self, request: SimRequest) -> Response:
        user = self.render.user(self._caller)
        user.update({"emailAddress": self._caller["emailAddress"], "locale": "en_US",
                     "groups": {"size": 1, "items": []}, "applicationRoles": {"size": 1, "items": []},
                     "expand": "groups,applicationRoles"})
        return self.json_response(user)

    @api("/serverInfo", "GET")
    def server_info(self, request: SimRequest) -> Response:
        now = self.now().isoformat(timespec="milliseconds")
        return self.json_response({"baseUrl": self.base_url, "displayUrl": self.base_url,
                                   "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
                                   "deploymentType": "Cloud", "buildNumber": 100285, "buildDate": now,
                                   "serverTime": now, "scmInfo": "simulator", "serverTitle": "Jira"})

    @api("/field", "GET")
    def list_fields(self, request: SimRequest) -> Response:
        return self.json_response(self.render.field_list())

    # -- endpoints: issues ----------------------------------------------------------
    @api("/issue", "POST")
    def create_issue(self, request: SimRequest) -> Response:
        body = self._object(request)
        errors = field_errors(body.get("fields") or {}, creating=True, projects=self.projects)
        if errors:
            return self._error(400, errors=errors)
        issue = self._insert(body["fields"])
        self._count("created")
        return self.json_response({"id": issue.id, "key": issue.key, "self": f"{self.render.api}/issue/{issue.id}"},
                                  201)

    @api("/issue/bulk", "POST")
    def bulk_create(self, request: SimRequest) -> Response:
        self.count("bulk_calls")
        body = request.json_body
        updates = body.get("issueUpdates") if isinstance(body, dict) else None
        if not isinstance(updates, list):
            return self._error(400, BAD_PAYLOAD)
        if len(updates) > BULK_LIMIT:
            return self._error(400, f"The number of issues in the request is limited to {BULK_LIMIT}.")
        created: list[JSON] = []
        failed: list[JSON] = []
        for number, update in enumerate(updates):
            fields = update.get("fields") if isinstance(update, dict) else None
            errors = field_errors(fields or {}, creating=True, projects=self.projects)
            if errors:
                failed.append({"status": 400, "failedElementNumber": number,
                               "elementErrors": {"errorMessages": [], "errors": errors}})
                continue
            issue = self._insert(fields or {})
            self._count("created")
            created.append({"id": issue.id, "key": issue.key, "self": f"{self.render.api}/issue/{issue.id}"})
        return self.json_response({"issues": created, "errors": failed}, 201 if created else 400)

    @api("/issue/<id_or_key>", "GET")
    def get_issue_endpoint(self, request: SimRequest, id_or_key: str) -> Response:
        issue = self._issue(id_or_key)
        wanted = [part for value in request.args.getlist("fields") for part in value.split(",") if part]
        return self.json_response(self.render.issue(issue, wanted or ["*all"]))

    @api("/issue/<id_or_key>", "PUT")
    def edit_issue(self, request: SimRequest, id_or_key: str) -> Response:
        issue = self._issue(id_or_key)
        body = request.json_body
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return self._error(400, BAD_PAYLOAD)
        errors = field_errors(fields, creating=False, projects=self.projects)
        if "project" in fields or "issuetype" in fields:
            errors.setdefault("project", "Moving issues between projects or types is not supported here.")
        if errors:
            return self._error(400, errors=errors)
        issue.fields.update(fields)
        issue.updated = self.now()
        self._count("updated")
        if request.args.get("returnIssue", "").lower() == "true":
            return self.json_response(self.render.issue(issue, ["*all"]))
        return Response(status=204)

    # -- endpoints: comments ----------------------------------------------------------
    @api("/issue/<id_or_key>/comment", "GET")
    def list_comments(self, request: SimRequest, id_or_key: str) -> Response:
        issue = self._issue(id_or_key)
        try:
            start = max(0, int(request.args.get("startAt", 0)))
            limit = max(1, min(int(request.args.get("maxResults", 5000)), 5000))
        except ValueError:
            return self._error(400, "startAt and maxResults must be numbers.")
        expand = {part.strip() for part in request.args.get("expand", "").split(",")}
        # No paging faults here (only searches get them): the connector asks for startAt = the
        # comments it holds, so a repeated page would hand the same comments on twice.
        return self.json_response(self.render.comment_page(issue, start, limit, "properties" in expand))

    @api("/issue/<id_or_key>/comment", "POST")
    def add_comment(self, request: SimRequest, id_or_key: str) -> Response:
        issue = self._issue(id_or_key)
        body = self._object(request)
        if problem := adf_problem(body.get("body")):
            return self._error(400, errors={"comment": problem})
        properties = body.get("properties") or []
        if not isinstance(properties, list) or not all(isinstance(p, dict) and p.get("key") for p in properties):
            return self._error(400, errors={"properties": "Entity properties need a key and a value."})
        comment = self._add_comment(issue, body["body"], self._caller, body.get("visibility"), properties)
        self._count("comments")
        return self.json_response(self.render.comment(issue, comment), 201)

    # -- endpoints: remote links --------------------------------------------------------
    @api("/issue/<id_or_key>/remotelink", "GET")
    def list_remote_links(self, request: SimRequest, id_or_key: str) -> Response:
        issue = self._issue(id_or_key)
        global_id = request.args.get("globalId")
        if global_id is not None:
            link = next((link for link in issue.links if link.get("globalId") == global_id), None)
            if link is None:
                return self._error(404, "No remote link with the given globalId exists.")
            return self.json_response(self.render.remote_link(issue, link))
        return self.json_response([self.render.remote_link(issue, link) for link in issue.links])

    @api("/issue/<id_or_key>/remotelink", "POST")
    def upsert_remote_link(self, request: SimRequest, id_or_key: str) -> Response:
        issue = self._issue(id_or_key)
        body = request.json_body
        target = body.get("object") if isinstance(body, dict) else None
        if not isinstance(target, dict) or not target.get("title") or not target.get("url"):
            missing = "title" if not (isinstance(target, dict) and target.get("title")) else "url"
            return self._error(400, errors={missing: f"'{missing}' is required."})
        link = {k: body[k] for k in ("globalId", "application", "relationship", "object") if k in body}
        global_id = body.get("globalId")
        existing = next((old for old in issue.links if global_id and old.get("globalId") == global_id), None)
        if existing is not None:
            # Jira's documented upsert: same globalId on the issue = update in place.
            existing.update(link)
            status = 200
        else:
            link["id"] = self._link_ids.next()
            issue.links.append(link)
            self._count("remote_links")
            existing, status = link, 201
        issue.updated = self.now()
        return self.json_response({"id": existing["id"],
                                   "self": f"{self.render.api}/issue/{issue.id}/remotelink/{existing['id']}"}, status)

    @api("/issue/<id_or_key>/remotelink", "DELETE")
    def delete_remote_link(self, request: SimRequest, id_or_key: str) -> Response:
        """Jira's delete by ``globalId`` (required here: the hub never deletes a link it cannot name)."""
        issue = self._issue(id_or_key)
        global_id = request.args.get("globalId")
        if not global_id:
            return self._error(400, errors={"globalId": "'globalId' is required."})
        kept = [link for link in issue.links if link.get("globalId") != global_id]
        if len(kept) == len(issue.links):
            return self._error(404, "No remote link with the given globalId exists.")
        issue.links[:] = kept
        issue.updated = self.now()
        return Response(status=204)

    # -- endpoints: transitions -----------------------------------------------------------
    @api("/issue/<id_or_key>/transitions", "GET")
    def list_transitions(self, request: SimRequest, id_or_key: str) -> Response:
        issue = self._issue(id_or_key)
        return self.json_response(self.render.transitions(issue))

    @api("/issue/<id_or_key>/transitions", "POST")
    def do_transition(self, request: SimRequest, id_or_key: str) -> Response:
        issue = self._issue(id_or_key)
        body = request.json_body
        wanted = str(((body or {}).get("transition") or {}).get("id", "")) if isinstance(body, dict) else ""
        match = next((t for t in TRANSITIONS if t[0] == wanted and t[2] != issue.status), None)
        if match is None:
            return self._error(400, f"Transition id '{wanted}' is not valid for this issue.")
        self._set_status(issue, match[2])
        self._count("transitions")
        return Response(status=204)

    # -- state changes shared by the API and the human-side helpers -------------------------
    def _insert(self, fields: JSON) -> SimIssue:
        project = fields.get("project") or {"key": SIM_PROJECT}
        ref = project.get("key") or project.get("id")
        key = next(p["key"] for p in self.projects.values() if ref in (p["key"], p["id"]))
        self._keys[key] += 1
        now = self.now()
        stored = {name: value for name, value in fields.items() if name != "project"}
        return self._issues.add(SimIssue(id=str(self._issues.next_id()), key=f"{key}-{self._keys[key]}", project=key,
                                         created=now, updated=now, fields=stored))

    def _add_comment(self, issue: SimIssue, body: JSON, author: JSON, visibility: JSON | None,
                     properties: list[JSON]) -> SimComment:
        now = self.now()
        comment = SimComment(id=str(self._comment_ids.next()), body=body, author=author, created=now, updated=now,
                             visibility=visibility,
                             properties=[{"key": p["key"], "value": p.get("value")} for p in properties])
        issue.comments.append(comment)
        issue.updated = now  # a new comment makes the issue "updated", so incremental searches see it
        return comment

    def _set_status(self, issue: SimIssue, name: str) -> None:
        issue.status = name
        issue.resolution_date = self.now() if name == "Done" else None
        issue.updated = self.now()
