"""State and JSON rendering for the Jira simulator: what Jira Cloud v3 would serve.

Kept apart from the HTTP handlers (``simulator.py``) so each stays readable.
Shapes follow the v3 description: ids are strings (remote link ids are
integers), ``self`` URLs carry the simulator's own base URL, bodies are ADF,
and times look like ``2026-11-22T10:00:00.000+0000``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# One home for the credentials: the plugin (re-exported for the simulator, tests and benchmarks).
from connectors.jira.plugin import SIM_LOGIN as SIM_LOGIN
from connectors.jira.plugin import SIM_TOKEN as SIM_TOKEN

JSON = dict[str, Any]

SIM_PAT = "sim-jira-personal-access-token"
SIM_PROJECT = "PROD"
# Not UTC on purpose: JQL dates are read in the user's zone, and the
# connector must convert its cursor for that to work.
SIM_TIMEZONE = "Europe/Berlin"
BOT_ACCOUNT = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Continuum Bot", "emailAddress": SIM_LOGIN}
STAFF_ACCOUNT = {"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof",
                 "emailAddress": "mia@example.com"}
# Staff answering through the API (basic auth), as they would with their own API token.
SIM_STAFF_LOGIN, SIM_STAFF_TOKEN = STAFF_ACCOUNT["emailAddress"], "sim-jira-staff-token"

# name: (id, category key, category id, colour, category name)
STATUSES: dict[str, tuple[str, str, int, str, str]] = {
    "To Do": ("10000", "new", 2, "blue-gray", "To Do"),
    "In Progress": ("3", "indeterminate", 4, "yellow", "In Progress"),
    "Done": ("10001", "done", 3, "green", "Done"),
}
# A global workflow; transition names differ from status names, as they do in
# real workflows, so a client must match on the target status.
TRANSITIONS: tuple[tuple[str, str, str], ...] = (
    ("11", "Reopen", "To Do"),
    ("21", "Start Progress", "In Progress"),
    ("31", "Close Issue", "Done"),
)
ISSUE_TYPES = {"Task": "10001", "Story": "10002", "Bug": "10004"}
PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
RESOLUTIONS = {"Done": "10000", "Fixed": "1", "Won't Do": "10001", "Duplicate": "3"}
SETTABLE_FIELDS = {"project", "issuetype", "summary", "description", "environment", "labels", "priority",
                   "fixVersions", "duedate", "assignee", "reporter", "components"}
RICH_TEXT = ("description", "environment")
# (id, display name, schema type) of the system fields /field lists.
SYSTEM_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("summary", "Summary", "string"), ("description", "Description", "string"),
    ("environment", "Environment", "string"), ("status", "Status", "status"),
    ("labels", "Labels", "array"), ("comment", "Comment", "comments-page"),
    ("updated", "Updated", "datetime"), ("created", "Created", "datetime"),
    ("resolution", "Resolution", "resolution"), ("resolutiondate", "Resolved", "datetime"),
    ("fixVersions", "Fix versions", "array"), ("priority", "Priority", "priority"),
    ("issuetype", "Issue Type", "issuetype"), ("project", "Project", "project"),
    ("creator", "Creator", "user"), ("reporter", "Reporter", "user"), ("assignee", "Assignee", "user"),
)
_CUSTOM_FIELD = re.compile(r"^customfield_\d+$")


def jira_time(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


@dataclass
class SimComment:
    id: str
    body: JSON
    author: JSON
    created: datetime
    updated: datetime
    visibility: JSON | None = None
    properties: list[JSON] = field(default_factory=list)


@dataclass
class SimIssue:
    id: str
    key: str
    project: str
    created: datetime
    updated: datetime
    fields: JSON  # values as the client set them (ADF docs, label lists, {"name": ..} objects)
    status: str = "To Do"
    resolution: str = "Done"  # the resolution's name once the issue is Done
    resolution_date: datetime | None = None
    comments: list[SimComment] = field(default_factory=list)
    links: list[JSON] = field(default_factory=list)

    def row(self) -> JSON:
        """The view JQL evaluates."""
        return {"id": self.id, "key": self.key, "project": self.project,
                "labels": list(self.fields.get("labels") or []), "status": self.status, "updated": self.updated,
                "created": self.created}


def adf_problem(value: Any) -> str | None:
    """Why ``value`` is not an ADF document Jira would accept, or None."""
    if not isinstance(value, dict) or value.get("type") != "doc" or value.get("version") != 1:
        return "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
    stack = list(value.get("content") or [])
    if not isinstance(value.get("content"), list):
        return "ADF: doc.content must be a list"
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            return "ADF: every node needs a type"
        if node["type"] == "text" and (not isinstance(node.get("text"), str) or not node["text"]):
            return "ADF: text nodes need non-empty text"
        children = node.get("content", [])
        if not isinstance(children, list):
            return "ADF: content must be a list"
        stack.extend(children)
    return None


def field_errors(fields: JSON, *, creating: bool, projects: dict[str, JSON]) -> JSON:
    """Jira's per-field error messages for a create or edit request (empty when valid)."""
    errors: JSON = {}
    for name in fields:
        if name not in SETTABLE_FIELDS and not _CUSTOM_FIELD.match(name):
            errors[name] = (f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown.")
    if creating:
        project = fields.get("project")
        ref = project.get("key") or project.get("id") if isinstance(project, dict) else None
        if not any(ref in (p["key"], p["id"]) for p in projects.values()):
            errors["project"] = "valid project is required"
        kind = fields.get("issuetype")
        known = isinstance(kind, dict) and (kind.get("name") in ISSUE_TYPES or kind.get("id") in ISSUE_TYPES.values())
        if not known:
            errors["issuetype"] = "The issue type selected is invalid."
    if creating or "summary" in fields:
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        elif "\n" in summary or "\r" in summary:
            errors["summary"] = "The summary is invalid because it contains newline characters."
    for name in RICH_TEXT:
        if fields.get(name) is not None and (problem := adf_problem(fields[name])):
            errors[name] = problem
    labels = fields.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        errors["labels"] = "data was not an array"
    else:
        for label in labels:
            if not label or any(ch.isspace() for ch in label) or len(label) > 255:
                errors["labels"] = f"The label '{label}' contains spaces which is invalid."
    priority = fields.get("priority")
    if priority is not None and not (isinstance(priority, dict) and (
            priority.get("name") in PRIORITIES or priority.get("id") in PRIORITIES.values())):
        errors["priority"] = "Specify the Priority (id or name) in the string format"
    return errors


class Renderer:
    """Turns simulator state into Jira v3 JSON for one base URL."""

    def __init__(self, base_url: str, projects: dict[str, JSON]) -> None:
        self.base = base_url
        self.api = f"{base_url}/rest/api/3"
        self.projects = projects

    def user(self, account: JSON) -> JSON:
        return {"self": f"{self.api}/user?accountId={account['accountId']}", "accountId": account["accountId"],
                "displayName": account["displayName"], "active": True, "timeZone": SIM_TIMEZONE,
                "accountType": "atlassian"}

    def status(self, name: str) -> JSON:
        sid, cat_key, cat_id, colour, cat_name = STATUSES[name]
        return {"self": f"{self.api}/status/{sid}", "description": "",
                "iconUrl": f"{self.base}/images/icons/statuses/generic.png", "name": name, "id": sid,
                "statusCategory": {"self": f"{self.api}/statuscategory/{cat_id}", "id": cat_id, "key": cat_key,
                                   "colorName": colour, "name": cat_name}}

    def comment(self, issue: SimIssue, comment: SimComment, with_properties: bool = False) -> JSON:
        body: JSON = {
            "self": f"{self.api}/issue/{issue.id}/comment/{comment.id}", "id": comment.id,
            "author": self.user(comment.author), "body": comment.body, "updateAuthor": self.user(comment.author),
            "created": jira_time(comment.created), "updated": jira_time(comment.updated), "jsdPublic": True,
        }
        if comment.visibility:
            body["visibility"] = comment.visibility
        if with_properties:
            body["properties"] = list(comment.properties)
        return body

    def comment_page(self, issue: SimIssue, start: int, limit: int, with_properties: bool = False) -> JSON:
        chosen = issue.comments[start:start + limit]
        return {"startAt": start, "maxResults": limit, "total": len(issue.comments),
                "comments": [self.comment(issue, c, with_properties) for c in chosen]}

    def all_fields(self, issue: SimIssue, comment_limit: int) -> JSON:
        stored = issue.fields
        kind = stored.get("issuetype") or {"name": "Task"}
        kind_name = kind.get("name") or next(n for n, i in ISSUE_TYPES.items() if i == kind.get("id"))
        priority = stored.get("priority") or {"name": "Medium"}
        priority_name = priority.get("name") or next(n for n, i in PRIORITIES.items() if i == priority.get("id"))
        project = self.projects[issue.project]
        page = self.comment_page(issue, 0, comment_limit)
        page["self"] = f"{self.api}/issue/{issue.id}/comment"
        done = issue.status == "Done"
        fields: JSON = {key: value for key, value in stored.items() if _CUSTOM_FIELD.match(key)}
        fields.update({
            "summary": stored.get("summary"),
            "description": stored.get("description"),
            "environment": stored.get("environment"),
            "status": self.status(issue.status),
            "labels": list(stored.get("labels") or []),
            "comment": page,
            "created": jira_time(issue.created),
            "updated": jira_time(issue.updated),
            "resolution": {"self": f"{self.api}/resolution/{RESOLUTIONS.get(issue.resolution, '10000')}",
                           "id": RESOLUTIONS.get(issue.resolution, "10000"), "name": issue.resolution,
                           "description": "Work has been completed on this issue."} if done else None,
            "resolutiondate": jira_time(issue.resolution_date) if done and issue.resolution_date else None,
            "fixVersions": list(stored.get("fixVersions") or []),
            "priority": {"self": f"{self.api}/priority/{PRIORITIES[priority_name]}", "name": priority_name,
                         "id": PRIORITIES[priority_name], "iconUrl": f"{self.base}/images/icons/priorities/medium.svg"},
            "issuetype": {"self": f"{self.api}/issuetype/{ISSUE_TYPES[kind_name]}", "id": ISSUE_TYPES[kind_name],
                          "name": kind_name, "subtask": False, "description": "", "hierarchyLevel": 0,
                          "iconUrl": f"{self.base}/images/icons/issuetypes/task.svg"},
            "project": {"self": f"{self.api}/project/{project['id']}", "id": project["id"], "key": project["key"],
                        "name": project["name"], "projectTypeKey": "software", "simplified": False},
            "creator": self.user(BOT_ACCOUNT), "reporter": self.user(BOT_ACCOUNT), "assignee": None,
        })
        return fields

    def issue(self, issue: SimIssue, wanted: list[str] | None, comment_limit: int = 5000) -> JSON:
        """An IssueBean; ``wanted`` is the ``fields`` parameter (None: no fields object at all)."""
        body: JSON = {"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
                      "id": issue.id, "self": f"{self.api}/issue/{issue.id}", "key": issue.key}
        if wanted is None:
            return body
        everything = self.all_fields(issue, comment_limit)
        names = {name for name in wanted if not name.startswith("-")}
        excluded = {name[1:] for name in wanted if name.startswith("-")}
        if names & {"*all", "*navigable"} or not names:
            chosen = set(everything)
        else:
            chosen = names & set(everything)
        body["fields"] = {k: v for k, v in everything.items() if k in chosen - excluded}
        return body

    def remote_link(self, issue: SimIssue, link: JSON) -> JSON:
        body = {"id": link["id"], "self": f"{self.api}/issue/{issue.id}/remotelink/{link['id']}"}
        body.update({k: link[k] for k in ("globalId", "application", "relationship", "object") if k in link})
        return body

    def transitions(self, issue: SimIssue) -> JSON:
        return {"expand": "transitions", "transitions": [
            {"id": tid, "name": name, "to": self.status(target), "hasScreen": False, "isGlobal": True,
             "isInitial": False, "isAvailable": True, "isConditional": False, "isLooped": False}
            for tid, name, target in TRANSITIONS if target != issue.status]}

    def field_list(self) -> list[JSON]:
        return [{"id": fid, "key": fid, "name": name, "custom": False, "orderable": fid in SETTABLE_FIELDS,
                 "navigable": True, "searchable": True, "clauseNames": [fid],
                 "schema": {"type": kind, "system": fid}} for fid, name, kind in SYSTEM_FIELDS]
