"""ConfluenceSimulator: an in-memory Confluence Cloud site (one space, pages with versions and labels).

It serves what the connector uses: v1 ``GET /wiki/rest/api/user/current`` and ``POST
/wiki/rest/api/content/{id}/label``; v2 ``GET /wiki/api/v2/spaces?keys=``, ``GET /wiki/api/v2/pages`` (by
space and title), ``GET``/``PUT /wiki/api/v2/pages/{id}`` and ``POST /wiki/api/v2/pages``.  As Confluence
does, it refuses a storage body that is not well-formed XHTML (400), a title already taken in the space
(400), and an update whose ``version.number`` is not the current one plus one (409: someone saved the page
since it was read).  ``DELETE /wiki/api/v2/pages/{id}`` moves a page to the trash, and called again with
``purge=true`` on the trashed page removes it with every earlier version (a purge of a page not in the trash
is a 400).  ``DELETE /wiki/rest/api/content/{id}/version/{n}`` deletes a historical version: its changes roll up
into the next one, and the versions after it are numbered one lower (the current one cannot be deleted: 400).
A trashed page is found only when asked for by ``status=trashed``.  Anything else is a 404, so a
new call in the connector shows up as a failing test.

The staff's side: :meth:`add_page`, :meth:`edit_page` (a person saves a new version) and
:meth:`edit_before_next_update` (a person saves the page between the hub's read and its write).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.confluence.plugin import SIM_LOGIN, SIM_PARENT, SIM_SPACE, SIM_TOKEN
from continuum.simkit import Clock, Response, SimRequest, Simulator, Table, under

JSON = dict[str, Any]
v1, v2 = under("/wiki/rest/api"), under("/wiki/api/v2")
HUB_ACCOUNT, STAFF_ACCOUNT = "712020:5e1c0b1d-hub0-4c3a-9c7e-continuum01", "557058:staff-1"
SPACE_ID = "98305"
# Storage format uses these prefixes without declaring them; a parser needs them declared.
_WRAP = (
    '<root xmlns:ac="http://atlassian.com/content" xmlns:ri="http://atlassian.com/resource/identifier">',
    "</root>",
)

Edit = Callable[[str], str]


@dataclass
class SimPage:
    id: int
    title: str
    body: str
    parent: int | None
    author: str
    at: datetime
    version: int = 1
    version_at: datetime | None = None
    version_by: str = ""
    labels: list[str] = field(default_factory=list)
    status: str = "current"  # or "trashed"; a purged page is gone from the table
    history: list[tuple[int, str, str]] = field(default_factory=list)  # (version, who, body) of each save


def well_formed(body: str) -> str | None:
    """Why Confluence would refuse this storage body (None: it takes it)."""
    try:
        ElementTree.fromstring(f"{_WRAP[0]}{body}{_WRAP[1]}")
    except ElementTree.ParseError as exc:
        return f"Error parsing xhtml: {exc}"
    return None


class ConfluenceSimulator(Simulator):
    system = "confluence"
    effects = ("created", "updated", "labels", "conflicts", "trashed", "purged", "versions_deleted", "calls")
    accounts = (
        {
            "role": "hub",
            "login": SIM_LOGIN,
            "password": SIM_TOKEN,
            "does": "the hub's account and API token (its connection)",
        },
    )

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        self._pages: Table[int, SimPage] = Table("page", first_id=int(SIM_PARENT) + 1)
        self._pages.add(
            SimPage(
                int(SIM_PARENT) - 1,
                "Support home",
                "<p>Welcome to the support space.</p>",
                None,
                STAFF_ACCOUNT,
                self.clock.now(),
            )
        )
        self._pages.add(
            SimPage(
                int(SIM_PARENT),
                "Customers",
                "<p>One page per customer.</p>",
                int(SIM_PARENT) - 1,
                STAFF_ACCOUNT,
                self.clock.now(),
            )
        )
        self._pending_edits: dict[int, Edit] = {}
        # False: the hub's account is not a space admin, so a purge is refused as Confluence refuses a call the
        # account lacks the permission for (a 404, as if the page were not there).
        self.can_purge = True

    # -- the staff's side ------------------------------------------------------------
    def add_page(self, title: str, body: str, parent: int | str | None = SIM_PARENT) -> int:
        with self.lock:
            page = SimPage(
                self._pages.next_id(), title, body, int(parent) if parent else None, STAFF_ACCOUNT, self.clock.now()
            )
            page.history.append((1, STAFF_ACCOUNT, body))
            return self._pages.add(page).id

    def edit_page(self, page_id: int | str, edit: Edit) -> int:
        """A person saves the page with ``edit(body)``; returns the new version."""
        with self.lock:
            page = self._pages.require(int(page_id))
            self._save(page, edit(page.body), STAFF_ACCOUNT)
            return page.version

    def edit_before_next_update(self, page_id: int | str, edit: Edit) -> None:
        """A person saves the page just before the hub's next update of it arrives (so that update conflicts)."""
        with self.lock:
            self._pending_edits[int(page_id)] = edit

    def page(self, page_id: int | str) -> JSON:
        with self.lock:
            p = self._pages.require(int(page_id))
            return {
                "id": str(p.id),
                "title": p.title,
                "body": p.body,
                "version": p.version,
                "labels": list(p.labels),
                "parent": str(p.parent) if p.parent else None,
                "status": p.status,
                "saves": list(p.history),
            }

    def pages(self, under_page: int | str | None = None) -> list[JSON]:
        with self.lock:
            return [self.page(p.id) for p in self._pages.values() if under_page is None or p.parent == int(under_page)]

    # -- plumbing ---------------------------------------------------------------------
    def _save(self, page: SimPage, body: str, who: str, title: str | None = None) -> None:
        page.version += 1
        page.body, page.version_by, page.version_at = body, who, self.clock.now()
        page.title = title if title is not None else page.title
        page.history.append((page.version, who, body))

    def authenticate(self, request: SimRequest) -> Response | None:
        if request.basic_credentials() != (SIM_LOGIN, SIM_TOKEN):
            return Response(
                '{"statusCode":401,"message":"Unauthorized; scope does not match"}',
                status=401,
                content_type="application/json",
                headers={"WWW-Authenticate": 'Basic realm="Atlassian Confluence"'},
            )
        return None

    def _v2_error(self, status: int, code: str, title: str) -> Response:
        return self.json_response(
            {"errors": [{"status": status, "code": code, "title": title, "detail": None}]}, status
        )

    def _v1_error(self, status: int, message: str) -> Response:
        return self.json_response(
            {
                "statusCode": status,
                "message": message,
                "data": {"authorized": True, "valid": False, "errors": [], "successful": False},
            },
            status,
        )

    def purged(self, page_id: int | str) -> bool:
        """The page and its versions are gone for good (not merely in the trash)."""
        with self.lock:
            return self._pages.get(int(page_id)) is None

    def _page(self, page_id: str, statuses: tuple[str, ...] = ("current",)) -> SimPage:
        page = self._pages.get(int(page_id)) if page_id.isdigit() else None
        if page is None or page.status not in statuses:
            self.reject(self._v2_error(404, "NOT_FOUND", f"No page found with id {page_id}"))
        return page

    def _render(self, page: SimPage, with_body: bool) -> JSON:
        stamp = (page.version_at or page.at).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        made: JSON = {
            "id": str(page.id),
            "status": page.status,
            "title": page.title,
            "spaceId": SPACE_ID,
            "parentId": str(page.parent) if page.parent else None,
            "parentType": "page" if page.parent else None,
            "position": page.id % 1000,
            "authorId": page.author,
            "ownerId": page.author,
            "lastOwnerId": None,
            "createdAt": page.at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "version": {
                "createdAt": stamp,
                "message": "",
                "number": page.version,
                "minorEdit": False,
                "authorId": page.version_by or page.author,
            },
            "_links": {
                "webui": f"/spaces/{SIM_SPACE}/pages/{page.id}",
                "editui": f"/pages/resumedraft.action?draftId={page.id}",
                "tinyui": f"/x/{page.id}",
            },
        }
        if made["parentId"] is None:  # the description gives no null for these: left out, as Confluence does
            del made["parentId"], made["parentType"]
        made["body"] = {"storage": {"representation": "storage", "value": page.body}} if with_body else {}
        return made

    def _single(self, page: SimPage, with_body: bool = True) -> Response:
        return self.json_response(
            {
                **self._render(page, with_body),
                "_links": {**self._render(page, False)["_links"], "base": f"{self.base_url}/wiki"},
            }
        )

    def _clash(self, title: str, other_than: int | None = None) -> bool:
        found = self._pages.find(lambda p: p.title == title and p.id != other_than and p.status == "current")
        return found is not None

    def _checked_body(self, body: Any) -> str:
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(body, dict) or body.get("representation") != "storage" or not isinstance(value, str):
            self.reject(self._v2_error(400, "INVALID_REQUEST_PARAMETER", "body must be storage representation"))
        problem = well_formed(value)
        if problem:
            self.reject(self._v2_error(400, "INVALID_REQUEST_PARAMETER", problem))
        return value

    # -- v1 ------------------------------------------------------------------------------
    @v1("/user/current")
    def current_user(self, request: SimRequest) -> Response:
        return self.json_response(
            {
                "type": "known",
                "accountId": HUB_ACCOUNT,
                "accountType": "atlassian",
                "email": SIM_LOGIN,
                "publicName": "Continuum",
                "displayName": "Continuum",
                "timeZone": "Etc/UTC",
                "isExternalCollaborator": False,
                "_links": {},
            }
        )

    @v1("/content/<page_id>/label", "POST")
    def add_label(self, request: SimRequest, page_id: str) -> Response:
        page = self._pages.get(int(page_id)) if page_id.isdigit() else None
        if page is None:
            return self._v1_error(404, f"There is no content with the given id {page_id}")
        given = request.json_body
        wanted = given if isinstance(given, list) else [given]
        for label in wanted:
            name = label.get("name") if isinstance(label, dict) else None
            if not isinstance(name, str) or not name or " " in name or len(name) > 255:
                return self._v1_error(400, f"Invalid label: {str(name)[:60]!r}")
            if name.lower() not in page.labels:
                page.labels.append(name.lower())
                self.count("labels")
        results = [{"prefix": "global", "name": n, "id": str(1000 + i), "label": n} for i, n in enumerate(page.labels)]
        return self.json_response({"results": results, "start": 0, "limit": 200, "size": len(results), "_links": {}})

    @v1("/content/<page_id>/version/<number>", "DELETE")
    def delete_version(self, request: SimRequest, page_id: str, number: str) -> Response:
        page = self._pages.get(int(page_id)) if page_id.isdigit() else None
        if page is None or page.status != "current" or not number.isdigit():
            return self._v1_error(400, f"Cannot find content with id {page_id} or version {number}")
        if int(number) >= page.version or int(number) < 1:
            return self._v1_error(400, f"Version {number} is the current version or not a version of {page_id}")
        gone = int(number)
        page.history = [(v - 1 if v > gone else v, who, body) for v, who, body in page.history if v != gone]
        page.version -= 1
        self.count("versions_deleted")
        return Response(status=204)

    # -- v2 ------------------------------------------------------------------------------
    @v2("/spaces")
    def spaces(self, request: SimRequest) -> Response:
        keys = request.args.get("keys", "").split(",")
        found = [
            {
                "id": SPACE_ID,
                "key": SIM_SPACE,
                "name": "Support",
                "type": "global",
                "status": "current",
                "authorId": STAFF_ACCOUNT,
                "homepageId": str(int(SIM_PARENT) - 1),
                "createdAt": "2026-01-05T09:00:00.000Z",
                "_links": {"webui": f"/spaces/{SIM_SPACE}"},
            }
        ]
        return self.json_response(
            {"results": [s for s in found if s["key"] in keys], "_links": {"base": f"{self.base_url}/wiki"}}
        )

    @v2("/pages")
    def list_pages(self, request: SimRequest) -> Response:
        space, title = request.args.get("space-id"), request.args.get("title")
        with_body = request.args.get("body-format") == "storage"
        statuses = tuple(request.args.get("status", "current").split(","))
        rows = [
            p
            for p in self._pages.values()
            if space in (None, SPACE_ID) and title in (None, p.title) and p.status in statuses
        ]
        limit = int(request.args.get("limit", "25") or 25)
        return self.json_response(
            {"results": [self._render(p, with_body) for p in rows[:limit]], "_links": {"base": f"{self.base_url}/wiki"}}
        )

    @v2("/pages/<page_id>")
    def get_page(self, request: SimRequest, page_id: str) -> Response:
        statuses = tuple(request.args.get("status", "current").split(","))
        return self._single(self._page(page_id, statuses), request.args.get("body-format") == "storage")

    @v2("/pages/<page_id>", "DELETE")
    def delete_page(self, request: SimRequest, page_id: str) -> Response:
        if request.args.get("purge") == "true":
            page = self._pages.get(int(page_id)) if page_id.isdigit() else None
            if page is not None and page.status == "current":
                return self._v2_error(400, "INVALID_REQUEST_PARAMETER", "Only a trashed page can be purged")
            trashed = self._page(page_id, ("trashed",))
            if not self.can_purge:
                self.reject(self._v2_error(404, "NOT_FOUND", f"No page found with id {page_id}"))
            self._pages.remove(trashed.id)
            self.count("purged")
        else:
            self._page(page_id).status = "trashed"
            self.count("trashed")
        return Response(status=204)

    @v2("/pages", "POST")
    def create_page(self, request: SimRequest) -> Response:
        body = request.json_body if isinstance(request.json_body, dict) else {}
        if body.get("spaceId") != SPACE_ID:
            return self._v2_error(404, "NOT_FOUND", f"No space with id {body.get('spaceId')}")
        title = body.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 255:
            return self._v2_error(400, "INVALID_REQUEST_PARAMETER", "A page title is required (255 at most)")
        if self._clash(title):
            return self._v2_error(
                400,
                "INVALID_REQUEST_PARAMETER",
                "A page with this title already exists: A page already exists with the same TITLE in this space",
            )
        value = self._checked_body(body.get("body"))
        parent = body.get("parentId") or str(int(SIM_PARENT) - 1)
        self._page(str(parent))
        page = SimPage(self._pages.next_id(), title, value, int(parent), HUB_ACCOUNT, self.clock.now())
        page.history.append((1, HUB_ACCOUNT, value))
        self._pages.add(page)
        self.count("created")
        return self._single(page)

    @v2("/pages/<page_id>", "PUT")
    def update_page(self, request: SimRequest, page_id: str) -> Response:
        page = self._page(page_id)
        edit = self._pending_edits.pop(page.id, None)
        if edit is not None:  # a person saved it a moment ago
            self._save(page, edit(page.body), STAFF_ACCOUNT)
        body = request.json_body if isinstance(request.json_body, dict) else {}
        number = (body.get("version") or {}).get("number") if isinstance(body.get("version"), dict) else None
        if number != page.version + 1:
            self.count("conflicts")
            return self._v2_error(
                409, "CONFLICT", f"Version must be incremented on update. Current version is: {page.version}"
            )
        title = body.get("title")
        if not isinstance(title, str) or not title.strip() or self._clash(title, page.id):
            return self._v2_error(400, "INVALID_REQUEST_PARAMETER", "A page with this title already exists")
        self._save(page, self._checked_body(body.get("body")), HUB_ACCOUNT, title)
        self.count("updated")
        return self._single(page)
