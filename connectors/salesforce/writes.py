"""What the hub writes to Salesforce: Tasks (bulk, sObject collections), Contact updates (bulk), Contacts and
Leads, Cases and their comments.  Each effect's key goes with what it makes, so a maybe-applied retry finds it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from connectors.salesforce.client import SalesforceClient, soql_string
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.plugin import BULK_SIZE
from continuum.connector import JSON, Effect, EffectResult
from continuum.kit import failed, succeeded

_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}(?:__c)?$")
# CaseComment takes no custom fields: the key ends the comment's text as a line of its own.
_MARKER = re.compile(r"\n*\[continuum:([A-Za-z0-9_.:-]{1,200})\]\s*\Z")
MAX_SUBJECT, MAX_TEXT, MAX_COMMENT = 255, 32000, 4000
CASE_FIELDS = {"subject": "Subject", "title": "Subject", "description": "Description", "body": "Description",
               "priority": "Priority", "origin": "Origin", "status": "Status", "contact_id": "ContactId",
               "type": "Type"}
CHANNEL_TYPES = {"email": "Email", "phone": "Call", "call": "Call", "meeting": "Meeting"}


class Writes:
    def __init__(self, api: SalesforceClient, config: SalesforceConfig) -> None:
        self.api, self.config = api, config

    # -- finding what a key made ------------------------------------------------------
    def find(self, sobject: str, keys: Sequence[str]) -> dict[str, JSON]:
        found: dict[str, JSON] = {}
        wanted = list(dict.fromkeys(keys))
        key = self.config.key_field
        for start in range(0, len(wanted), 100):  # keeps the query well under SOQL's 100,000 characters
            listed = ", ".join(soql_string(k) for k in wanted[start:start + 100])
            for row in self.api.query_all(f"SELECT Id, {key}, SystemModstamp FROM {sobject} "
                                          f"WHERE {key} IN ({listed})"):
                found.setdefault(str(row.get(key)), row)
        return found

    @staticmethod
    def split_marker(text: str) -> tuple[str, str | None]:
        match = _MARKER.search(text)
        return (text[:match.start()], match.group(1)) if match else (text, None)

    # -- Tasks: one per kept interaction, 200 a call ------------------------------------
    def log(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self._create_by_key(effects, "Task", "task", self._task)

    def _create_by_key(self, effects: Sequence[Effect], sobject: str, object_type: str,
                       build: Callable[[Effect], JSON]) -> list[EffectResult]:
        """Records through sObject collections, 200 a call; a maybe-applied retry finds its record by key first
        (one query per 100 keys).  ``build`` raises ValueError for an effect it cannot make a record of."""
        results: dict[str, EffectResult] = {}
        records: list[tuple[Effect, JSON]] = []
        for effect in effects:
            try:
                records.append((effect, build(effect)))
            except ValueError as exc:
                results[effect.key] = failed(effect, str(exc))
        retried = [e.key for e, _ in records if e.maybe_applied]
        already = self.find(sobject, retried) if retried else {}
        pending = []
        for effect, record in records:
            if effect.key in already:
                results[effect.key] = succeeded(effect, str(already[effect.key]["Id"]), object_type=object_type,
                                                found_existing=True)
            else:
                pending.append((effect, record))
        results.update(self._collection("POST", pending, object_type))
        return [results[e.key] for e in effects]

    def _task(self, effect: Effect) -> JSON:
        fields = effect.fields
        who = _record_id(fields.get("contact_id"), "contact_id")
        subject = " ".join(str(fields.get("subject") or "").split())
        body = fields.get("body")
        if not subject:
            raise ValueError("field 'subject' is required and must be non-empty text")
        if body is not None and not isinstance(body, str):
            raise ValueError("field 'body' must be text")
        text = str(body or "")
        if fields.get("link"):
            text += f"\n\n{fields['link']}"
        channel = str(fields.get("channel") or "")
        record: JSON = {"attributes": {"type": "Task"}, "WhoId": who, "Subject": subject[:MAX_SUBJECT],
                        "Description": text[:MAX_TEXT], "Status": "Completed", "TaskSubtype": "Task",
                        "Type": CHANNEL_TYPES.get(channel.lower(), "Other"), self.config.key_field: effect.key}
        if fields.get("occurred_at"):
            record["ActivityDate"] = _date(fields["occurred_at"])
        return record

    def _collection(self, method: str, pending: Sequence[tuple[Effect, JSON]], kind: str
                    ) -> dict[str, EffectResult]:
        """sObject collections, BULK_SIZE records a call, allOrNone false: one bad record fails alone."""
        results: dict[str, EffectResult] = {}
        for start in range(0, len(pending), BULK_SIZE):
            chunk = pending[start:start + BULK_SIZE]
            answer = self.api.call(method, "composite/sobjects",
                                   json={"allOrNone": False, "records": [record for _, record in chunk]})
            rows = answer if isinstance(answer, list) else []
            for position, (effect, record) in enumerate(chunk):
                row = rows[position] if position < len(rows) and isinstance(rows[position], dict) else None
                if row is not None and row.get("success"):
                    results[effect.key] = succeeded(effect, str(row.get("id") or record.get("Id")), object_type=kind)
                else:
                    errors = (row or {}).get("errors") or [{"message": "Salesforce's answer left this record out"}]
                    said = "; ".join(f"{e.get('statusCode', '')}: {e.get('message', '')}".lstrip(": ")
                                     for e in errors if isinstance(e, dict))
                    results[effect.key] = failed(effect, f"Salesforce refused the {kind}: {said[:300]}")
        return results

    def delete_logs(self, effects: Sequence[Effect]) -> list[EffectResult]:
        """Delete the Tasks (an erasure), 200 ids a call, allOrNone false.  A Task already deleted (a retry
        after a crash, or staff) is done too."""
        results: dict[str, EffectResult] = {}
        pending: list[tuple[Effect, str]] = []
        for effect in effects:
            try:
                pending.append((effect, _record_id(effect.target_id, "target_id")))
            except ValueError as exc:
                results[effect.key] = failed(effect, str(exc), permanent=True)
        for start in range(0, len(pending), BULK_SIZE):
            chunk = pending[start:start + BULK_SIZE]
            answer = self.api.call("DELETE", "composite/sobjects",
                                   params={"ids": ",".join(task for _, task in chunk), "allOrNone": "false"})
            rows = {str(r.get("id")): r for r in answer or [] if isinstance(r, dict)}
            for effect, task in chunk:
                row = rows.get(task) or {}
                codes = [str(e.get("statusCode")) for e in row.get("errors") or [] if isinstance(e, dict)]
                if row.get("success") or codes == ["ENTITY_IS_DELETED"]:
                    results[effect.key] = succeeded(effect, task, object_type="task")
                else:
                    results[effect.key] = failed(effect, f"Salesforce did not delete Task {task}: "
                                                         f"{', '.join(codes) or 'no answer for it'}")
        return [results[e.key] for e in effects]

    # -- Contacts ---------------------------------------------------------------------
    def update_contacts(self, effects: Sequence[Effect]) -> list[EffectResult]:
        results: dict[str, EffectResult] = {}
        pending = []
        for effect in effects:
            try:
                values = _values(effect.fields.get("values"))
                if not values:
                    raise ValueError("field 'values' is empty: nothing to update")
                record = {"attributes": {"type": "Contact"}, "Id": _record_id(
                    effect.fields.get("contact_id") or effect.target_id, "contact_id"), **values}
                pending.append((effect, record))
            except ValueError as exc:
                results[effect.key] = failed(effect, str(exc))
        results.update(self._collection("PATCH", pending, "contact"))
        return [results[e.key] for e in effects]

    def create_contact(self, effect: Effect) -> EffectResult:
        given = dict(effect.fields)
        kind = str(given.pop("kind", "contact")).lower()
        if kind not in ("contact", "lead"):
            raise ValueError(f"field 'kind' is {kind!r}: Salesforce makes a 'contact' or a 'lead'")
        values = _values(given.pop("values", None) or given)
        if not values.get("LastName"):
            raise ValueError("field 'LastName' is required (Salesforce refuses a Contact or Lead without it)")
        if kind == "lead" and not values.get("Company"):
            values["Company"] = "[not provided]"  # Leads require a company; the customer may not have said
        sobject = "Lead" if kind == "lead" else "Contact"
        made = self.api.call("POST", f"sobjects/{sobject}/", json=values)
        return succeeded(effect, str(made["id"]), object_type=kind)

    # -- Cases (the tracker effects) ------------------------------------------------------
    def _case_values(self, fields: JSON) -> JSON:
        unknown = sorted(set(fields) - set(CASE_FIELDS))
        if unknown:
            raise ValueError(f"field(s) {', '.join(unknown)}: not Case fields the hub sets "
                             f"({', '.join(sorted(CASE_FIELDS))})")
        values = {CASE_FIELDS[name]: value for name, value in fields.items()}
        if isinstance(values.get("Subject"), str):
            values["Subject"] = " ".join(values["Subject"].split())[:MAX_SUBJECT]
        if "Description" in values:
            if not isinstance(values["Description"], str):
                raise ValueError("field 'body' must be text")
            if len(values["Description"]) > MAX_TEXT:
                raise ValueError(f"field 'body' is {len(values['Description'])} characters; a Case takes {MAX_TEXT}")
        if values.get("ContactId"):  # empty: the customer has no contact in Salesforce
            values["ContactId"] = _record_id(values["ContactId"], "contact_id")
        return values

    def create_cases(self, effects: Sequence[Effect]) -> list[EffectResult]:
        """Cases through sObject collections, 200 a call (a rule's `task` routed here); a maybe-applied retry
        finds its Case by key first (one query per 100 keys)."""
        return self._create_by_key(effects, "Case", "case", self._case)

    def _case(self, effect: Effect) -> JSON:
        values = self._case_values(effect.fields)
        if not isinstance(values.get("Subject"), str) or not values["Subject"]:
            raise ValueError("field 'subject' (or 'title') is required and must be non-empty text")
        if not values.get("ContactId"):
            values.pop("ContactId", None)  # the customer has no contact (yet): the Case stands alone
        return {"attributes": {"type": "Case"}, "Origin": self.config.case_origin, **values,
                self.config.key_field: effect.key}

    def update_case(self, effect: Effect) -> EffectResult:
        case_id, values = _record_id(effect.target_id, "target_id"), self._case_values(effect.fields)
        if not values:
            raise ValueError("field set is empty: nothing to update")
        self.api.call("PATCH", f"sobjects/Case/{case_id}", json=values)
        return succeeded(effect, case_id, object_type="case")

    def comment(self, effect: Effect) -> EffectResult:
        case_id, body = _record_id(effect.target_id, "target_id"), effect.fields.get("body")
        if not isinstance(body, str) or not body.strip():
            raise ValueError("field 'body' is required and must be non-empty text")
        text = f"{body}\n\n[continuum:{effect.key}]"
        if len(text) > MAX_COMMENT:
            raise ValueError(f"field 'body' is {len(body)} characters; a case comment takes about {MAX_COMMENT - 100}")
        if effect.maybe_applied:
            for row in self.api.query_all(f"SELECT Id, CommentBody FROM CaseComment WHERE ParentId = "
                                          f"{soql_string(case_id)}"):
                if self.split_marker(str(row.get("CommentBody") or ""))[1] == effect.key:
                    return succeeded(effect, str(row["Id"]), object_type="comment", found_existing=True)
        # Not published: the hub's note is for staff; staff decide what the customer sees.
        made = self.api.call("POST", "sobjects/CaseComment/", json={"ParentId": case_id, "CommentBody": text,
                                                                    "IsPublished": False})
        return succeeded(effect, str(made["id"]), object_type="comment")


def _record_id(value: object, name: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(f"field {name!r} must be a Salesforce record Id (15 or 18 letters and digits), "
                         f"not {str(value)[:40]!r}")
    return value


def _values(given: Any) -> JSON:
    if not isinstance(given, dict):
        raise ValueError("field 'values' must be an object of Salesforce field names to values")
    bad = sorted(name for name in given if not isinstance(name, str) or not _FIELD.match(name))
    if bad:
        raise ValueError(f"field name(s) {', '.join(map(str, bad))} are not Salesforce API field names")
    return dict(given)


def _date(value: object) -> str:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        raise ValueError(f"field 'occurred_at' {str(value)[:40]!r} is not an ISO date-time") from None

