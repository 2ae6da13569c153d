"""GithubSimulator: an in-memory GitHub REST API (one repository's issues and comments) for tests and the demo.

It serves what the connector uses: ``GET /user``, listing (``labels``, ``state``, ``creator``, ``since``,
``sort``, ``direction``, ``per_page``/``page`` with ``Link`` headers), creating, reading and updating issues, and
listing and creating comments, per issue and for the whole repository.  Every answer carries the primary window's
``x-ratelimit-*`` headers; a spent window answers 403 as GitHub does, and :meth:`secondary_limit` makes the next
calls meet the secondary limit (403 or 429, with or without ``Retry-After``).  Anything else is a 404, so a new
call in the connector shows up as a failing test.

Staff helpers (``add_staff_issue``, ``add_comment``, ``close``) change state as people would on github.com; the
staff token does the same through the API, as a member of the organisation.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from connectors.github.plugin import SIM_LOGIN, SIM_REPOSITORY, SIM_TOKEN
from connectors.github.simmodel import DOCS, JSON, Renderer, SimComment, SimIssue, SimUser
from continuum.simkit import Response, Serial, SimRequest, Simulator, Table, page_number_links, route, window

SIM_STAFF_LOGIN, SIM_STAFF_TOKEN = "mona-staff", "sim-github-staff-token"
SIM_VISITOR_LOGIN, SIM_VISITOR_TOKEN = "random-visitor", "sim-github-visitor-token"
SIM_APP_LOGIN = "ci-helper[bot]"
REPO = "/repos/<owner>/<repo>"
WINDOW_S = 3600
SECONDARY = ("You have exceeded a secondary rate limit and have been temporarily blocked from content creation. "
             "Please retry your request again later.")


class GithubSimulator(Simulator):
    system = "github"
    effects = ("created", "updated", "comments", "calls")
    rate_limit = 5000  # calls per hour; tests lower it to spend the window
    accounts: ClassVar[tuple[JSON, ...]] = (
        {"role": "hub", "headers": {"Authorization": f"Bearer {SIM_TOKEN}"}, "does": "the hub's own account"},
        {"role": "staff", "headers": {"Authorization": f"Bearer {SIM_STAFF_TOKEN}"},
         "does": f"answer on an issue: POST /repos/{SIM_REPOSITORY}/issues/<number>/comments {{\"body\": ...}}; "
                 "PATCH /repos/.../issues/<number> {\"state\": \"closed\", \"state_reason\": \"completed\"} ships it"},
    )

    def __init__(self, repository: str = SIM_REPOSITORY) -> None:
        super().__init__()
        self.repository = repository
        self.users = {user.login: user for user in (
            SimUser(1001, SIM_LOGIN, "MEMBER"), SimUser(1002, SIM_STAFF_LOGIN, "MEMBER"),
            SimUser(1003, SIM_VISITOR_LOGIN, "NONE"), SimUser(1004, SIM_APP_LOGIN, "NONE", type="Bot"))}
        self.tokens = {SIM_TOKEN: SIM_LOGIN, SIM_STAFF_TOKEN: SIM_STAFF_LOGIN, SIM_VISITOR_TOKEN: SIM_VISITOR_LOGIN}
        self._issues: Table[int, SimIssue] = Table("issue")
        self._comments: Table[int, SimComment] = Table("comment", first_id=900001)
        self._issue_ids = Serial(5000001)
        self._last = datetime.fromtimestamp(0, UTC)
        self._caller = SIM_LOGIN
        self._window_start, self._used = time.time(), 0
        self._secondary: list[tuple[int, str | None]] = []  # (status, Retry-After) for the next calls

    # -- people's side --------------------------------------------------------------
    def now(self) -> datetime:
        """Wall-clock seconds (GitHub's precision), each change at least a second after the last: an edit
        always shows in `updated_at`."""
        with self.lock:
            self._last = max(datetime.now(UTC).replace(microsecond=0), self._last + timedelta(seconds=1))
            return self._last

    def add_staff_issue(self, title: str, body: str = "", labels: Sequence[str] = (), author: str = SIM_STAFF_LOGIN
                        ) -> int:
        with self.lock:
            return self._add_issue(author, title, body, list(labels)).number

    def add_comment(self, number: int, body: str, author: str = SIM_STAFF_LOGIN) -> int:
        with self.lock:
            return self._add_comment(self._numbered(number) or self._missing(number), body, author).id

    def close(self, number: int, reason: str = "completed", by: str = SIM_STAFF_LOGIN) -> None:
        with self.lock:
            issue, now = self._numbered(number) or self._missing(number), self.now()
            issue.state, issue.state_reason, issue.closed_at, issue.closed_by, issue.updated_at = \
                "closed", reason, now, by, now

    # The demo's staff (continuum.demo.story), as on every ticket desk's simulator.
    def staff_answer(self, number: str, text: str, public: bool = True) -> None:
        """GitHub has no private comments: an internal note is not written there at all."""
        if public:
            self.add_comment(int(number), text)

    def staff_resolve(self, number: str) -> None:
        self.close(int(number), "completed")

    def staff_ship(self, number: str) -> None:
        self.close(int(number), "completed")

    def edit_comment(self, comment_id: int, body: str) -> None:
        with self.lock:
            comment = self._comments[comment_id]
            comment.body, comment.updated_at = body, self.now()

    def issues(self) -> list[JSON]:
        with self.lock:
            return [self.render.issue(issue) for issue in self._issues.values()]

    def comments(self, number: int | None = None) -> list[JSON]:
        with self.lock:
            return [self.render.comment(c, "full+json") for c in self._comments.values()
                    if number is None or c.number == number]

    def secondary_limit(self, times: int = 1, retry_after: str | None = "1", status: int = 403) -> None:
        """The next ``times`` calls meet GitHub's secondary rate limit."""
        with self.lock:
            self._secondary += [(status, retry_after)] * times

    # -- plumbing -------------------------------------------------------------------
    @property
    def render(self) -> Renderer:
        return Renderer(self.base_url or "http://localhost", self.repository, self.users)

    def _numbered(self, number: int) -> SimIssue | None:
        return self._issues.find(lambda issue: issue.number == number)

    @staticmethod
    def _missing(number: int) -> SimIssue:
        raise KeyError(f"no issue #{number}")

    def _add_issue(self, author: str, title: str, body: str | None, labels: list[str]) -> SimIssue:
        now = self.now()
        return self._issues.add(SimIssue(self._issue_ids.next(), self._issues.next_id(), title, body,
                                         list(dict.fromkeys(labels)), author, now, now))

    def _add_comment(self, issue: SimIssue, body: str, author: str) -> SimComment:
        now = self.now()
        comment = self._comments.add(SimComment(self._comments.next_id(), issue.number, body, author, now, now))
        issue.comments.append(comment.id)
        issue.updated_at = now  # a comment is a change of its issue, as on GitHub
        return comment

    def _error(self, status: int, message: str, errors: list[JSON] | None = None,
               headers: dict[str, str] | None = None) -> Response:
        body: JSON = {"message": message, "documentation_url": DOCS, "status": str(status)}
        return self.json_response({**body, **({"errors": errors} if errors else {})}, status, headers)

    def _invalid(self, field: str, code: str = "invalid") -> Response:
        return self._error(422, "Validation Failed", [{"resource": "Issue", "field": field, "code": code}])

    def _dispatch(self, request: SimRequest) -> Response:
        with self.lock:
            now = time.time()
            if now >= self._window_start + WINDOW_S:
                self._window_start, self._used = now, 0
            spent = self._used >= self.rate_limit
            self._used += 0 if spent else 1
            headers = {"x-ratelimit-limit": str(self.rate_limit), "x-ratelimit-used": str(self._used),
                       "x-ratelimit-remaining": str(max(self.rate_limit - self._used, 0)),
                       "x-ratelimit-reset": str(int(self._window_start + WINDOW_S)), "x-ratelimit-resource": "core"}
            secondary = self._secondary.pop(0) if self._secondary and not spent else None
        if spent:
            response = self._error(403, "API rate limit exceeded for user ID 1001. If you reach out to GitHub "
                                        "Support for help, please include the request ID.")
        elif secondary is not None:
            status, wait = secondary
            response = self._error(status, SECONDARY, headers={"Retry-After": wait} if wait else None)
        else:
            response = super()._dispatch(request)
        response.headers.update(headers)
        return response

    def authenticate(self, request: SimRequest) -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        login = self.tokens.get(token.strip()) if scheme.lower() in ("bearer", "token") else None
        if login is None:
            return self._error(401, "Bad credentials")
        self._caller = login
        return None

    def _repo(self, owner: str, repo: str) -> None:
        if f"{owner}/{repo}".lower() != self.repository.lower():
            self.reject(self._error(404, "Not Found"))

    def _issue(self, owner: str, repo: str, number: int) -> SimIssue:
        self._repo(owner, repo)
        return self._numbered(number) or self.reject(self._error(404, "Not Found"))

    def _object(self, request: SimRequest) -> JSON:
        body = request.json_body
        return body if isinstance(body, dict) else self.reject(self._error(400, "Problems parsing JSON"))

    def _count(self, effect: str) -> None:
        if self._caller == SIM_LOGIN:  # staff at work are not the hub's effects
            self.count(effect)

    def _paged(self, request: SimRequest, rows: Any, shift: Any) -> tuple[list[Any], dict[str, str]]:
        """One page of ``rows()`` by ``page``/``per_page`` (GitHub's defaults), with its ``Link`` header."""
        try:
            per_page, page = int(request.args.get("per_page", 30)), int(request.args.get("page", 1))
        except ValueError:
            self.reject(self._invalid("per_page"))
        per_page = min(max(per_page, 1), 100)
        got = window(self.faults, rows, per_page, start=(max(page, 1) - 1) * per_page, resumed=page > 1, shift=shift)
        link = page_number_links(self.base_url + request.path, dict(request.args.items()), max(page, 1), per_page,
                                 got.total)
        return got.items, {"Link": link} if link else {}

    def _since(self, request: SimRequest) -> datetime | None:
        raw = request.args.get("since")
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None
        except ValueError:
            return self.reject(self._invalid("since"))

    # -- endpoints ------------------------------------------------------------------
    @route("/user")
    def user(self, request: SimRequest) -> Response:
        return self.json_response(self.render.public_user(self._caller, datetime(2020, 1, 1, tzinfo=UTC)))

    @route(f"{REPO}/issues", "GET")
    def list_issues(self, request: SimRequest, owner: str, repo: str) -> Response:
        self._repo(owner, repo)
        args, since = request.args, self._since(request)
        state, sort, direction = args.get("state", "open"), args.get("sort", "created"), args.get("direction", "desc")
        if state not in ("open", "closed", "all") or sort not in ("created", "updated", "comments") \
                or direction not in ("asc", "desc"):
            return self._invalid("state" if state not in ("open", "closed", "all") else "sort")
        wanted = [name for name in args.get("labels", "").split(",") if name]

        def rows() -> list[SimIssue]:
            found = [i for i in self._issues.values() if (state == "all" or i.state == state)
                     and all(name in i.labels for name in wanted) and (since is None or i.updated_at >= since)
                     and args.get("creator") in (None, i.author)]
            found.sort(key=lambda i: (getattr(i, f"{sort}_at") if sort != "comments" else len(i.comments), i.number))
            return found if direction == "asc" else found[::-1]

        def edited_meanwhile(rng: random.Random, served: Sequence[SimIssue]) -> None:  # the "shift" paging fault
            if served and rng.random() < 0.7:
                served[rng.randrange(len(served))].updated_at = self.now()
            else:
                self._add_issue(SIM_STAFF_LOGIN, "Filed while the hub paged", "", wanted)

        items, headers = self._paged(request, rows, edited_meanwhile)
        return self.json_response([self.render.issue(issue) for issue in items], headers=headers)

    @route(f"{REPO}/issues", "POST")
    def create_issue(self, request: SimRequest, owner: str, repo: str) -> Response:
        self._repo(owner, repo)
        body = self._object(request)
        title, text, labels = body.get("title"), body.get("body"), body.get("labels") or []
        if not isinstance(title, str | int) or not str(title).strip():
            return self._invalid("title", "missing_field")
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            return self._invalid("labels")
        if text is not None and (not isinstance(text, str) or len(text) > 65536):
            return self._invalid("body")
        issue = self._add_issue(self._caller, str(title)[:256], text, labels)
        self._count("created")
        return self.json_response(self.render.issue(issue), 201,
                                  {"Location": f"{self.base_url}/repos/{self.repository}/issues/{issue.number}"})

    @route(f"{REPO}/issues/<int:number>", "GET")
    def get_issue(self, request: SimRequest, owner: str, repo: str, number: int) -> Response:
        return self.json_response(self.render.issue(self._issue(owner, repo, number)))

    @route(f"{REPO}/issues/<int:number>", "PATCH")
    def update_issue(self, request: SimRequest, owner: str, repo: str, number: int) -> Response:
        issue, body = self._issue(owner, repo, number), self._object(request)
        for name in ("title", "body"):
            if name in body and not isinstance(body[name], str | None):
                return self._invalid(name)
        if "labels" in body and not isinstance(body["labels"], list):
            return self._invalid("labels")
        if body.get("state", issue.state) not in ("open", "closed") or body.get("state_reason") not in (
                None, "completed", "not_planned", "duplicate", "reopened"):
            return self._invalid("state")
        issue.title = str(body.get("title") or issue.title)
        issue.body = body.get("body", issue.body)
        issue.labels = [str(label) for label in body.get("labels", issue.labels)]
        now = self.now()
        if body.get("state", issue.state) != issue.state:
            closing = body["state"] == "closed"
            issue.state, issue.closed_at, issue.closed_by = body["state"], now if closing else None, \
                self._caller if closing else None
            issue.state_reason = (body.get("state_reason") or "completed") if closing else "reopened"
        issue.updated_at = now
        self._count("updated")
        return self.json_response(self.render.issue(issue))

    @route(f"{REPO}/issues/<int:number>/comments", "GET")
    def list_comments(self, request: SimRequest, owner: str, repo: str, number: int) -> Response:
        issue, since = self._issue(owner, repo, number), self._since(request)
        items, headers = self._paged(request, lambda: [self._comments[c] for c in issue.comments
                                                       if since is None or self._comments[c].updated_at >= since], None)
        accept = request.headers.get("Accept", "")
        return self.json_response([self.render.comment(c, accept) for c in items], headers=headers)

    @route(f"{REPO}/issues/<int:number>/comments", "POST")
    def create_comment(self, request: SimRequest, owner: str, repo: str, number: int) -> Response:
        issue, body = self._issue(owner, repo, number), self._object(request)
        if not isinstance(body.get("body"), str) or not body["body"].strip() or len(body["body"]) > 65536:
            return self._invalid("body", "missing_field")
        comment = self._add_comment(issue, body["body"], self._caller)
        self._count("comments")
        return self.json_response(self.render.comment(comment, request.headers.get("Accept", "")), 201)

    @route(f"{REPO}/issues/comments", "GET")
    def list_repo_comments(self, request: SimRequest, owner: str, repo: str) -> Response:
        self._repo(owner, repo)
        since, args = self._since(request), request.args
        sort, direction = args.get("sort", "created"), args.get("direction", "desc" if "sort" in args else "asc")

        def rows() -> list[SimComment]:
            found = [c for c in self._comments.values() if since is None or c.updated_at >= since]
            found.sort(key=lambda c: (c.updated_at if sort == "updated" else c.created_at, c.id))
            return found if direction == "asc" else found[::-1]

        def edited_meanwhile(rng: random.Random, served: Sequence[SimComment]) -> None:
            if served:
                served[rng.randrange(len(served))].updated_at = self.now()

        items, headers = self._paged(request, rows, edited_meanwhile)
        accept = request.headers.get("Accept", "")
        return self.json_response([self.render.comment(c, accept) for c in items], headers=headers)
