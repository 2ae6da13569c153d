"""The human side of the Jira simulator: what staff would do in the Jira UI.

Tests and the demo call these directly; they change state without HTTP and
are not counted as API effects.  Mixed into :class:`JiraSimulator`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime

from connectors.jira.adf import text_to_adf
from connectors.jira.simmodel import JSON, SIM_PROJECT, STAFF_ACCOUNT, STATUSES, Renderer, SimComment, SimIssue
from continuum.simkit import Clock, Table


class StaffActions:
    lock: threading.RLock
    projects: dict[str, JSON]
    clock: Clock
    _issues: Table[str, SimIssue]

    @property
    def render(self) -> Renderer:
        raise NotImplementedError

    def now(self) -> datetime:
        raise NotImplementedError

    def _find(self, id_or_key: str) -> SimIssue | None:
        raise NotImplementedError

    def _insert(self, fields: JSON) -> SimIssue:
        raise NotImplementedError

    def _add_comment(self, issue: SimIssue, body: JSON, author: JSON, visibility: JSON | None,
                     properties: list[JSON]) -> SimComment:
        raise NotImplementedError

    def _set_status(self, issue: SimIssue, name: str) -> None:
        raise NotImplementedError

    def create_project(self, key: str, name: str | None = None) -> None:
        with self.lock:
            if key not in self.projects:
                self.projects[key] = {"id": str(10000 + len(self.projects)), "key": key,
                                      "name": name or f"{key} project"}

    def add_staff_issue(self, summary: str, description: str = "", labels: Iterable[str] = (),
                        project: str = SIM_PROJECT) -> str:
        """An issue staff created in the UI; returns its id."""
        with self.lock:
            fields: JSON = {"project": {"key": project}, "issuetype": {"name": "Task"}, "summary": summary,
                            "labels": list(labels), "description": text_to_adf(description) if description else None}
            return self._insert(fields).id

    def add_staff_comment(self, issue_id_or_key: str, text: str, public: bool = True) -> str:
        """A comment staff wrote in the UI; ``public=False`` restricts it to a role. Returns its id."""
        with self.lock:
            issue = self._require(issue_id_or_key)
            visibility = None if public else {"type": "role", "value": "Administrators", "identifier": "Administrators"}
            return self._add_comment(issue, text_to_adf(text), STAFF_ACCOUNT, visibility, []).id

    def set_status(self, issue_id_or_key: str, name: str) -> None:
        if name not in STATUSES:
            raise ValueError(f"unknown status {name!r}; known: {', '.join(STATUSES)}")
        with self.lock:
            self._set_status(self._require(issue_id_or_key), name)

    # The generic ticket-desk names the demo uses (continuum/demo.py knows no system by name).
    def staff_answer(self, issue_id_or_key: str, text: str, public: bool = True) -> str:
        return self.add_staff_comment(issue_id_or_key, text, public=public)

    def staff_resolve(self, issue_id_or_key: str) -> None:
        self.set_status(issue_id_or_key, "Done")

    def resolve(self, issue_id_or_key: str, resolution: str = "Fixed") -> None:
        """Move to Done with a named resolution (Jira's "Resolve issue" screen)."""
        with self.lock:
            issue = self._require(issue_id_or_key)
            self._set_status(issue, "Done")
            issue.resolution = resolution

    def release_version(self, issue_id_or_key: str, name: str = "2.4.0") -> None:
        """Put the issue in a fix version and release that version (the feature shipped)."""
        with self.lock:
            issue = self._require(issue_id_or_key)
            version_id = str(10100 + sum(ord(c) for c in name))
            issue.fields["fixVersions"] = [{
                "self": f"{self.render.api}/version/{version_id}", "id": version_id, "name": name,
                "description": f"Release {name}", "archived": False, "released": True,
                "releaseDate": self.now().date().isoformat(),
            }]
            issue.updated = self.now()

    def add_label(self, issue_id_or_key: str, label: str) -> None:
        """A person labels the issue in the UI."""
        with self.lock:
            issue = self._require(issue_id_or_key)
            issue.fields["labels"] = [*(issue.fields.get("labels") or []), label]
            issue.updated = self.now()

    def staff_ship(self, issue_id_or_key: str) -> None:
        """The generic "it shipped" the demo uses."""
        self.release_version(issue_id_or_key)

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.clock.advance(seconds)

    def issues(self) -> list[JSON]:
        with self.lock:
            return [self.render.issue(issue, ["*all"]) for issue in self._issues.values()]

    def get_issue(self, id_or_key: str) -> JSON:
        with self.lock:
            return self.render.issue(self._require(id_or_key), ["*all"])

    def comments(self, id_or_key: str) -> list[JSON]:
        with self.lock:
            issue = self._require(id_or_key)
            return [self.render.comment(issue, c, with_properties=True) for c in issue.comments]

    def remote_links(self, id_or_key: str) -> list[JSON]:
        with self.lock:
            issue = self._require(id_or_key)
            return [self.render.remote_link(issue, link) for link in issue.links]

    def _require(self, id_or_key: str) -> SimIssue:
        issue = self._find(id_or_key)
        if issue is None:
            raise KeyError(f"no issue {id_or_key!r} in the simulator")
        return issue
