"""JiraConnector: reads issues and their comments, writes issues, comments, transitions.

Idempotency, per action (the engine retries an effect with ``maybe_applied``
when an earlier attempt may have reached Jira):

* create: the issue carries the label ``<label_prefix><effect key>``; a retry
  finds it with one ``labels in (...)`` search for the whole batch.
* comment: the comment carries the entity property ``continuum`` =
  ``{"key": <effect key>}``; a retry lists the issue's comments with
  ``expand=properties`` and looks for it.
* transition: a retry sees the issue already in the target status.
* remote link: Jira upserts links by ``globalId``, so re-adding is harmless.

Creation lives in ``creating.py`` (a mixin), the rest here.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jira
import requests

from connectors.jira.adf import adf_to_text, text_to_adf
from connectors.jira.client import build_client, rest
from connectors.jira.common import EffectError, JiraCheckError, describe_error, failed, jql_quote, parse_jira_time
from connectors.jira.config import JiraConfig
from connectors.jira.creating import BULK_CREATE_LIMIT, IssueCreator
from continuum.connector import JSON, Capabilities, Effect, EffectResult, Page, SourceRecord
from continuum.http import RetryPolicy

__all__ = ["JiraConnector", "JiraCheckError", "EffectError", "parse_jira_time"]

log = logging.getLogger(__name__)

SEARCH_FIELDS = ("summary", "status", "labels", "comment", "updated", "created", "resolution",
                 "fixVersions", "priority", "description")
COMMENT_PAGE_SIZE = 100
MAX_WALKS = 3  # walks of a changing search before a read gives up moving its cursor
ZONE_RECHECK = timedelta(days=1)  # how long a run trusts the time zone an earlier run learned
PROPERTY_KEY = "continuum"
# Issue ids/keys go into URL paths; anything else could address another resource.
_TARGET = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-\d+$")


class JiraConnector(IssueCreator):
    system = "jira"
    capabilities = Capabilities(
        streams=("issues",),
        effects=("create", "update", "comment", "transition"),
        bulk_sizes={"create": BULK_CREATE_LIMIT},
    )

    def __init__(self, config: JiraConfig, policy: RetryPolicy | None = None) -> None:
        self.config = config
        self.account: str | None = config.login
        self._policy = policy
        self._client: jira.JIRA | None = None
        self._user_tz: tzinfo | None = None
        self._zone_checked: datetime | None = None
        self._account_id: str | None = None

    @property
    def client(self) -> jira.JIRA:
        # Built on first use: constructing a connector must never touch the network.
        if self._client is None:
            self._client = build_client(self.config, self._policy)
        return self._client

    # -- Connector protocol ---------------------------------------------------
    def check(self) -> None:
        try:
            me = self.client.myself()
        except (jira.JIRAError, requests.RequestException) as exc:
            raise JiraCheckError(f"cannot reach Jira at {self.config.url} as {self.config.login}: "
                                 f"{describe_error(exc)}") from exc
        self._user_tz = _zone(me.get("timeZone"))
        self._account_id = me.get("accountId")

    def escape_text(self, text: str) -> str:
        """Return ``text`` unchanged: v3 bodies are ADF and text nodes are literal.

        Wiki markup (``{code}``, ``[~accountid:..]``, ``{color}``) only means
        something in v2 string bodies; we never send those.  Escaping here
        would show the customer's words with stray backslashes.
        """
        return text

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        if stream != "issues":
            raise ValueError(f"Jira has no stream {stream!r}; known: issues")
        since = parse_jira_time(cursor["updated"]) if cursor and cursor.get("updated") else None
        self._adopt_zone(cursor)
        jql = f"project = {jql_quote(self.config.project)}"
        if since is not None:
            # JQL compares at minute precision in the user's time zone, so the
            # cursor is floored to its minute: the overlap is read again and the
            # engine drops unchanged records by content hash.
            jql += f" AND updated >= {jql_quote(self._jql_time(since))}"
        jql += " ORDER BY updated ASC"
        # Search pages are offsets into a list that changes while we page: when an issue we already
        # read is edited, it moves to the end and the issue at the next page boundary is never
        # served.  So the cursor moves only when a walk saw no issue move (one came back with a new
        # `updated`); otherwise the walk is repeated, and after MAX_WALKS the cursor stays put.
        for _walk in range(MAX_WALKS):
            moved = False
            seen: dict[str, Any] = {}
            newest = since
            token: str | None = None
            while True:
                data = self._search(jql, token, self.config.page_size, list(SEARCH_FIELDS))
                records: list[SourceRecord] = []
                for issue in data.get("issues") or []:
                    records.extend(self._issue_records(issue))
                    updated = (issue.get("fields") or {}).get("updated")
                    moved = moved or seen.get(str(issue.get("id")), updated) != updated
                    seen[str(issue.get("id"))] = updated
                    if updated:
                        moment = parse_jira_time(updated)
                        newest = moment if newest is None or moment > newest else newest
                token = data.get("nextPageToken")
                last = not token or data.get("isLast") is True
                advanced = {"updated": newest.isoformat(timespec="milliseconds"), **self._zone_note()} \
                    if newest else cursor
                yield Page(records=records, cursor=advanced if last and not moved else cursor)
                if last:
                    break
            if not moved:
                return
            log.info("jira: issues moved while paging; reading the changes again")

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        results: dict[int, EffectResult] = {}
        creates = [(index, effect) for index, effect in enumerate(effects) if effect.action == "create"]
        results.update(self._write_creates(creates))
        for index, effect in enumerate(effects):
            if effect.action != "create":
                results[index] = self._guarded(effect)
        return [results[index] for index in range(len(effects))]

    # -- reading ------------------------------------------------------------------
    def _search(self, jql: str, token: str | None, limit: int, fields: list[str]) -> JSON:
        # json_result=True: one page per call, we follow nextPageToken ourselves
        # so that each search page becomes one Page (and one cursor commit).
        # Straight to the endpoint through the client's session (our HTTP layer, its errors): the
        # library's search first asks /field for field names on every new client, one call per run.
        params: dict[str, Any] = {"jql": jql, "maxResults": limit, "fields": fields}
        if token:
            params["nextPageToken"] = token
        result = self.client._session.get(f"{self.config.url}/rest/api/3/search/jql", params=params).json()
        if not isinstance(result, dict):
            # Never read "no answer" as "no changes": that would advance nothing
            # but hide a broken client (e.g. the library's Cloud-only guard).
            raise RuntimeError(f"jira: search returned {type(result).__name__}, not a JSON object")
        return result

    def _jql_time(self, moment: datetime) -> str:
        zone = self._timezone()
        local = moment.astimezone(zone)
        # In the hour a clock falls back, a wall time names two instants and
        # Jira may pick the later one; step back an hour rather than skip changes.
        if local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset():
            local = (moment - timedelta(hours=1)).astimezone(zone)
        return local.strftime("%Y/%m/%d %H:%M")

    def _adopt_zone(self, cursor: JSON | None) -> None:
        """Use the time zone the last run learned, unless a day has passed: then ask /myself again.

        JQL reads times in the user's zone; a stale zone would shift the window, so it is not kept
        for long.  Within a day, a run with nothing new costs one search call.
        """
        if self._user_tz is not None or not cursor or not cursor.get("tz") or not cursor.get("tz_checked"):
            return
        checked = datetime.fromisoformat(cursor["tz_checked"])
        if datetime.now(timezone.utc) - checked < ZONE_RECHECK:
            self._user_tz = _zone(cursor["tz"])
            self._account_id = cursor.get("account_id") or self._account_id
            self._zone_checked = checked

    def _zone_note(self) -> JSON:
        if self._user_tz is None:
            return {}
        return {"tz": str(self._user_tz), "account_id": self._account_id,
                "tz_checked": (self._zone_checked or datetime.now(timezone.utc)).isoformat()}

    def _timezone(self) -> tzinfo:
        if self._user_tz is None:
            self._remember_myself()
        assert self._user_tz is not None
        return self._user_tz

    def _remember_myself(self) -> None:
        me = self.client.myself()
        self._zone_checked = datetime.now(timezone.utc)
        self._user_tz, self._account_id = _zone(me.get("timeZone")), me.get("accountId")

    def _own_account_id(self) -> str | None:
        """Our accountId: Cloud hides e-mail addresses, so the login cannot recognise our comments."""
        if self._account_id is None:
            self._remember_myself()
        return self._account_id

    def _issue_records(self, issue: JSON) -> list[SourceRecord]:
        issue_id = str(issue["id"])
        fields = issue.get("fields") or {}
        records = [SourceRecord(stream="issues", object_type="issue", external_id=issue_id,
                                payload=issue, version=fields.get("updated"))]
        for comment in self._all_comments(issue_id, fields.get("comment")):
            records.append(self._comment_record(comment, issue_id, issue.get("key")))
        return records

    def _all_comments(self, issue_id: str, embedded: Any) -> list[JSON]:
        if not isinstance(embedded, dict):
            return []
        comments = list(embedded.get("comments") or [])
        if int(embedded.get("total", len(comments))) <= len(comments):
            return comments
        # Search results embed only the first comments of an issue.
        return self._fetch_comments(issue_id)

    def _fetch_comments(self, issue: str, expand: str | None = None) -> list[JSON]:
        comments: list[JSON] = []
        while True:
            params: dict[str, Any] = {"startAt": len(comments), "maxResults": COMMENT_PAGE_SIZE}
            if expand:
                params["expand"] = expand
            page = rest(self.client, "GET", f"issue/{issue}/comment", params=params)
            batch = page.get("comments") or []
            comments.extend(batch)
            if not batch or len(comments) >= int(page.get("total", 0)):
                return comments

    def _comment_record(self, comment: JSON, issue_id: str, issue_key: str | None) -> SourceRecord:
        public, text = self._public_text(comment)
        # The hub's own comment (a follow-up it posted) is never a staff answer, even while the
        # outbox has not yet linked it (its POST timed out, say): answering with it would echo.
        if public and (comment.get("author") or {}).get("accountId") == self._own_account_id():
            public = False
        payload = {**comment, "continuum": {"text": text, "public": public,
                                            "issue_key": issue_key, "issue_id": issue_id}}
        return SourceRecord(stream="issues", object_type="comment", external_id=str(comment["id"]),
                            payload=payload, version=comment.get("updated"), parent_id=issue_id)

    def _public_text(self, comment: JSON) -> tuple[bool, str]:
        text = adf_to_text(comment.get("body"))
        # A visibility restriction (role/group) or a Service Management internal
        # note means customers could not see it in Jira either.
        if comment.get("visibility") or comment.get("jsdPublic") is False:
            return False, text
        prefix = self.config.public_comment_prefix
        if not prefix:
            return True, text
        stripped = text.lstrip()
        if stripped.startswith(prefix):
            return True, stripped[len(prefix):].lstrip()
        return False, text

    def _guarded(self, effect: Effect) -> EffectResult:
        handlers = {"comment": self._comment, "transition": self._transition, "update": self._update}
        handler = handlers.get(effect.action)
        if handler is None:
            return failed(effect, f"action {effect.action!r} is not supported by Jira "
                                   f"(supported: {', '.join(self.capabilities.effects)})")
        try:
            return handler(effect)
        except EffectError as exc:
            return failed(effect, str(exc))
        except (jira.JIRAError, requests.RequestException) as exc:
            return failed(effect, describe_error(exc))
        except Exception as exc:  # one odd answer must not sink the rest of the batch
            log.exception("jira: effect %s failed unexpectedly", effect.key)
            return failed(effect, describe_error(exc))

    def _comment(self, effect: Effect) -> EffectResult:
        target = _target(effect)
        body = effect.fields.get("body")
        if not isinstance(body, str) or not body.strip():
            raise EffectError("field 'body' is required and must be non-empty text")
        comment: JSON | None = None
        if effect.maybe_applied:
            comment = self._find_comment(target, effect.key)
        found = comment is not None
        if comment is None:
            # Raw POST: JIRA.add_comment cannot send our entity property.
            payload: JSON = {"body": text_to_adf(body),
                             "properties": [{"key": PROPERTY_KEY, "value": {"key": effect.key}}]}
            if isinstance(effect.fields.get("visibility"), dict):
                payload["visibility"] = effect.fields["visibility"]
            comment = rest(self.client, "POST", f"issue/{target}/comment", body=payload)
        url = f"{self.config.browse_url(target)}?focusedCommentId={comment['id']}" if _ISSUE_KEY.match(target) else None
        return EffectResult(key=effect.key, ok=True, external_id=str(comment["id"]), object_type="comment",
                            version=comment.get("updated"), url=url, found_existing=found)

    def _find_comment(self, issue: str, effect_key: str) -> JSON | None:
        for comment in self._fetch_comments(issue, expand="properties"):
            for prop in comment.get("properties") or []:
                value = prop.get("value")
                if prop.get("key") == PROPERTY_KEY and isinstance(value, dict) and value.get("key") == effect_key:
                    return comment
        return None

    def _transition(self, effect: Effect) -> EffectResult:
        target = _target(effect)
        wanted = effect.fields.get("status")
        if not isinstance(wanted, str) or not wanted.strip():
            raise EffectError("field 'status' is required (the target status name)")
        issue = rest(self.client, "GET", f"issue/{target}", params={"fields": "status"})
        issue_id, key = str(issue["id"]), str(issue["key"])
        current = ((issue.get("fields") or {}).get("status") or {}).get("name", "")
        done = EffectResult(key=effect.key, ok=True, external_id=issue_id, object_type="issue",
                            url=self.config.browse_url(key), found_existing=effect.maybe_applied)
        if current.casefold() == wanted.casefold():
            return done
        transitions = self.client.transitions(issue_id)
        matching = [t for t in transitions if str((t.get("to") or {}).get("name", "")).casefold() == wanted.casefold()]
        if not matching:
            available = sorted({str((t.get("to") or {}).get("name")) for t in transitions})
            raise EffectError(f"field 'status': no transition from {current!r} to {wanted!r} "
                              f"(reachable: {', '.join(available) or 'none'})")
        # Raw POST rather than JIRA.transition_issue: the library sends the id as
        # a JSON number (the API types it as a string) and matches transition
        # *names*, while workflows name transitions freely ("Close issue").
        payload: JSON = {"transition": {"id": str(matching[0]["id"])}}
        resolution = effect.fields.get("resolution")
        if isinstance(resolution, str) and resolution:
            payload["fields"] = {"resolution": {"name": resolution}}
        rest(self.client, "POST", f"issue/{issue_id}/transitions", body=payload)
        return EffectResult(key=effect.key, ok=True, external_id=issue_id, object_type="issue",
                            url=self.config.browse_url(key))

    def _update(self, effect: Effect) -> EffectResult:
        target = _target(effect)
        if not effect.fields:
            raise EffectError("field set is empty: nothing to update")
        fields = copy.deepcopy(dict(effect.fields))
        self._convert_rich_text(fields)
        # returnIssue gives back id, key and the new `updated` in the same call.
        # Raw PUT: Issue.update() would GET the issue first and reload it after.
        issue = rest(self.client, "PUT", f"issue/{target}",
                     params={"returnIssue": "true"}, body={"fields": fields})
        issue_id = str(issue.get("id") or target)
        key = issue.get("key")
        return EffectResult(key=effect.key, ok=True, external_id=issue_id, object_type="issue",
                            version=(issue.get("fields") or {}).get("updated"),
                            url=self.config.browse_url(str(key)) if key else None)


def _zone(name: Any) -> tzinfo:
    try:
        return ZoneInfo(str(name)) if name else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("jira: unknown user time zone %r; assuming UTC", name)
        return timezone.utc


def _target(effect: Effect) -> str:
    target = effect.target_id
    if not target or not _TARGET.match(target):
        raise EffectError(f"target_id {target!r} must be a Jira issue id or key")
    return target
