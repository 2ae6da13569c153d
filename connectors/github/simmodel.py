"""The GitHub simulator's records and how GitHub renders them (the REST description's issue, comment, user)."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSON = dict[str, Any]
DOCS = "https://docs.github.com/rest"


@dataclass(frozen=True)
class SimUser:
    id: int
    login: str
    association: str  # to the one repository: OWNER, MEMBER, NONE...
    type: str = "User"


@dataclass
class SimIssue:
    id: int
    number: int
    title: str
    body: str | None
    labels: list[str]
    author: str
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    comments: list[int] = field(default_factory=list)


@dataclass
class SimComment:
    id: int
    number: int  # the issue's
    body: str
    author: str
    created_at: datetime
    updated_at: datetime


def iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def body_text(body: str) -> str:
    """Roughly GitHub's plain-text rendering: no HTML comments, emphasis, code marks or link targets; escapes and
    entities resolved."""
    text = re.sub(r"<!--.*?-->", "", body, flags=re.DOTALL)
    text = re.sub(r"(?<!\\)(\*\*|__|~~|`)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\\!])\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)).strip()


def body_html(body: str) -> str:
    return "".join(f"<p>{html.escape(part)}</p>" for part in body_text(body).split("\n\n") if part)


class Renderer:
    def __init__(self, base_url: str, repository: str, users: dict[str, SimUser]) -> None:
        self.api, self.repository, self.users = base_url, repository, users
        self.web = base_url.replace("://", "://web.", 1)  # html_url: somewhere that is not the API

    def user(self, login: str | None) -> JSON | None:
        found = self.users.get(login or "")
        if found is None:
            return None
        url = f"{self.api}/users/{found.login}"
        return {"login": found.login, "id": found.id, "node_id": f"U_{found.id}", "type": found.type,
                "avatar_url": f"{self.web}/avatars/{found.id}", "gravatar_id": "", "url": url,
                "html_url": f"{self.web}/{found.login}", "followers_url": f"{url}/followers",
                "following_url": f"{url}/following{{/other_user}}", "gists_url": f"{url}/gists{{/gist_id}}",
                "starred_url": f"{url}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{url}/subscriptions",
                "organizations_url": f"{url}/orgs", "repos_url": f"{url}/repos",
                "events_url": f"{url}/events{{/privacy}}",
                "received_events_url": f"{url}/received_events", "site_admin": False, "user_view_type": "public"}

    def public_user(self, login: str, created: datetime) -> JSON:
        return {**(self.user(login) or {}), "name": login, "company": None, "blog": "", "location": None,
                "email": None, "hireable": None, "bio": None, "public_repos": 1, "public_gists": 0, "followers": 0,
                "following": 0, "created_at": iso(created), "updated_at": iso(created)}

    def label(self, name: str) -> JSON:
        label_id = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
        return {"id": label_id, "node_id": f"LA_{label_id}", "name": name, "description": None, "color": "ededed",
                "default": False, "url": f"{self.api}/repos/{self.repository}/labels/{name}"}

    def issue(self, issue: SimIssue) -> JSON:
        url = f"{self.api}/repos/{self.repository}/issues/{issue.number}"
        return {"id": issue.id, "node_id": f"I_{issue.id}", "url": url,
                "repository_url": f"{self.api}/repos/{self.repository}", "labels_url": f"{url}/labels{{/name}}",
                "comments_url": f"{url}/comments", "events_url": f"{url}/events",
                "html_url": f"{self.web}/{self.repository}/issues/{issue.number}", "number": issue.number,
                "state": issue.state, "state_reason": issue.state_reason, "title": issue.title, "body": issue.body,
                "user": self.user(issue.author), "labels": [self.label(name) for name in issue.labels],
                "assignee": None, "assignees": [], "milestone": None, "locked": False, "active_lock_reason": None,
                "comments": len(issue.comments), "closed_at": iso(issue.closed_at), "created_at": iso(issue.created_at),
                "updated_at": iso(issue.updated_at), "closed_by": self.user(issue.closed_by),
                "author_association": self.users[issue.author].association}

    def comment(self, comment: SimComment, accept: str) -> JSON:
        issue_url = f"{self.api}/repos/{self.repository}/issues/{comment.number}"
        made: JSON = {"id": comment.id, "node_id": f"IC_{comment.id}",
                      "url": f"{self.api}/repos/{self.repository}/issues/comments/{comment.id}",
                      "html_url": f"{self.web}/{self.repository}/issues/{comment.number}#issuecomment-{comment.id}",
                      "body": comment.body, "user": self.user(comment.author), "created_at": iso(comment.created_at),
                      "updated_at": iso(comment.updated_at), "issue_url": issue_url,
                      "author_association": self.users[comment.author].association}
        if "full+json" in accept or "text+json" in accept:  # the media types that ask for renderings
            made["body_text"] = body_text(comment.body)
        if "full+json" in accept or "html+json" in accept:
            made["body_html"] = body_html(comment.body)
        return made
