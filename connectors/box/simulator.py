"""BoxSimulator: an in-memory Box (folders, files with SHA-1 and description, shared links) for tests and the demo.

It serves what the connector uses, API and upload paths on one port, as Box serves them on two hosts:
``GET /2.0/users/me``, ``GET /2.0/folders/{id}``, ``POST /2.0/folders`` (409 ``item_name_in_use`` with the
existing folder in ``context_info.conflicts``), ``GET /2.0/folders/{id}/items`` (offset paging), multipart
``POST /api/2.0/files/content`` (``attributes`` before ``file``, ``Content-MD5`` checked as Box does, as a
SHA-1; 409 on a name in use, compared case-insensitively), and ``GET``/``PUT /2.0/files/{id}`` (description,
shared link).  Anything else is a 404, so a new call in the connector shows up as a failing test.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.box.plugin import SIM_ROOT_FOLDER, SIM_TOKEN
from continuum.simkit import Clock, Response, SimRequest, Simulator, Table, route, under

JSON = dict[str, Any]
api = under("/2.0")
USER = {"type": "user", "id": "20000001", "name": "Continuum Service", "login": "AutomationUser_1@boxdevedition.com"}


@dataclass
class SimItem:
    id: int
    type: str  # "file" or "folder"
    name: str
    parent: int | None
    at: datetime
    content: bytes = b""
    description: str = ""
    shared_access: str | None = None
    etag: int = 0
    meta: JSON = field(default_factory=dict)

    @property
    def sha1(self) -> str:
        return hashlib.sha1(self.content).hexdigest()


class BoxSimulator(Simulator):
    system = "box"
    effects = ("folders", "uploads", "updates", "calls")
    accounts = ({"role": "hub", "bearer": SIM_TOKEN, "does": "the hub's access token (its connection)"},)

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        self._items: Table[int, SimItem] = Table("item", first_id=int(SIM_ROOT_FOLDER) + 1)
        self._items.add(SimItem(0, "folder", "All Files", None, self.clock.now()))
        self._items.add(SimItem(int(SIM_ROOT_FOLDER), "folder", "Customer attachments", 0, self.clock.now()))

    # -- people's side ----------------------------------------------------------------
    def add_file(self, folder_id: int | str, name: str, content: bytes, description: str = "") -> int:
        """A file someone put there by hand."""
        with self.lock:
            return self._add("file", name, int(folder_id), content, description).id

    def add_folder(self, parent_id: int | str, name: str) -> int:
        with self.lock:
            return self._add("folder", name, int(parent_id)).id

    def files(self, folder_id: int | str | None = None) -> list[JSON]:
        with self.lock:
            return [{**self._render(i), "content": i.content} for i in self._items.values()
                    if i.type == "file" and (folder_id is None or i.parent == int(folder_id))]

    def folders(self, parent_id: int | str) -> list[JSON]:
        with self.lock:
            return [self._render(i) for i in self._items.values() if i.type == "folder" and i.parent == int(parent_id)]

    # -- plumbing ---------------------------------------------------------------------
    def _add(self, kind: str, name: str, parent: int, content: bytes = b"", description: str = "") -> SimItem:
        return self._items.add(SimItem(self._items.next_id(), kind, name, parent, self.clock.now(), content,
                                       description))

    def _error(self, status: int, code: str, message: str, context: JSON | None = None,
               headers: dict[str, str] | None = None) -> Response:
        body = {"type": "error", "status": status, "code": code, "message": message,
                "help_url": "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/",
                "request_id": f"sim{len(self.exchanges):08d}", **({"context_info": context} if context else {})}
        return self.json_response(body, status, headers)

    def authenticate(self, request: SimRequest) -> Response | None:
        if request.bearer_token() != SIM_TOKEN:
            return self._error(401, "unauthorized", "Unauthorized", headers={
                "WWW-Authenticate": 'Bearer realm="Service", error="invalid_token"'})
        return None

    def _mini(self, item: SimItem) -> JSON:
        return {"type": item.type, "id": str(item.id), "etag": str(item.etag), "sequence_id": str(item.etag),
                "name": item.name}

    def _render(self, item: SimItem) -> JSON:
        at = item.at.isoformat()
        made: JSON = {**self._mini(item), "description": item.description, "created_at": at, "modified_at": at,
                      "created_by": USER, "modified_by": USER, "owned_by": USER, "item_status": "active",
                      "size": len(item.content), "trashed_at": None, "purged_at": None}
        if item.shared_access is not None:  # Box's description has no null shared link: it is left out
            made["shared_link"] = self._link(item)
        if item.parent is not None:
            made["parent"] = self._mini(self._items[item.parent])
        if item.type == "file":
            made.update(sha1=item.sha1, file_version={"type": "file_version", "id": str(item.id * 10 + item.etag),
                                                      "sha1": item.sha1})
        return made

    def _link(self, item: SimItem) -> JSON:
        token = hashlib.sha256(f"{item.type}{item.id}".encode()).hexdigest()[:32]
        return {"url": f"https://app.box.com/s/{token}", "download_url": None, "vanity_url": None,
                "vanity_name": None, "access": item.shared_access, "effective_access": item.shared_access,
                "effective_permission": "can_download", "is_password_enabled": False, "unshared_at": None,
                "download_count": 0, "preview_count": 0,
                "permissions": {"can_download": True, "can_preview": True, "can_edit": False}}

    def _item(self, kind: str, item_id: str) -> SimItem:
        item = self._items.get(int(item_id)) if item_id.isdigit() else None
        if item is None or item.type != kind:
            self.reject(self._error(404, "not_found", f"Could not find the specified resource: {kind} {item_id}"))
        return item

    def _clash(self, parent: int, name: str) -> SimItem | None:
        return self._items.find(lambda i: i.parent == parent and i.name.lower() == name.lower())

    def _check_name(self, name: object) -> str:
        if not isinstance(name, str) or not name or name in (".", "..") or name != name.strip() \
                or any(c in name for c in "/\\") or any(ord(c) < 32 or ord(c) == 127 for c in name) \
                or len(name) > 255:
            self.reject(self._error(400, "item_name_invalid", "Item name invalid"))
        return name

    def _conflict(self, existing: SimItem) -> Response:
        mini = self._mini(existing) | ({"sha1": existing.sha1} if existing.type == "file" else {})
        return self._error(409, "item_name_in_use", "Item with the same name already exists",
                           {"conflicts": [mini]})

    # -- endpoints --------------------------------------------------------------------
    @api("/users/me")
    def me(self, request: SimRequest) -> Response:
        return self.json_response(USER)

    @api("/folders/<folder_id>")
    def get_folder(self, request: SimRequest, folder_id: str) -> Response:
        return self.json_response(self._render(self._item("folder", folder_id)))

    @api("/folders", "POST")
    def create_folder(self, request: SimRequest) -> Response:
        body = request.json_body if isinstance(request.json_body, dict) else {}
        parent = self._item("folder", str((body.get("parent") or {}).get("id") or ""))
        name = self._check_name(body.get("name"))
        existing = self._clash(parent.id, name)
        if existing is not None:
            return self._conflict(existing)
        self.count("folders")
        return self.json_response(self._render(self._add("folder", name, parent.id)), 201)

    @api("/folders/<folder_id>/items")
    def folder_items(self, request: SimRequest, folder_id: str) -> Response:
        folder = self._item("folder", folder_id)
        try:
            offset, limit = int(request.args.get("offset", 0)), int(request.args.get("limit", 100))
        except ValueError:
            return self._error(400, "bad_request", "offset and limit must be numbers")
        if offset < 0 or not 1 <= limit <= 1000:
            return self._error(400, "bad_request", "limit must be 1 to 1000, offset 0 or more")
        rows = [i for i in self._items.values() if i.parent == folder.id]
        return self.json_response({"total_count": len(rows), "offset": offset, "limit": limit,
                                   "order": [{"by": "type", "direction": "ASC"}, {"by": "name", "direction": "ASC"}],
                                   "entries": [self._render(i) for i in rows[offset:offset + limit]]})

    @route("/api/2.0/files/content", "POST")
    def upload(self, request: SimRequest) -> Response:
        raw = request.get_data()
        at_attributes, at_file = raw.find(b'name="attributes"'), raw.find(b'name="file"')
        if at_attributes < 0 or at_file < 0 or "file" not in request.files:
            return self._error(400, "bad_request", "a multipart body with 'attributes' and 'file' is required")
        if at_attributes > at_file:
            return self._error(400, "metadata_after_file_contents", "The attributes part must come before the file")
        try:
            attributes = json.loads(request.form["attributes"])
        except (KeyError, ValueError):
            return self._error(400, "bad_request", "attributes is not JSON")
        parent = self._item("folder", str((attributes.get("parent") or {}).get("id") or ""))
        name = self._check_name(attributes.get("name"))
        content = request.files["file"].read()
        digest = request.headers.get("Content-MD5")
        if digest and digest.lower() != hashlib.sha1(content).hexdigest():
            return self._error(400, "sha1_mismatch", "The file's SHA-1 does not match the Content-MD5 header")
        existing = self._clash(parent.id, name)
        if existing is not None:
            return self._conflict(existing)
        self.count("uploads")
        item = self._add("file", name, parent.id, content)
        return self.json_response({"total_count": 1, "entries": [self._render(item)]}, 201)

    @api("/files/<file_id>")
    def get_file(self, request: SimRequest, file_id: str) -> Response:
        return self.json_response(self._render(self._item("file", file_id)))

    @api("/files/<file_id>", "PUT")
    def update_file(self, request: SimRequest, file_id: str) -> Response:
        item, body = self._item("file", file_id), request.json_body
        if not isinstance(body, dict):
            return self._error(400, "bad_request", "the body is not a JSON object")
        if "description" in body:
            if not isinstance(body["description"], str) or len(body["description"]) > 256:
                return self._error(400, "bad_request", "description must be text of at most 256 characters")
            item.description = body["description"]
        if "shared_link" in body:
            link = body["shared_link"]
            access = link.get("access", "company") if isinstance(link, dict) else None
            if link is not None and access not in ("open", "company", "collaborators"):
                return self._error(400, "bad_request", f"shared_link.access {access!r} is not valid")
            item.shared_access = access
        item.etag += 1
        self.count("updates")
        return self.json_response(self._render(item))
