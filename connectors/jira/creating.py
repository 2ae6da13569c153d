"""Issue creation for JiraConnector: bulk create, recovery by label, remote links.

A mixin so that ``connector.py`` stays readable; it uses the connector's
``client``, ``config`` and ``_search``.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import jira
import requests

from connectors.jira.adf import is_adf_document, text_to_adf
from connectors.jira.client import rest
from connectors.jira.common import EffectError, describe_error, failed, jql_quote
from connectors.jira.config import JiraConfig
from continuum.connector import JSON, Effect, EffectResult

BULK_CREATE_LIMIT = 50  # Jira rejects more than 50 issueUpdates per bulk call
MAX_GLOBAL_ID = 255  # Jira's column limit for remote link globalId


class IssueCreator:
    config: JiraConfig

    @property
    def client(self) -> jira.JIRA:
        raise NotImplementedError

    def _search(self, jql: str, token: str | None, limit: int, fields: list[str]) -> JSON:
        raise NotImplementedError

    def _write_creates(self, items: list[tuple[int, Effect]]) -> dict[int, EffectResult]:
        results: dict[int, EffectResult] = {}
        pending: list[tuple[int, Effect, JSON]] = []
        for index, effect in items:
            try:
                pending.append((index, effect, self._create_fields(effect)))
            except EffectError as exc:
                results[index] = failed(effect, str(exc))
        recovering = [(i, e) for i, e, _ in pending if e.maybe_applied]
        found: dict[str, JSON] = {}
        if recovering:
            try:
                found = self._find_by_labels([self.config.label_for(e.key) for _, e in recovering])
            except (jira.JIRAError, requests.RequestException) as exc:
                # Creating blindly could duplicate the issue; let the engine retry later.
                for index, effect in recovering:
                    results[index] = failed(effect, "could not check whether an earlier attempt created "
                                                     f"the issue (label search: {describe_error(exc)})")
        to_create: list[tuple[int, Effect, JSON]] = []
        for index, effect, fields in pending:
            if index in results:
                continue
            existing = found.get(self.config.label_for(effect.key))
            if existing is not None:
                results[index] = self._after_create(effect, existing, found_existing=True)
            else:
                to_create.append((index, effect, fields))
        for start in range(0, len(to_create), BULK_CREATE_LIMIT):
            results.update(self._bulk_create(to_create[start:start + BULK_CREATE_LIMIT]))
        return results

    def _bulk_create(self, chunk: list[tuple[int, Effect, JSON]]) -> dict[int, EffectResult]:
        results: dict[int, EffectResult] = {}
        try:
            # Fields hold project/issuetype as objects, never bare strings, so the
            # library adds no per-issue project or createmeta lookups; prefetch=False
            # avoids one GET per created issue.
            rows = self.client.create_issues([fields for _, _, fields in chunk], prefetch=False)
        except (jira.JIRAError, requests.RequestException, KeyError, TypeError, ValueError) as exc:
            # A failed POST may still have been applied: the engine will retry
            # with maybe_applied and find the issues by label.
            for index, effect, _ in chunk:
                results[index] = failed(effect, f"bulk create failed: {describe_error(exc)}")
            return results
        for (index, effect, _), row in zip(chunk, rows, strict=True):
            if row.get("status") == "Success" and row.get("issue") is not None:
                raw = row["issue"].raw
                results[index] = self._after_create(effect, raw, found_existing=False)
            else:
                results[index] = failed(effect, "Jira rejected the issue: " + _element_errors(row.get("error")))
        return results

    def _create_fields(self, effect: Effect) -> JSON:
        if effect.object_type != "issue":
            raise EffectError(f"object_type {effect.object_type!r} cannot be created in Jira (only 'issue')")
        fields = copy.deepcopy(dict(effect.fields))
        # Objects, not strings: the library would look a string project up with
        # an extra GET per issue and resolve a string issue type via createmeta.
        project = fields.get("project") or self.config.project
        fields["project"] = {"key": project} if isinstance(project, str) else project
        issue_type = fields.get("issuetype") or self.config.issue_type
        fields["issuetype"] = {"name": issue_type} if isinstance(issue_type, str) else issue_type
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            raise EffectError("field 'summary' is required and must be non-empty text")
        fields["summary"] = _clean_summary(summary)
        self._convert_rich_text(fields)
        labels = fields.get("labels") or []
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise EffectError("field 'labels' must be a list of strings")
        own = self.config.label_for(effect.key)
        spaced = [label for label in [*labels, own] if not label or any(ch.isspace() for ch in label)]
        if spaced:
            raise EffectError(f"field 'labels': Jira labels cannot be empty or contain spaces: {spaced!r}")
        fields["labels"] = labels if own in labels else [*labels, own]
        return fields

    def _convert_rich_text(self, fields: JSON) -> None:
        if "summary" in fields and isinstance(fields["summary"], str):
            fields["summary"] = _clean_summary(fields["summary"])
        for name in self.config.rich_text_fields:
            value = fields.get(name)
            if isinstance(value, str):
                fields[name] = text_to_adf(value)
            elif value is not None and not is_adf_document(value):
                raise EffectError(f"field {name!r} must be plain text, got {type(value).__name__}")

    def _find_by_labels(self, labels: list[str]) -> dict[str, JSON]:
        wanted = set(labels)
        # Oldest first: if an earlier crash ever left two, the first one is "the" issue.
        jql = f"labels in ({', '.join(jql_quote(label) for label in labels)}) ORDER BY created ASC"
        found: dict[str, JSON] = {}
        token: str | None = None
        while True:
            data = self._search(jql, token, 100, ["labels", "updated", "summary"])
            for issue in data.get("issues") or []:
                for label in (issue.get("fields") or {}).get("labels") or []:
                    if label in wanted and label not in found:
                        found[label] = issue
            token = data.get("nextPageToken")
            if not token or data.get("isLast") is True:
                return found

    def _after_create(self, effect: Effect, issue: JSON, found_existing: bool) -> EffectResult:
        issue_id, key = str(issue["id"]), str(issue["key"])
        version = (issue.get("fields") or {}).get("updated")
        url = self.config.browse_url(key)
        source_url = effect.context.get("source_url")
        if source_url and self.config.remote_links:
            try:
                self._upsert_remote_link(issue_id, str(source_url), effect.context)
            except (jira.JIRAError, requests.RequestException) as exc:
                # Not ok: the engine retries with maybe_applied, finds the issue by
                # label and adds the link again (idempotent by globalId).
                return EffectResult(key=effect.key, ok=False, external_id=issue_id, object_type="issue",
                                    version=version, url=url, found_existing=found_existing,
                                    error=f"effect {effect.key}: issue {key} exists but adding the remote "
                                          f"link failed: {describe_error(exc)}")
        return EffectResult(key=effect.key, ok=True, external_id=issue_id, object_type="issue",
                            version=version, url=url, found_existing=found_existing)

    def _upsert_remote_link(self, issue_id: str, source_url: str, context: JSON) -> None:
        # Raw POST rather than JIRA.add_remote_link: the library first lists
        # application links (an admin-only call that fails with a warning for
        # ordinary users) which this plain web link does not need.
        global_id = f"continuum:{source_url}"
        if len(global_id) > MAX_GLOBAL_ID:
            global_id = "continuum:sha256:" + hashlib.sha256(source_url.encode()).hexdigest()
        title = str(context.get("source_title") or source_url)[:255]
        body: JSON = {
            "globalId": global_id,
            "application": {"type": "org.continuum.hub", "name": "Continuum"},
            "relationship": "source",
            "object": {"url": source_url, "title": title},
        }
        rest(self.client, "POST", f"issue/{issue_id}/remotelink", body=body)


def _clean_summary(summary: str) -> str:
    # Jira refuses line breaks in a summary and anything over 255 characters.
    return " ".join(summary.split())[:255]


def _element_errors(errors: Any) -> str:
    if isinstance(errors, dict) and errors:
        return "; ".join(f"field {name!r}: {message}" for name, message in errors.items())
    return str(errors or "no details")
