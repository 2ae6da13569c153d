"""HubspotConnector: reads contacts (and the hub's tickets); logs interactions as notes, updates and creates contacts.

Every object the hub writes carries its effect's key in a custom property (``key_property``): a retry finds the
note, contact or ticket made under that key (one search per 100 keys) before it creates anything."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from connectors.hubspot import markup
from connectors.hubspot.client import HubspotClient, HubspotError
from connectors.hubspot.config import HubspotConfig
from connectors.hubspot.keyset import Mark, keyset_pages
from connectors.hubspot.plugin import CAPABILITIES
from connectors.hubspot.tickets import TICKETS, TicketDesk
from continuum.connector import JSON, Effect, EffectResult, Page, SourceRecord
from continuum.http import RetryPolicy
from continuum.kit import EffectDispatcher, Stream, StreamCursor, failed, succeeded

NOTE_TO_CONTACT = 202  # HubSpot-defined association type ids
MAX_NOTE = 65536
_ID = re.compile(r"^[1-9][0-9]{0,19}$")


class ContactsCursor(StreamCursor):
    modified_ms: int | None = None  # the newest `lastmodifieddate` read, in epoch milliseconds
    ids: tuple[str, ...] = ()  # the contacts read at exactly that moment (the filter is inclusive)


CONTACTS = Stream("contacts", "contact", ContactsCursor, "contacts by last change, oldest first")


class HubspotConnector:
    system = "hubspot"
    capabilities = CAPABILITIES
    account: str | None = None

    def __init__(self, config: HubspotConfig, policy: RetryPolicy | None = None) -> None:
        self.config = config
        self.api = HubspotClient(config, policy)
        self.tickets = TicketDesk(config, self.api)
        self.dispatch = EffectDispatcher(self.system, {
            "create_contact": self._create_contact, "create": self.tickets.create, "update": self.tickets.update,
            "comment": self.tickets.comment, "update_contact": self._update_one},
            bulk={"log": self._log, "update_contact": self._update_contacts, "delete_log": self._delete_logs})

    def check(self) -> None:
        self.api.call("GET", "/crm/v3/objects/contacts", params={"limit": 1})

    def escape_text(self, text: str) -> str:
        return markup.escape_text(text)

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)

    # -- reading ------------------------------------------------------------------
    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        if stream == TICKETS.name:
            yield from self.tickets.read(cursor)
            return
        if stream != CONTACTS.name:
            raise ValueError(f"HubSpot has no stream {stream!r}; known: {CONTACTS.name}, {TICKETS.name}")
        yield from self._contacts(ContactsCursor.from_json(cursor))

    def _contacts(self, start: ContactsCursor) -> Iterator[Page]:
        props = list(dict.fromkeys([*self.config.contact_properties, self.config.key_property]))
        for items, mark in keyset_pages(self.api, "contacts", [], "lastmodifieddate", props, self.config.page_size,
                                        Mark(modified_ms=start.modified_ms, ids=start.ids)):
            cursor = ContactsCursor(modified_ms=mark.modified_ms, ids=mark.ids) if mark.modified_ms else None
            yield Page([self._contact(i) for i in items], cursor)

    def _contact(self, item: JSON) -> SourceRecord:
        key = (item.get("properties") or {}).get(self.config.key_property)
        return SourceRecord(CONTACTS.name, "contact", str(item["id"]), item, version=str(item.get("updatedAt")
                            or (item.get("properties") or {}).get("lastmodifieddate") or ""),
                            own_key=str(key) if key else None)

    def find_keys(self, keys: Sequence[str]) -> dict[str, JSON]:
        """Key -> the ticket made under it (one search per 100 keys): a sync refuses to create where HubSpot holds
        hub tickets the store does not know, and ``continuum reconcile`` links them back."""
        return self.api.find_by_keys("tickets", self.config.key_property, keys)

    # -- contacts -----------------------------------------------------------------
    def _create_contact(self, effect: Effect) -> EffectResult:
        values = _values(effect)
        if effect.fields.get("kind", "contact") == "lead":
            values.setdefault("lifecyclestage", "lead")
            values.setdefault("hs_lead_status", self.config.lead_status)  # sales' lead queues filter on it
        if not values.get("email") and not any(v for k, v in values.items()
                                               if k not in ("lifecyclestage", "hs_lead_status")):
            raise ValueError("field 'values' is empty: a contact needs at least an e-mail or a name")
        key = self.config.key_property
        found = self.api.find_by_keys("contacts", key, [effect.key]).get(effect.key) if effect.maybe_applied else None
        if found is None:
            try:
                found = self.api.call("POST", "/crm/v3/objects/contacts",
                                      body={"properties": {**values, key: effect.key}})
            except HubspotError as exc:
                existing = re.search(r"Existing ID: ?([0-9]+)", exc.message) if exc.status == 409 else None
                if existing is None:
                    raise
                # The e-mail is someone's already: that contact is the author's, and it is not ours to key.
                return succeeded(effect, existing.group(1), object_type="contact", found_existing=True)
            return succeeded(effect, str(found["id"]), object_type="contact", version=found.get("updatedAt"))
        return succeeded(effect, str(found["id"]), object_type="contact", version=found.get("updatedAt"),
                         found_existing=True)

    def _delete_logs(self, effects: Sequence[Effect]) -> list[EffectResult]:
        """Archive the notes (an erasure), 100 a call.  HubSpot's batch archive answers 204 for ids it does not
        have too, so a retry after a crash, or a note staff deleted, is done as well."""
        results: dict[str, EffectResult] = {}
        ids: list[tuple[Effect, str]] = []
        for effect in effects:
            note = str(effect.target_id or "")
            if note.isdigit():
                ids.append((effect, note))
            else:
                results[effect.key] = failed(effect, f"target_id {effect.target_id!r} is not a HubSpot note id",
                                             permanent=True)
        for start in range(0, len(ids), 100):
            chunk = ids[start:start + 100]
            self.api.call("POST", "/crm/v3/objects/notes/batch/archive", body={"inputs": [{"id": n} for _, n in chunk]})
            results.update({e.key: succeeded(e, n, object_type="note") for e, n in chunk})
        return [results[e.key] for e in effects]

    def _update_contacts(self, effects: Sequence[Effect]) -> list[EffectResult]:
        """One batch update per 100 contacts; a batch HubSpot refuses (one unknown id) goes one by one."""
        results: dict[str, EffectResult] = {}
        good: list[tuple[Effect, str, JSON]] = []
        for effect in effects:
            try:
                good.append((effect, _contact_id(effect), _values(effect)))
            except ValueError as exc:
                results[effect.key] = failed(effect, str(exc))
        try:
            by_id = {str(r["id"]): r for r in self.api.batch("contacts", "update", [
                {"id": cid, "properties": values} for _, cid, values in good])} if good else {}
        except HubspotError as exc:
            if exc.is_auth_error or exc.status in (429, None) or (exc.status or 0) >= 500:
                raise
            by_id = None
        for effect, cid, _ in good:
            if by_id is None:
                results[effect.key] = self.dispatch._one(effect)[0]
            elif cid in by_id:
                results[effect.key] = succeeded(effect, cid, object_type="contact",
                                                version=by_id[cid].get("updatedAt"))
            else:
                results[effect.key] = failed(effect, f"HubSpot's batch update answered without contact {cid}")
        return [results[e.key] for e in effects]

    def _update_one(self, effect: Effect) -> EffectResult:
        cid = _contact_id(effect)
        answer = self.api.call("PATCH", f"/crm/v3/objects/contacts/{cid}", body={"properties": _values(effect)})
        return succeeded(effect, cid, object_type="contact", version=answer.get("updatedAt"))

    # -- the timeline -------------------------------------------------------------
    def _log(self, effects: Sequence[Effect]) -> list[EffectResult]:
        """One note per effect on its contact, 100 a call; a retry's notes are looked up by key first."""
        results: dict[str, EffectResult] = {}
        planned: dict[str, tuple[Effect, JSON]] = {}
        for effect in effects:
            try:
                planned[effect.key] = (effect, self._note(effect))
            except ValueError as exc:
                results[effect.key] = failed(effect, str(exc))
        key = self.config.key_property
        retried = [k for k, (e, _) in planned.items() if e.maybe_applied]
        for k, note in (self.api.find_by_keys("notes", key, retried).items() if retried else []):
            results[k] = succeeded(planned.pop(k)[0], str(note["id"]), object_type="note", found_existing=True)
        made = {str((n.get("properties") or {}).get(key)): n
                for n in self.api.batch("notes", "create", [note for _, note in planned.values()])} if planned else {}
        for k, (effect, _) in planned.items():
            found = made.get(k)
            results[k] = succeeded(effect, str(found["id"]), object_type="note", version=found.get("updatedAt")) \
                if found else failed(effect, "HubSpot's batch create answered without this note")
        return [results[e.key] for e in effects]

    def _note(self, effect: Effect) -> JSON:
        fields, cid = effect.fields, _contact_id(effect)
        body = fields.get("body")
        if not isinstance(body, str) or not body.strip():
            raise ValueError("field 'body' is required and must be non-empty text")
        subject, channel = str(fields.get("subject") or ""), str(fields.get("channel") or "")
        head = f"<p><strong>{subject}</strong>{f' ({channel})' if channel else ''}</p>" if subject or channel else ""
        anchor = markup.link(str(fields.get("link") or ""))
        html = f"{head}<p>{body}</p>{f'<p>{anchor}</p>' if anchor else ''}"
        if len(html) > MAX_NOTE:
            raise ValueError(f"the note is {len(html)} characters; HubSpot takes at most {MAX_NOTE}")
        return {"properties": {"hs_timestamp": _iso(fields.get("occurred_at")), "hs_note_body": html,
                               self.config.key_property: effect.key},
                "associations": [{"to": {"id": cid}, "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}]}]}


def _contact_id(effect: Effect) -> str:
    cid = str(effect.fields.get("contact_id") or effect.target_id or "")
    if not _ID.match(cid):
        raise ValueError(f"field 'contact_id' {cid[:40]!r} must be a HubSpot contact id")
    return cid


def _values(effect: Effect) -> dict[str, str]:
    values = effect.fields.get("values") or {}
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        raise ValueError("field 'values' must map HubSpot property names to values")
    return {k: "" if v is None else str(v) for k, v in values.items()}


def _iso(value: object) -> str:
    if not value:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"field 'occurred_at' {str(value)[:40]!r} is not an ISO 8601 time") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
