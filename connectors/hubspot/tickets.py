"""The hub's cases as HubSpot tickets: create, update and comment (a note on the ticket), and read back.

The ``tickets`` stream reads the hub's tickets (those carrying a key) by last change, then the notes staff wrote
(no key) with the ticket each is on: a note starting with ``public_comment_prefix`` is an answer for the customer,
so a closed ticket with an answer goes back to the customer's channel as a Jira answer does."""

from __future__ import annotations

import re
from collections.abc import Iterator

from connectors.hubspot import markup
from connectors.hubspot.client import HubspotClient
from connectors.hubspot.config import HubspotConfig
from connectors.hubspot.keyset import Mark, keyset_pages
from continuum.connector import JSON, Effect, EffectResult, Page, SourceRecord
from continuum.kit import Stream, StreamCursor, succeeded

TICKET_TO_CONTACT, NOTE_TO_TICKET = 16, 228  # HubSpot-defined association type ids
TICKET_FIELDS = frozenset({"subject", "content", "hs_ticket_priority", "hs_pipeline_stage", "hs_ticket_category"})
_ID = re.compile(r"^[1-9][0-9]{0,19}$")


class TicketsCursor(StreamCursor):
    tickets: Mark = Mark()
    notes: Mark = Mark()


TICKETS = Stream("tickets", "ticket", TicketsCursor, "the hub's tickets by last change, then staff notes on them")


class TicketDesk:
    def __init__(self, config: HubspotConfig, api: HubspotClient) -> None:
        self.config, self.api = config, api

    # -- writing ------------------------------------------------------------------
    def create(self, effect: Effect) -> EffectResult:
        fields = self._fields(effect)
        if not str(fields.get("subject") or "").strip():
            raise ValueError("field 'subject' is required and must be non-empty text")
        key = self.config.key_property
        found = self.api.find_by_keys("tickets", key, [effect.key]).get(effect.key) if effect.maybe_applied else None
        if found is None:
            contact = str(effect.fields.get("contact_id") or effect.context.get("contact_id") or "")
            associations = [{"to": {"id": contact}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                                "associationTypeId": TICKET_TO_CONTACT}]}] \
                if _ID.match(contact) else []
            ticket = self.api.call("POST", "/crm/v3/objects/tickets", body={"properties": {
                "hs_pipeline": self.config.ticket_pipeline, "hs_pipeline_stage": self.config.ticket_stage,
                **fields, key: effect.key}, "associations": associations})
        else:
            ticket = found
        return succeeded(effect, str(ticket["id"]), object_type="ticket", version=ticket.get("updatedAt"),
                         found_existing=found is not None)

    def update(self, effect: Effect) -> EffectResult:
        number, fields = _target(effect), self._fields(effect)
        if not fields:
            raise ValueError("field set is empty: nothing to update")
        ticket = self.api.call("PATCH", f"/crm/v3/objects/tickets/{number}", body={"properties": fields})
        return succeeded(effect, number, object_type="ticket", version=ticket.get("updatedAt"))

    def comment(self, effect: Effect) -> EffectResult:
        number, body = _target(effect), effect.fields.get("body")
        if not isinstance(body, str) or not body.strip():
            raise ValueError("field 'body' is required and must be non-empty text")
        key = self.config.key_property
        found = self.api.find_by_keys("notes", key, [effect.key]).get(effect.key) if effect.maybe_applied else None
        note = found or self.api.call("POST", "/crm/v3/objects/notes", body={
            "properties": {"hs_note_body": f"<p>{body}</p>", "hs_timestamp": _now_iso(), key: effect.key},
            "associations": [{"to": {"id": number}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                                "associationTypeId": NOTE_TO_TICKET}]}]})
        return succeeded(effect, str(note["id"]), object_type="comment", version=note.get("updatedAt"),
                         found_existing=found is not None)

    def _fields(self, effect: Effect) -> dict[str, str]:
        given = {k: v for k, v in effect.fields.items() if k != "contact_id"}
        unknown = sorted(set(given) - TICKET_FIELDS)
        if unknown:
            raise ValueError(f"field(s) {', '.join(unknown)}: not ticket properties the hub writes "
                             f"({', '.join(sorted(TICKET_FIELDS))})")
        fields = {k: str(v) for k, v in given.items() if v is not None}
        if "subject" in fields:  # a subject shows no markup: one plain line
            fields["subject"] = " ".join(markup.plain(fields["subject"]).split())[:250]
        return fields

    # -- reading ------------------------------------------------------------------
    def read(self, cursor: JSON | None) -> Iterator[Page]:
        start = TicketsCursor.from_json(cursor)
        done = {"tickets": start.tickets, "notes": start.notes}
        key, size = self.config.key_property, self.config.page_size
        ours = [{"propertyName": key, "operator": "HAS_PROPERTY"}]
        for items, mark in keyset_pages(self.api, "tickets", ours, "hs_lastmodifieddate",
                                        ["subject", "hs_pipeline", "hs_pipeline_stage", key], size, done["tickets"]):
            done["tickets"] = mark
            yield Page([self._ticket(i) for i in items], TicketsCursor(**done))
        staff = [{"propertyName": key, "operator": "NOT_HAS_PROPERTY"}]
        for items, mark in keyset_pages(self.api, "notes", staff, "hs_lastmodifieddate", ["hs_note_body"], size,
                                        done["notes"]):
            done["notes"] = mark
            yield Page(self._notes(items), TicketsCursor(**done))

    def _ticket(self, item: JSON) -> SourceRecord:
        props = item.get("properties") or {}
        stage = str(props.get("hs_pipeline_stage") or "")
        closed = stage in self.config.closed_stages
        about = {"status": "closed" if closed else "open", "resolution": "Done" if closed else "", "stage": stage}
        return SourceRecord(TICKETS.name, "ticket", str(item["id"]), {**item, "continuum": about},
                            version=str(item.get("updatedAt") or ""), own_key=str(props.get(self.config.key_property)
                                                                             or "") or None)

    def _notes(self, notes: list[JSON]) -> list[SourceRecord]:
        """Staff notes that sit on a ticket (one associations call a page); others are not the hub's business."""
        if not notes:
            return []
        answer = self.api.call("POST", "/crm/v4/associations/notes/tickets/batch/read",
                               body={"inputs": [{"id": str(n["id"])} for n in notes]})
        on: dict[str, str] = {}
        for row in answer.get("results") or []:
            targets = row.get("to") or []
            if targets:
                on[str((row.get("from") or {}).get("id"))] = str(targets[0].get("toObjectId"))
        prefix, made = self.config.public_comment_prefix, []
        for note in notes:
            ticket = on.get(str(note["id"]))
            if ticket is None:
                continue
            text = markup.plain(str((note.get("properties") or {}).get("hs_note_body") or ""))
            public = text.startswith(prefix)
            about = {"text": text[len(prefix):].lstrip() if public else text, "public": public, "ticket_id": ticket}
            made.append(SourceRecord(TICKETS.name, "comment", str(note["id"]), {**note, "continuum": about},
                                     version=str(note.get("updatedAt") or ""), parent_id=ticket))
        return made


def _target(effect: Effect) -> str:
    if not effect.target_id or not _ID.match(effect.target_id):
        raise ValueError(f"target_id {effect.target_id!r} must be a HubSpot ticket id")
    return effect.target_id


def _now_iso() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
