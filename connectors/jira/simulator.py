"""JiraSimulator: an in-memory Jira Cloud (REST v3) for tests and the demo.

It serves the endpoints the connector uses plus what ``jira.JIRA`` itself
calls on the way (``/field`` for field-name translation in searches,
``/serverInfo`` and ``/myself``).  Everything else is a 404, so a new call
in the connector or the library shows up as a failing test, not a silent
success.  The retired ``/rest/api/3/search`` answers 410 Gone as on Cloud.

Human-side helpers (``add_staff_comment``, ``set_status``...) change state
directly, as if staff had used the Jira UI; they are not counted as API
effects.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from connectors.jira import simjql
from connectors.jira.simmodel import (BOT_ACCOUNT, SIM_LOGIN, SIM_PAT, SIM_PROJECT, SIM_TIMEZONE, SIM_TOKEN,
                                      TRANSITIONS, JSON, Renderer, SimComment, SimIssue,
                                      adf_problem, field_errors)
from connectors.jira.simstaff import StaffActions
from continuum.simkit.server import Simulator

__all__ = ["JiraSimulator", "SIM_LOGIN", "SIM_TOKEN", "SIM_PAT", "SIM_PROJECT", "SIM_TIMEZONE"]

API = "/rest/api/3"
BULK_LIMIT = 50
SEARCH_LIMIT = 100
NOT_FOUND = "Issue does not exist or you do not have permission to see it."


def _rule(path: str, endpoint: str, *methods: str) -> Rule:
    return Rule(API + path, endpoint=endpoint, methods=list(methods))


class JiraSimulator(StaffActions, Simulator):
    system = "jira"
    rules = (
        _rule("/myself", "myself", "GET"),
        _rule("/serverInfo", "server_info", "GET"),
        _rule("/field", "list_fields", "GET"),
        _rule("/search/jql", "search_jql", "GET", "POST"),
        _rule("/search", "search_gone", "GET", "POST"),
        _rule("/issue", "create_issue", "POST"),
        _rule("/issue/bulk", "bulk_create", "POST"),
        _rule("/issue/<id_or_key>", "get_issue_endpoint", "GET"),
        _rule("/issue/<id_or_key>", "edit_issue", "PUT"),
        _rule("/issue/<id_or_key>/comment", "list_comments", "GET"),
        _rule("/issue/<id_or_key>/comment", "add_comment", "POST"),
        _rule("/issue/<id_or_key>/remotelink", "list_remote_links", "GET"),
        _rule("/issue/<id_or_key>/remotelink", "upsert_remote_link", "POST"),
        _rule("/issue/<id_or_key>/transitions", "list_transitions", "GET"),
        _rule("/issue/<id_or_key>/transitions", "do_transition", "POST"),
    )
    # Search results embed at most this many comments per issue (Jira's
    # embedded page is limited too); tests lower it to exercise the follow-up fetch.
    search_comment_limit = 20

    def __init__(self, projects: Iterable[str] = (SIM_PROJECT,)) -> None:
        super().__init__()
        self.zone = ZoneInfo(SIM_TIMEZONE)
        self.projects: dict[str, JSON] = {}
        self._issues: dict[str, SimIssue] = {}
        self._next = {"issue": 10000, "comment": 10000, "link": 10000}
        self._keys: Counter[str] = Counter()
        self._counts: Counter[str] = Counter()
        self._offset = timedelta()
        self._last = datetime.fromtimestamp(0, timezone.utc)
        for key in projects:
            self.create_project(key)

    # -- plumbing -----------------------------------------------------------------

    def _page_start(self, fingerprint: str, token: str | None) -> int | Response:
        """Where a nextPageToken resumes; a token made for another query is refused, as Jira does."""
        if not token:
            return 0
        try:
            mark, offset = base64.urlsafe_b64decode(token.encode()).decode().split(":")
            start = int(offset)
        except (ValueError, binascii.Error):
            return self._error(400, "The provided next page token is invalid or expired.")
        if mark != fingerprint:
            return self._error(400, "The provided next page token is invalid or expired.")
        return start

    def _dispatch(self, request: Request) -> Response:
        if not self._authenticated(request):
            return self.json_response({"errorMessages": ["Client must be authenticated to access this resource."]},
                                      401, {"WWW-Authenticate": 'Basic realm="protected-area"'})
        return super()._dispatch(request)

    @staticmethod
    def _authenticated(request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return value.strip() == SIM_PAT
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{SIM_LOGIN}:{SIM_TOKEN}"

    def now(self) -> datetime:
        """Wall-clock time plus any :meth:`advance_clock` shift, strictly increasing."""
        with self.lock:
            moment = datetime.now(timezone.utc).replace(microsecond=0) + self._offset
            candidate = max(moment, self._last + timedelta(milliseconds=1))
            self._last = candidate
            return candidate

    @property
    def render(self) -> Renderer:
        return Renderer(self.base_url or "http://localhost", self.projects)

    def _find(self, id_or_key: str) -> SimIssue | None:
        issue = self._issues.get(id_or_key)
        if issue is not None:
            return issue
        wanted = id_or_key.upper()
        return next((i for i in self._issues.values() if i.key == wanted), None)

    def _error(self, status: int, *messages: str, errors: JSON | None = None) -> Response:
        return self.json_response({"errorMessages": list(messages), "errors": errors or {}}, status)

    @staticmethod
    def _body(request: Request) -> Any:
        try:
            return json.loads(request.get_data() or b"null")
        except ValueError:
            return None

    # -- endpoints: identity ------------------------------------------------------
    def myself(self, request: Request) -> Response:
        user = self.render.user(BOT_ACCOUNT)
        user.update({"emailAddress": SIM_LOGIN, "locale": "en_US",
                     "groups": {"size": 1, "items": []}, "applicationRoles": {"size": 1, "items": []},
                     "expand": "groups,applicationRoles"})
        return self.json_response(user)

    def server_info(self, request: Request) -> Response:
        now = self.now()
        return self.json_response({"baseUrl": self.base_url, "displayUrl": self.base_url, "version": "1001.0.0-SNAPSHOT",
                                   "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100285,
                                   "buildDate": now.isoformat(timespec="milliseconds"),
                                   "serverTime": now.isoformat(timespec="milliseconds"),
                                   "scmInfo": "simulator", "serverTitle": "Jira"})

    def list_fields(self, request: Request) -> Response:
        return self.json_response(self.render.field_list())

    # -- endpoints: search ----------------------------------------------------------
    def search_gone(self, request: Request) -> Response:
        return self._error(410, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
                                "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")

    def search_jql(self, request: Request) -> Response:
        if request.method == "POST":
            body = self._body(request)
            if not isinstance(body, dict):
                return self._error(400, "Invalid request payload. Refer to the REST API documentation and try again.")
            jql, token, limit, fields = body.get("jql") or "", body.get("nextPageToken"), body.get("maxResults"), body.get("fields")
        else:
            args = request.args
            jql, token, limit = args.get("jql", ""), args.get("nextPageToken"), args.get("maxResults")
            fields = [part for value in args.getlist("fields") for part in value.split(",") if part] or None
        try:
            query = simjql.parse(jql, self.zone)
        except simjql.JqlError as exc:
            return self.json_response({"errorMessages": [str(exc)], "warningMessages": []}, 400)
        if not query.clauses:
            return self.json_response({"errorMessages": ["Unbounded JQL queries are not allowed here. "
                                                         "Please add a search restriction to your query."],
                                       "warningMessages": []}, 400)
        for clause in query.clauses:
            if clause.field == "project" and clause.op in ("=", "in"):
                for value in clause.values:
                    if not any(value.upper() in (p["key"], p["id"]) for p in self.projects.values()):
                        return self.json_response({"errorMessages": [f"The value '{value}' does not exist for the field 'project'."],
                                                   "warningMessages": []}, 400)
        fingerprint = hashlib.sha256(jql.encode()).hexdigest()[:12]
        start = self._page_start(fingerprint, token)
        if isinstance(start, Response):
            return start
        size = max(1, min(int(limit or 50), SEARCH_LIMIT))
        matching = query.sort([row for row in (i.row() for i in self._issues.values()) if query.matches(row)])
        if token and start > 0:
            start, matching = self._misbehave_between_pages(query, start, matching)
        chosen = matching[start:start + size]
        issues = [self.render.issue(self._issues[row["id"]], fields, self.search_comment_limit) for row in chosen]
        result: JSON = {"issues": issues, "isLast": start + size >= len(matching)}
        if not result["isLast"]:
            result["nextPageToken"] = base64.urlsafe_b64encode(f"{fingerprint}:{start + size}".encode()).decode()
        return self.json_response(result)

    def _misbehave_between_pages(self, query: simjql.Query, start: int, matching: list[JSON]) -> tuple[int, list[JSON]]:
        """Pagination faults on a next-page request (``set_paging_faults``, simkit ``PAGING_MODES``)."""
        mode = self.faults.paging_fault()
        if mode == "repeat":  # the page starts a few issues early: they are served twice
            return max(0, start - self.faults._random.randint(1, 3)), matching
        if mode == "shift" and start <= len(matching):
            # Someone edits an issue already served: ORDER BY updated moves it to the end and every
            # later issue up one place, so one issue crosses the page boundary unseen (offset paging).
            row = matching[self.faults._random.randrange(start)]
            self._issues[row["id"]].updated = self.now()
            matching = query.sort([r for r in (i.row() for i in self._issues.values()) if query.matches(r)])
        return start, matching

    # -- endpoints: issues ----------------------------------------------------------
    def create_issue(self, request: Request) -> Response:
        body = self._body(request)
        if not isinstance(body, dict):
            return self._error(400, "Invalid request payload. Refer to the REST API documentation and try again.")
        errors = field_errors(body.get("fields") or {}, creating=True, projects=self.projects)
        if errors:
            return self._error(400, errors=errors)
        issue = self._insert(body["fields"])
        self._counts["created"] += 1
        return self.json_response({"id": issue.id, "key": issue.key, "self": f"{self.render.api}/issue/{issue.id}"}, 201)

    def bulk_create(self, request: Request) -> Response:
        self._counts["bulk_calls"] += 1
        body = self._body(request)
        updates = body.get("issueUpdates") if isinstance(body, dict) else None
        if not isinstance(updates, list):
            return self._error(400, "Invalid request payload. Refer to the REST API documentation and try again.")
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
            self._counts["created"] += 1
            created.append({"id": issue.id, "key": issue.key, "self": f"{self.render.api}/issue/{issue.id}"})
        return self.json_response({"issues": created, "errors": failed}, 201 if created else 400)

    def get_issue_endpoint(self, request: Request, id_or_key: str) -> Response:
        issue = self._find(id_or_key)
        if issue is None:
            return self._error(404, NOT_FOUND)
        wanted = [part for value in request.args.getlist("fields") for part in value.split(",") if part]
        return self.json_response(self.render.issue(issue, wanted or ["*all"]))

    def edit_issue(self, request: Request, id_or_key: str) -> Response:
        issue = self._find(id_or_key)
        if issue is None:
            return self._error(404, NOT_FOUND)
        body = self._body(request)
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return self._error(400, "Invalid request payload. Refer to the REST API documentation and try again.")
        errors = field_errors(fields, creating=False, projects=self.projects)
        if "project" in fields or "issuetype" in fields:
            errors.setdefault("project", "Moving issues between projects or types is not supported here.")
        if errors:
            return self._error(400, errors=errors)
        issue.fields.update(fields)
        issue.updated = self.now()
        self._counts["updated"] += 1
        if request.args.get("returnIssue", "").lower() == "true":
            return self.json_response(self.render.issue(issue, ["*all"]))
        return Response(status=204)

    # -- endpoints: comments ----------------------------------------------------------
    def list_comments(self, request: Request, id_or_key: str) -> Response:
        issue = self._find(id_or_key)
        if issue is None:
            return self._error(404, NOT_FOUND)
        try:
            start = max(0, int(request.args.get("startAt", 0)))
            limit = max(1, min(int(request.args.get("maxResults", 5000)), 5000))
        except ValueError:
            return self._error(400, "startAt and maxResults must be numbers.")
        expand = {part.strip() for part in request.args.get("expand", "").split(",")}
        return self.json_response(self.render.comment_page(issue, start, limit, "properties" in expand))

    def add_comment(self, request: Request, id_or_key: str) -> Response:
        issue = self._find(id_or_key)
        if issue is None:
            return self._error(404, NOT_FOUND)
        body = self._body(request)
        if not isinstance(body, dict):
            return self._error(400, "Invalid request payload. Refer to the REST API documentation and try again.")
        if problem := adf_problem(body.get("body")):
            return self._error(400, errors={"comment": problem})
        properties = body.get("properties") or []
        if not isinstance(properties, list) or not all(isinstance(p, dict) and p.get("key") for p in properties):
            return self._error(400, errors={"properties": "Entity properties need a key and a value."})
        comment = self._add_comment(issue, body["body"], BOT_ACCOUNT, body.get("visibility"), properties)
        self._counts["comments"] += 1
        return self.json_response(self.render.comment(issue, comment), 201)

    # -- endpoints: remote links --------------------------------------------------------
    def list_remote_links(self, request: Request, id_or_key: str) -> Response:
        issue = self._find(id_or_key)
        if issue is None:
            return self._error(404, NOT_FOUND)
        global_id = request.args.get("globalId")
        if global_id is not None:
            link = next((l for l in issue.links if l.get("globalId") == global_id), None)
            if link is None:
                return self._error(404, "No remote link with the given globalId exists.")
            return self.json_response(self.render.remote_link(issue, link))
        return self.json_response([self.render.remote_link(issue, link) for link in issue.links])

    def upsert_remote_link(self, request: Request, id_or_key: str) -> Response:
        issue = self._find(id_or_key)
        if issue is None:
            return self._error(404, NOT_FOUND)
        body = self._body(request)
        target = body.get("object") if isinstance(body, dict) else None
        if not isinstance(target, dict) or not target.get("title") or not target.get("url"):
            missing = "title" if not (isinstance(target, dict) and target.get("title")) else "url"
            return self._error(400, errors={missing: f"'{missing}' is required."})
        link = {k: body[k] for k in ("globalId", "application", "relationship", "object") if k in body}
        existing = next((l for l in issue.links if body.get("globalId") and l.get("globalId") == body["globalId"]), None)
        if existing is not None:
            # Jira's documented upsert: same globalId on the issue = update in place.
            existing.update(link)
            status = 200
        else:
            link["id"] = self._new_id("link")
            issue.links.append(link)
            self._counts["remote_links"] += 1
            existing, status = link, 201
        issue.updated = self.now()
        return self.json_response({"id": existing["id"], "self": f"{self.render.api}/issue/{issue.id}/remotelink/{existing['id']}"}, status)

    # -- endpoints: transitions -----------------------------------------------------------
    def list_transitions(self, request: Request, id_or_key: str) -> Response:
        issue = self._find(id_or_key)
        if issue is None:
            return self._error(404, NOT_FOUND)
        return self.json_response(self.render.transitions(issue))

    def do_transition(self, request: Request, id_or_key: str) -> Response:
        issue = self._find(id_or_key)
        if issue is None:
            return self._error(404, NOT_FOUND)
        body = self._body(request)
        wanted = str(((body or {}).get("transition") or {}).get("id", "")) if isinstance(body, dict) else ""
        match = next((t for t in TRANSITIONS if t[0] == wanted and t[2] != issue.status), None)
        if match is None:
            return self._error(400, f"Transition id '{wanted}' is not valid for this issue.")
        self._set_status(issue, match[2])
        self._counts["transitions"] += 1
        return Response(status=204)

    # -- state changes shared by the API and the human-side helpers -------------------------
    def _new_id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    def _insert(self, fields: JSON) -> SimIssue:
        project = fields.get("project") or {"key": SIM_PROJECT}
        ref = project.get("key") or project.get("id")
        key = next(p["key"] for p in self.projects.values() if ref in (p["key"], p["id"]))
        self._keys[key] += 1
        now = self.now()
        stored = {name: value for name, value in fields.items() if name != "project"}
        issue = SimIssue(id=str(self._new_id("issue")), key=f"{key}-{self._keys[key]}", project=key,
                         created=now, updated=now, fields=stored)
        self._issues[issue.id] = issue
        return issue

    def _add_comment(self, issue: SimIssue, body: JSON, author: JSON, visibility: JSON | None,
                     properties: list[JSON]) -> SimComment:
        now = self.now()
        comment = SimComment(id=str(self._new_id("comment")), body=body, author=author, created=now, updated=now,
                             visibility=visibility, properties=[{"key": p["key"], "value": p.get("value")} for p in properties])
        issue.comments.append(comment)
        issue.updated = now  # a new comment makes the issue "updated", so incremental searches see it
        return comment

    def _set_status(self, issue: SimIssue, name: str) -> None:
        issue.status = name
        issue.resolution_date = self.now() if name == "Done" else None
        issue.updated = self.now()
