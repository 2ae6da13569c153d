"""JiraConnector: reads issues and their comments; writes issues (in bulk), comments, updates, transitions.
A retry finds what an earlier attempt made: an issue by its label ``<label_prefix><key>`` (``find_keys``, also
``continuum reconcile``'s), a comment by its property ``continuum`` = ``{"key": <key>}``, a transition by status."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from connectors.jira.adf import adf_to_text, text_to_adf
from connectors.jira.client import JiraApi, JiraError, jql_quote
from connectors.jira.config import JiraConfig
from connectors.jira.plugin import BULK_CREATE_LIMIT, CAPABILITIES
from continuum.connector import JSON, Effect, EffectResult, Page, SourceRecord
from continuum.http import RetryPolicy
from continuum.kit.cursors import Stream, StreamCursor
from continuum.kit.dispatch import EffectDispatcher, failed, succeeded

log = logging.getLogger(__name__)

FIELDS = "summary,status,labels,comment,updated,created,resolution,fixVersions,priority,description"
MAX_WALKS = 3  # walks of a changing search before a read gives up moving its cursor
ZONE_RECHECK = timedelta(days=1)  # how long a run trusts the time zone an earlier run learned
_TARGET = re.compile(r"^[A-Za-z0-9_-]{1,255}$")  # it goes into a URL path: nothing else may


class IssuesCursor(StreamCursor):
    updated: datetime | None = None  # the newest `updated` of a complete walk
    tz: str | None = None  # from /myself (at tz_checked): JQL reads dates in the user's time zone
    tz_checked: datetime | None = None
    account_id: str | None = None  # ours, also from /myself: our own comments are never staff answers


ISSUES = Stream("issues", "issue", IssuesCursor, "the project's issues, each followed by its comments")


class JiraConnector:
    system = "jira"
    capabilities = CAPABILITIES

    def __init__(self, config: JiraConfig, policy: RetryPolicy | None = None) -> None:
        self.config, self.account = config, config.login
        self.api = JiraApi(config, policy)
        self.dispatch = EffectDispatcher(self.system, {"comment": self._comment, "update": self._update,
                                                       "transition": self._transition}, bulk={"create": self._create})
        self._me: IssuesCursor | None = None

    def check(self) -> None:
        self._myself(fresh=True)

    def escape_text(self, text: str) -> str:
        return text  # v3 bodies are ADF, whose text nodes are literal: escaping would show stray backslashes

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        if stream != ISSUES.name:
            raise ValueError(f"Jira has no stream {stream!r}; known: {ISSUES.name}")
        start = IssuesCursor.from_json(cursor)
        if self._me is None and start.tz and start.account_id and start.tz_checked \
                and datetime.now(UTC) - start.tz_checked < ZONE_RECHECK:
            self._me = start  # a run with nothing new costs one search; not longer: a stale zone shifts the window
        jql = f"project = {jql_quote(self.config.project)}"
        if start.updated:
            # Minute precision: the cursor's minute is read again (the engine drops unchanged records by hash).
            jql += f" AND updated >= {jql_quote(self._jql_time(start.updated))}"
        # Pages are offsets into a list that changes as we page (an edited issue moves to the end, the one at the
        # boundary is skipped): the cursor moves after a walk where no `updated` changed; after MAX_WALKS, never.
        for _ in range(MAX_WALKS):
            seen: dict[str, str | None] = {}
            moved, newest = False, start.updated
            for body in self.api.search(jql + " ORDER BY updated ASC", FIELDS, self.config.page_size):
                issues = body.get("issues") or []
                records = [record for issue in issues for record in self._records(issue)]
                stamps = {str(issue["id"]): (issue.get("fields") or {}).get("updated") for issue in issues}
                moved = moved or any(seen.setdefault(issue_id, at) != at for issue_id, at in stamps.items())
                newest = max(filter(None, [newest, *(datetime.fromisoformat(t) for t in stamps.values() if t)]),
                             default=None)
                done = newest and not moved and (not body.get("nextPageToken") or body.get("isLast") is True)
                advanced = (self._me or IssuesCursor()).model_copy(update={"updated": newest}).to_json()
                yield Page(records, advanced if done else None)  # JSON: the store keeps a page's cursor as given
            if not moved:
                return
            log.info("jira: issues moved while paging; reading the changes again")

    def _myself(self, fresh: bool = False) -> IssuesCursor:
        if self._me is None or fresh:
            me = self.api.rest("GET", "myself")
            self._me = IssuesCursor(tz=me.get("timeZone"), tz_checked=datetime.now(UTC), account_id=me.get("accountId"))
        return self._me

    def _jql_time(self, moment: datetime) -> str:
        zone = ZoneInfo(self._myself().tz or "UTC")
        local = moment.astimezone(zone)
        # In the hour a clock falls back, a wall time names two instants and Jira may pick the later one.
        if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
            local = (moment - timedelta(hours=1)).astimezone(zone)
        return local.strftime("%Y/%m/%d %H:%M")

    def _records(self, issue: JSON) -> list[SourceRecord]:
        issue_id, fields = str(issue["id"]), issue.get("fields") or {}
        embedded = fields["comment"] if isinstance(fields.get("comment"), dict) else {}
        comments = embedded.get("comments") or []
        if int(embedded.get("total", len(comments))) > len(comments):  # search embeds only the first comments
            comments = list(self.api.comments(issue_id))
        return [SourceRecord(ISSUES.name, "issue", issue_id, issue, version=fields.get("updated")),
                *(self._comment_record(c, issue_id, issue.get("key")) for c in comments)]

    def _comment_record(self, comment: JSON, issue_id: str, issue_key: str | None) -> SourceRecord:
        text, prefix = adf_to_text(comment.get("body")), self.config.public_comment_prefix or ""
        # A visibility restriction (role/group) or a Service Management internal note: customers cannot see it.
        public = not comment.get("visibility") and comment.get("jsdPublic") is not False \
            and text.lstrip().startswith(prefix)
        text = text.lstrip()[len(prefix):].lstrip() if public and prefix else text
        # Ours (known by accountId: Cloud hides e-mails) are never staff answers, linked yet or not: no echo.
        public = public and (comment.get("author") or {}).get("accountId") != self._myself().account_id
        about = {"text": text, "public": public, "issue_key": issue_key, "issue_id": issue_id}
        return SourceRecord(ISSUES.name, "comment", str(comment["id"]), {**comment, "continuum": about},
                            version=comment.get("updated"), parent_id=issue_id)

    def _create(self, effects: Sequence[Effect]) -> list[EffectResult]:
        """The dispatcher's bulk handler: one result per effect, in order, whatever Jira answers."""
        results: dict[int, EffectResult] = {}
        todo: list[tuple[int, Effect, JSON]] = []
        for i, effect in enumerate(effects):
            try:
                todo.append((i, effect, self._issue_fields(effect)))
            except ValueError as exc:
                results[i] = failed(effect, str(exc))
        found = self.find_keys([e.key for _, e, _ in todo if e.maybe_applied])  # a failed search fails the batch
        results.update({i: self._created(e, found[e.key], found_existing=True) for i, e, _ in todo if e.key in found})
        todo = [item for item in todo if item[0] not in results]
        for start in range(0, len(todo), BULK_CREATE_LIMIT):
            self._bulk(todo[start:start + BULK_CREATE_LIMIT], results)
        return [results.get(i) or failed(e, "Jira's bulk answer left this issue out") for i, e in enumerate(effects)]

    def find_keys(self, keys: Sequence[str]) -> dict[str, JSON]:  # key -> its oldest issue: a search per 100 keys
        labels, found = {self.config.label_for(key): key for key in keys}, dict[str, JSON]()
        for chunk in (list(labels)[n:n + 100] for n in range(0, len(labels), 100)):
            jql = f"labels in ({', '.join(map(jql_quote, chunk))}) ORDER BY created ASC"
            for issue in (i for page in self.api.search(jql, "labels,updated", 100) for i in page.get("issues") or []):
                for label in set(chunk) & set(issue["fields"].get("labels") or []):
                    found.setdefault(labels[label], issue)
        return found

    def _issue_fields(self, effect: Effect) -> JSON:
        summary, labels = effect.fields.get("summary"), effect.fields.get("labels") or []
        if not isinstance(summary, str) or not summary.strip():
            raise ValueError("field 'summary' is required and must be non-empty text")
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise ValueError("field 'labels' must be a list of strings")
        own = self.config.label_for(effect.key)
        return {"project": {"key": self.config.project}, "issuetype": {"name": self.config.issue_type},
                **self._jira_fields(effect.fields), "labels": labels if own in labels else [*labels, own]}

    def _jira_fields(self, fields: JSON) -> JSON:
        """Plain text as ADF (anything else there is Jira's to take or refuse), the summary on one line."""
        fields = {name: text_to_adf(value) if name in self.config.rich_text_fields and isinstance(value, str)
                  else value for name, value in fields.items()}
        if isinstance(fields.get("summary"), str):
            fields["summary"] = " ".join(fields["summary"].split())[:255]  # Jira's limit
        return fields

    def _bulk(self, chunk: list[tuple[int, Effect, JSON]], results: dict[int, EffectResult]) -> None:
        try:
            answer = self.api.rest("POST", "issue/bulk", body={"issueUpdates": [{"fields": f} for _, _, f in chunk]})
        except JiraError as exc:
            if exc.is_auth_error:
                raise
            answer = exc.answer if exc.status == 400 else None  # 400: Jira could make none; errors say why
            if not isinstance(answer, dict):  # it may still have been applied: the retry finds them by label
                results.update({i: failed(effect, f"bulk create failed: {exc}") for i, effect, _ in chunk})
                return
        rejected = {row.get("failedElementNumber"): (row.get("elementErrors") or {}).get("errors") or {}
                    for row in answer.get("errors") or [] if isinstance(row, dict)}
        made = iter(answer.get("issues") or [])  # the issues made, in the order they were sent
        for n, (i, effect, _) in enumerate(chunk):
            if n in rejected:
                results[i] = failed(effect, "Jira rejected the issue: " + "; ".join(
                    f"field {name!r}: {message}" for name, message in dict(rejected[n]).items()))
            elif isinstance(row := next(made, None), dict) and row.get("id") and row.get("key"):
                results[i] = self._created(effect, row, found_existing=False)

    def _created(self, effect: Effect, issue: JSON, *, found_existing: bool) -> EffectResult:
        issue_id, key, source = str(issue["id"]), str(issue["key"]), effect.context.get("source_url")
        done = succeeded(effect, issue_id, object_type="issue", version=(issue.get("fields") or {}).get("updated"),
                         url=self.config.browse_url(key), found_existing=found_existing)
        if not source or not self.config.remote_links:
            return done
        global_id = f"continuum:{source}" if len(str(source)) <= 245 else \
            "continuum:sha256:" + hashlib.sha256(str(source).encode()).hexdigest()
        try:  # upserted by globalId (at most 255 characters), so adding it again is harmless
            self.api.rest("POST", f"issue/{issue_id}/remotelink", body={
                "globalId": global_id, "application": {"type": "org.continuum.hub", "name": "Continuum"},
                "relationship": "source",
                "object": {"url": source, "title": str(effect.context.get("source_title") or source)[:255]}})
        except JiraError as exc:  # not ok: the retry finds the issue by label and adds the link again
            return failed(effect, f"issue {key} exists but adding the remote link failed: {exc}")
        return done

    def _comment(self, effect: Effect) -> EffectResult:
        target, body, visibility = _target(effect), effect.fields.get("body"), effect.fields.get("visibility")
        if not isinstance(body, str) or not body.strip():
            raise ValueError("field 'body' is required and must be non-empty text")
        mark = {"key": "continuum", "value": {"key": effect.key}}
        found = next((c for c in self.api.comments(target, expand="properties")
                      if mark in (c.get("properties") or [])), None) if effect.maybe_applied else None
        comment = found or self.api.rest("POST", f"issue/{target}/comment", body={
            "body": text_to_adf(body), "properties": [mark], **({"visibility": visibility} if visibility else {})})
        url = f"{self.config.browse_url(target)}?focusedCommentId={comment['id']}" if "-" in target else None
        return succeeded(effect, str(comment["id"]), object_type="comment", version=comment.get("updated"), url=url,
                         found_existing=found is not None)

    def _transition(self, effect: Effect) -> EffectResult:
        target, wanted, resolution = _target(effect), effect.fields.get("status"), effect.fields.get("resolution")
        if not isinstance(wanted, str) or not wanted.strip():
            raise ValueError("field 'status' is required (the target status name)")
        issue = self.api.rest("GET", f"issue/{target}", params={"fields": "status"})
        issue_id, url = str(issue["id"]), self.config.browse_url(str(issue["key"]))
        current = ((issue.get("fields") or {}).get("status") or {}).get("name", "")
        if current.casefold() == wanted.casefold():
            return succeeded(effect, issue_id, object_type="issue", url=url, found_existing=effect.maybe_applied)
        # Matched by the status it leads to: workflows name transitions freely ("Close issue").
        transitions = self.api.rest("GET", f"issue/{issue_id}/transitions").get("transitions") or []
        to = [str(t["id"]) for t in transitions if str((t.get("to") or {}).get("name")).casefold() == wanted.casefold()]
        if not to:
            reachable = ", ".join(sorted({str((t.get("to") or {}).get("name")) for t in transitions})) or "none"
            raise ValueError(f"field 'status': no transition from {current!r} to {wanted!r} (reachable: {reachable})")
        self.api.rest("POST", f"issue/{issue_id}/transitions", body={"transition": {"id": to[0]}, **(
            {"fields": {"resolution": {"name": resolution}}} if isinstance(resolution, str) and resolution else {})})
        return succeeded(effect, issue_id, object_type="issue", url=url)

    def _update(self, effect: Effect) -> EffectResult:
        target = _target(effect)
        if not effect.fields:
            raise ValueError("field set is empty: nothing to update")
        # returnIssue gives back id, key and the new `updated` in the same call (Cloud; Data Center answers 204).
        issue = self.api.rest("PUT", f"issue/{target}", params={"returnIssue": "true"},
                              body={"fields": self._jira_fields(effect.fields)})
        url = self.config.browse_url(issue["key"]) if "key" in issue else None
        if effect.context.get("drop_source_link"):
            self._drop_source_links(target)
        return succeeded(effect, str(issue.get("id") or target), object_type="issue", url=url,
                         version=(issue.get("fields") or {}).get("updated"))


    def _drop_source_links(self, target: str) -> None:
        """Delete the hub's "source" remote links of an issue (their URL and title quote a post that is gone);
        a link already gone (404) is what was wanted."""
        for link in self.api.rest("GET", f"issue/{target}/remotelink") or []:
            if (link.get("application") or {}).get("type") != "org.continuum.hub" or not link.get("globalId"):
                continue
            try:
                self.api.rest("DELETE", f"issue/{target}/remotelink", params={"globalId": link["globalId"]})
            except JiraError as exc:
                if exc.status != 404:
                    raise


def _target(effect: Effect) -> str:
    if not effect.target_id or not _TARGET.match(effect.target_id):
        raise ValueError(f"target_id {effect.target_id!r} must be a Jira issue id or key")
    return effect.target_id
