"""GithubConnector: reads the repository's hub issues and its comments; writes issues, updates and comments.

Every body the hub writes ends in a hidden marker naming the effect's key (``markup.idempotency_marker``): a
retry finds the issue among the hub-labelled ones (``find_keys``, also ``continuum reconcile``'s) or the comment
among the issue's, instead of writing a second one.  Customer text arrives escaped (``escape_text``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

from connectors.github import markup
from connectors.github.client import GithubClient
from connectors.github.config import GithubConfig
from connectors.github.plugin import CAPABILITIES
from continuum.connector import JSON, Effect, EffectResult, Page, SourceRecord
from continuum.http import RetryPolicy
from continuum.kit import EffectDispatcher, Stream, StreamCursor, succeeded
from continuum.kit.pagination import next_link

MAX_WALKS = 3  # walks of a changing list before a read gives up moving its cursor
MAX_BODY, MAX_TITLE = 65536, 256  # GitHub refuses longer
ISSUE_FIELDS = frozenset({"title", "body", "labels", "assignees", "milestone", "state", "state_reason"})
_NUMBER = re.compile(r"^[1-9][0-9]{0,9}$")
ToRecords = Callable[[list[JSON]], list[SourceRecord]]


class IssuesCursor(StreamCursor):
    issues: datetime | None = None  # the newest `updated_at` of a complete walk of the hub's issues
    comments: datetime | None = None  # the same for the repository's issue comments


ISSUES = Stream("issues", "issue", IssuesCursor, "the hub-labelled issues, then every issue comment of the repository")


class GithubConnector:
    system = "github"
    capabilities = CAPABILITIES

    def __init__(self, config: GithubConfig, policy: RetryPolicy | None = None) -> None:
        self.config, self.account = config, config.login
        self.api = GithubClient(config, policy)
        self.dispatch = EffectDispatcher(self.system, {"create": self._create, "update": self._update,
                                                       "comment": self._comment})

    def check(self) -> None:
        # The token can list the repository's issues (one small page: the repository itself is a large answer).
        self.api.get(self.config.repo_path("/issues"), {"labels": self.config.label, "per_page": 1})

    def escape_text(self, text: str) -> str:
        return markup.escape_text(text)

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)

    # -- reading ------------------------------------------------------------------
    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        if stream != ISSUES.name:
            raise ValueError(f"GitHub has no stream {stream!r}; known: {ISSUES.name}")
        start = IssuesCursor.from_json(cursor)
        done = {"issues": start.issues, "comments": start.comments}
        listings: list[tuple[str, str, JSON, ToRecords]] = [
            ("issues", "/issues", {"labels": self.config.label, "state": "all"}, self._issue_records),
            ("comments", "/issues/comments", {}, self._comment_records)]
        for name, tail, params, records in listings:
            for page, newest in self._walk(tail, params, done[name], records):
                if newest is not None:
                    done[name] = newest
                yield Page(page, IssuesCursor(**done).to_json() if newest is not None else None)

    def _walk(self, tail: str, params: JSON, since: datetime | None, records: ToRecords
              ) -> Iterator[tuple[list[SourceRecord], datetime | None]]:
        """Pages oldest change first, each with the cursor it completes (only the last page of a steady walk).

        Pages are numbers into a list that changes as we page (an edited item moves to the end, the one at a
        page boundary is skipped): the cursor moves after a walk where no `updated_at` changed; after
        MAX_WALKS, not at all (the records were all yielded; the next run reads them again)."""
        query = {**params, "sort": "updated", "direction": "asc", "per_page": self.config.page_size,
                 **({"since": since.strftime("%Y-%m-%dT%H:%M:%SZ")} if since else {})}  # `since` is inclusive
        for _ in range(MAX_WALKS):
            seen: dict[object, object] = {}
            moved, newest = False, since
            for page in self.api.pages(self.config.repo_path(tail), query):
                items = [item for item in page.body if isinstance(item, dict)]
                moved = moved or any(seen.setdefault(i.get("id"), i.get("updated_at")) != i.get("updated_at")
                                     for i in items)
                newest = max(filter(None, [newest, *(_time(i.get("updated_at")) for i in items)]), default=None)
                last = next_link(page.headers.get("link")) is None
                yield records(items), newest if last and not moved else None
            if not moved:
                return

    def _me(self) -> str:
        if self.account is None:
            self.account = str(self.api.get("/user")["login"])
        return self.account

    def _issue_records(self, issues: list[JSON]) -> list[SourceRecord]:
        made = []
        for issue in issues:
            if "pull_request" in issue:  # the issues list holds pull requests too
                continue
            _, key = markup.split_marker(issue.get("body"))
            names = [label.get("name") if isinstance(label, dict) else label for label in issue.get("labels") or []]
            made.append(SourceRecord(ISSUES.name, "issue", str(issue["number"]), {**issue, "continuum": {
                "labels": [str(name) for name in names if name]}}, version=issue.get("updated_at"),
                own_key=key if _login(issue) == self._me() else None))
        return made

    def _comment_records(self, comments: list[JSON]) -> list[SourceRecord]:
        made, prefix = [], self.config.public_comment_prefix or ""
        for comment in comments:
            body, key = markup.split_marker(comment.get("body"))
            text = str(comment.get("body_text") or body).strip()
            ours = _login(comment) == self._me()
            # Anyone may comment on a public repository: only staff's answers go to customers, never a bot's.
            public = comment.get("author_association") in self.config.staff_associations and not ours \
                and (comment.get("user") or {}).get("type") != "Bot" and text.startswith(prefix)
            number = str(comment.get("issue_url") or "").rstrip("/").rpartition("/")[2]
            about = {"text": text[len(prefix):].lstrip() if public else text, "public": public, "issue_number": number}
            made.append(SourceRecord(ISSUES.name, "comment", str(comment["id"]), {**comment, "continuum": about},
                                     version=comment.get("updated_at"), parent_id=number or None,
                                     own_key=key if ours else None))
        return made

    # -- writing ------------------------------------------------------------------
    def find_keys(self, keys: Sequence[str]) -> dict[str, JSON]:
        """Key -> the issue made under it, among the newest ``find_pages`` pages of hub-labelled issues."""
        wanted, found = set(keys), dict[str, JSON]()
        params = {"labels": self.config.label, "state": "all", "sort": "created", "direction": "desc",
                  "per_page": 100}
        for n, page in enumerate(self.api.pages(self.config.repo_path("/issues"), params), start=1):
            for issue in (i for i in page.body if isinstance(i, dict)):
                key = markup.split_marker(issue.get("body"))[1]
                if key in wanted:
                    found.setdefault(key, issue)
            if n >= self.config.find_pages or wanted <= set(found):
                break
        return found

    def _create(self, effect: Effect) -> EffectResult:
        fields = self._issue_fields(effect, effect.fields)
        if not isinstance(fields.get("title"), str) or not fields["title"].strip():
            raise ValueError("field 'title' is required and must be non-empty text")
        found = self.find_keys([effect.key]).get(effect.key) if effect.maybe_applied else None
        issue = found or self.api.call("POST", self.config.repo_path("/issues"), body={
            **fields, "body": markup.with_marker(str(fields.get("body") or ""), effect.key)}).body
        return succeeded(effect, str(issue["number"]), object_type="issue", version=issue.get("updated_at"),
                         url=issue.get("html_url"), found_existing=found is not None)

    def _update(self, effect: Effect) -> EffectResult:
        number, fields = _target(effect), self._issue_fields(effect, effect.fields)
        if not fields:
            raise ValueError("field set is empty: nothing to update")
        path = self.config.repo_path(f"/issues/{number}")
        if "body" in fields:  # the new text keeps the key its issue was made under
            key = markup.split_marker(self.api.get(path).get("body"))[1]
            fields["body"] = markup.with_marker(str(fields["body"]), key) if key else fields["body"]
        issue = self.api.call("PATCH", path, body=fields).body
        return succeeded(effect, str(issue["number"]), object_type="issue", version=issue.get("updated_at"),
                         url=issue.get("html_url"))

    def _comment(self, effect: Effect) -> EffectResult:
        number, body = _target(effect), effect.fields.get("body")
        if not isinstance(body, str) or not body.strip():
            raise ValueError("field 'body' is required and must be non-empty text")
        _check_length("body", body, MAX_BODY - 100)
        path = self.config.repo_path(f"/issues/{number}/comments")
        found = next((c for page in self.api.pages(path, {"per_page": 100}) for c in page.body
                      if markup.split_marker(c.get("body"))[1] == effect.key), None) if effect.maybe_applied else None
        comment = found or self.api.call("POST", path, body={"body": markup.with_marker(body, effect.key)}).body
        return succeeded(effect, str(comment["id"]), object_type="comment", version=comment.get("updated_at"),
                         url=comment.get("html_url"), found_existing=found is not None)

    def _issue_fields(self, effect: Effect, given: JSON) -> JSON:
        unknown = sorted(set(given) - ISSUE_FIELDS)
        if unknown:
            raise ValueError(f"field(s) {', '.join(unknown)}: not issue fields GitHub takes "
                             f"({', '.join(sorted(ISSUE_FIELDS))})")
        fields = dict(given)
        if isinstance(fields.get("title"), str):  # titles show no Markdown: escapes would show as backslashes
            fields["title"] = " ".join(markup.plain(fields["title"]).split())[:MAX_TITLE]
        if "body" in fields:
            if not isinstance(fields["body"], str):
                raise ValueError("field 'body' must be text")
            _check_length("body", fields["body"], MAX_BODY - 100)  # room for the marker
        if "labels" in fields or effect.action == "create":  # labels replace the set: ours stays in it
            labels = fields.get("labels") or []
            if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
                raise ValueError("field 'labels' must be a list of strings")
            fields["labels"] = list(dict.fromkeys([*labels, self.config.label]))
        return fields


def _check_length(name: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise ValueError(f"field {name!r} is {len(text)} characters; GitHub takes at most {limit} here")


def _login(item: JSON) -> str | None:
    user = item.get("user")
    return str(user.get("login")) if isinstance(user, dict) else None


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC) if value else None


def _target(effect: Effect) -> str:
    if not effect.target_id or not _NUMBER.match(effect.target_id):
        raise ValueError(f"target_id {effect.target_id!r} must be a GitHub issue number")
    return effect.target_id
