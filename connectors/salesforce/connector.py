"""SalesforceConnector: reads Contacts and Leads, and Cases with their public comments; writes Tasks, Contacts,
Leads and Cases.

Reads are SOQL in ``SystemModstamp, Id`` order from a high-water mark, and the cursor also keeps the Ids read
at that very stamp: the next read asks ``>=`` the mark and skips those, so records sharing a stamp are neither
lost nor read twice.  Every Task and Case the hub makes carries the effect's key in a custom field
(``key_field``): a maybe-applied retry finds it by SOQL instead of making a second one.  Salesforce shows
these fields as plain text: customer text goes in as typed (``escape_text`` only drops control characters)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.config import SalesforceConfig
from connectors.salesforce.plugin import BULK_SIZE, CAPABILITIES
from connectors.salesforce.writes import Writes
from continuum.connector import JSON, Effect, EffectResult, Page, SourceRecord
from continuum.http import RetryPolicy
from continuum.kit import EffectDispatcher, Stream, StreamCursor

# Bidi embedding/override/isolate controls reorder how a line shows (a spoofing trick); other control characters
# have no business in a text field (tab and newline stay).
_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\x00-\x08\x0b-\x1f\x7f-\x9f]")
CONTACT_FIELDS = ("Id", "FirstName", "LastName", "Name", "Email", "Phone", "Title", "AccountId", "OwnerId",
                  "CreatedDate", "LastModifiedDate", "SystemModstamp")
LEAD_FIELDS = ("Id", "FirstName", "LastName", "Name", "Email", "Phone", "Company", "Title", "Status", "IsConverted",
               "OwnerId", "CreatedDate", "LastModifiedDate", "SystemModstamp")
CASE_FIELDS = ("Id", "CaseNumber", "Subject", "Description", "Status", "IsClosed", "ClosedDate", "Priority",
               "Origin", "ContactId", "CreatedById", "CreatedDate", "SystemModstamp")
COMMENT_FIELDS = ("Id", "ParentId", "CommentBody", "IsPublished", "CreatedById", "CreatedDate", "SystemModstamp")


class Mark(StreamCursor):
    stamp: str  # the newest SystemModstamp read, as Salesforce wrote it
    ids: tuple[str, ...] = ()  # the Ids read at exactly that stamp


class ContactsCursor(StreamCursor):
    contact: Mark | None = None
    lead: Mark | None = None


class CasesCursor(StreamCursor):
    case: Mark | None = None
    comment: Mark | None = None


CONTACTS = Stream("contacts", "contact", ContactsCursor, "Contacts, then Leads, by SystemModstamp")
CASES = Stream("cases", "case", CasesCursor, "the hub's Cases, then their published CaseComments")


class SalesforceConnector:
    system = "salesforce"
    capabilities = CAPABILITIES

    def __init__(self, config: SalesforceConfig, policy: RetryPolicy | None = None) -> None:
        self.config, self.account = config, config.username
        self.api = SalesforceClient(config, policy)
        writes = Writes(self.api, config)
        self.dispatch = EffectDispatcher(self.system, {
            "create_contact": writes.create_contact, "update": writes.update_case, "comment": writes.comment},
            bulk={"log": writes.log, "update_contact": writes.update_contacts, "delete_log": writes.delete_logs,
                  "create": writes.create_cases})
        self.bulk_size = BULK_SIZE

    def check(self) -> None:
        self.api.call("GET", "limits/")  # logs in, and the token may call the API

    def escape_text(self, text: str) -> str:
        return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)

    # -- reading ----------------------------------------------------------------------
    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        if stream == CONTACTS.name:
            start = ContactsCursor.from_json(cursor)
            marks = {"contact": start.contact, "lead": start.lead}
            parts: list[tuple[str, str, tuple[str, ...], str]] = [
                ("contact", "Contact", (*CONTACT_FIELDS, *self.config.contact_fields), ""),
                ("lead", "Lead", (*LEAD_FIELDS, *self.config.contact_fields), "IsConverted = false")]
            make: type[StreamCursor] = ContactsCursor
        elif stream == CASES.name:
            begun = CasesCursor.from_json(cursor)
            marks = {"case": begun.case, "comment": begun.comment}
            key = self.config.key_field
            parts = [("case", "Case", (*CASE_FIELDS, key), ""),
                     ("comment", "CaseComment", COMMENT_FIELDS, "IsPublished = true")]
            make = CasesCursor
        else:
            raise ValueError(f"Salesforce has no stream {stream!r}; known: {CONTACTS.name}, {CASES.name}")
        for kind, sobject, fields, extra in parts:
            for rows, mark in self._walk(sobject, fields, extra, marks[kind]):
                marks[kind] = mark
                yield Page([self._record(stream, kind, row) for row in rows], make(**marks).to_json())

    def _walk(self, sobject: str, fields: tuple[str, ...], extra: str, mark: Mark | None
              ) -> Iterator[tuple[list[dict[str, Any]], Mark | None]]:
        """Batches in (SystemModstamp, Id) order past ``mark``, each with the mark it completes.

        A query locator is a snapshot: a record changed while we page shows up in the next run's query."""
        where = [extra] if extra else []
        if mark is not None:  # SOQL datetimes are literals, never quoted
            where.append(f"SystemModstamp >= {soql_time(mark.stamp)}")
        soql = (f"SELECT {', '.join(dict.fromkeys(fields))} FROM {sobject}"
                f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY SystemModstamp, Id")
        seen_at = set(mark.ids) if mark else set()
        stamp = mark.stamp if mark else None
        for page in self.api.query_pages(soql):
            fresh = []
            for row in page:
                row_stamp, row_id = _stamp(row.get("SystemModstamp")), str(row.get("Id"))
                if stamp is not None and row_stamp == stamp and row_id in seen_at:
                    continue  # read at the mark already (or repeated by the page before)
                if row_stamp != stamp:
                    stamp, seen_at = row_stamp, set()
                seen_at.add(row_id)
                fresh.append(row)
            if fresh or stamp is not None:
                yield fresh, Mark(stamp=stamp, ids=tuple(sorted(seen_at))) if stamp else mark

    def _record(self, stream: str, kind: str, row: dict[str, Any]) -> SourceRecord:
        version, record_id = str(row.get("SystemModstamp") or ""), str(row["Id"])
        if kind in ("contact", "lead"):
            return SourceRecord(stream, kind, record_id, row, version=version or None)
        ours = row.get("CreatedById") == self._user()
        if kind == "case":
            key = row.get(self.config.key_field)
            about = {"status": row.get("Status"), "closed": bool(row.get("IsClosed")),
                     "case_number": row.get("CaseNumber")}
            return SourceRecord(stream, "case", record_id, {**row, "continuum": about}, version=version or None,
                                own_key=str(key) if key and ours else None)
        text, key = Writes.split_marker(str(row.get("CommentBody") or ""))
        # Only staff's published comments are answers: never one the hub wrote itself (no echo).
        about = {"text": text.strip(), "public": bool(row.get("IsPublished")) and not ours,
                 "case_id": row.get("ParentId")}
        return SourceRecord(stream, "comment", record_id, {**row, "continuum": about}, version=version or None,
                            parent_id=str(row.get("ParentId") or "") or None, own_key=key if ours else None)

    def _user(self) -> str | None:
        if self.api.user_id is None:
            _ = self.api.sf  # the token's identity URL names the user
        return self.api.user_id

    def find_keys(self, keys: Sequence[str]) -> dict[str, JSON]:
        """Key -> the Task or Case made under it (``continuum reconcile`` asks too)."""
        found: dict[str, JSON] = {}
        for sobject in ("Task", "Case"):
            found.update({k: v for k, v in Writes(self.api, self.config).find(sobject, keys).items()
                          if k not in found})
        return found


def soql_time(stamp: str) -> str:
    """Salesforce's ``2026-01-01T00:00:00.000+0000`` as a SOQL datetime literal in UTC (``...000Z``)."""
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _stamp(value: object) -> str | None:
    return str(value) if value else None
