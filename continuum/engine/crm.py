"""Two-way contact sync with a CRM, system-neutral: which side's value each field takes, and what to write back.

The mapping says per field ``direction`` (in, out, both) and, for ``both``, who ``wins`` a conflict.  Each field
as the last sync left it (:class:`Seen`: the CRM's value and the hub's, kept per contact) tells who changed it
since: a value the hub wrote comes back unchanged from the CRM and is no change, so two-way fields never
ping-pong (invariant 4).  The field name on the system's side is the last part of the field's ``path``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection

from continuum.connector import JSON, EffectResult
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.identity import resolve_customer
from continuum.engine.outbound import record_effect
from continuum.engine.pagedocs import human_size
from continuum.kit.cursors import cursor_json
from continuum.mapping import MappingError, map_inbound, map_outbound
from continuum.mapping.spec import MappingFile
from continuum.store import crm as crm_store
from continuum.store import customers, knowledge
from continuum.store.audit import audit
from continuum.store.cursors import get_cursor, save_cursor
from continuum.store.db import utcnow
from continuum.store.deletions import tombstoned
from continuum.store.erasure import ERASED


@dataclass(frozen=True)
class SyncedField:
    name: str  # the canonical field (email, handles.x)
    vendor: str  # the system's field written back
    direction: str
    wins: str | None


class Seen(NamedTuple):
    """A field as the last sync left it: the CRM's value then, the hub's, and when the hub's last changed."""

    crm: Any
    hub: Any
    hub_at: datetime | None = None


@dataclass
class ContactPlan:
    """One contact's outcome: the system's fields to write, the hub's fields to take, what is seen now."""

    write: dict[str, Any] = field(default_factory=dict)
    take: dict[str, Any] = field(default_factory=dict)
    last: dict[str, Seen] = field(default_factory=dict)


def synced_fields(mapping: MappingFile) -> list[SyncedField]:
    return [SyncedField(name, str(spec.path or name).rsplit(".", 1)[-1], spec.direction, spec.wins)
            for name, spec in mapping.inbound.items()]


def plan_contact(fields: list[SyncedField], crm: Mapping[str, Any], hub: Mapping[str, Any],
                 last: Mapping[str, Seen], crm_is_later: bool = False, crm_at: datetime | None = None,
                 hub_at: Mapping[str, datetime] | None = None) -> ContactPlan:
    """``crm``: the contact's canonical fields as just read (empty: not read this run); ``hub``: the hub's
    values; ``last``: each field as the last sync left it.

    Each side's change is judged against its own last value, so a value the hub wrote (or took) and reads
    back is no change, and a conflict the CRM won is not re-sent by the hub on the next run.
    A ``wins: later`` conflict goes to the later change: ``crm_at`` (when the CRM record was last modified)
    against when the hub's value changed (``hub_at``, by field, from the store's records); ``crm_is_later``
    says so outright.  Without both times the hub's value stands, as it did before the conflict rule."""
    plan = ContactPlan(last=dict(last))
    for f in fields:
        before = last.get(f.name, Seen(None, None))
        theirs = crm.get(f.name, before.crm)
        ours = hub.get(f.name)
        crm_changed = f.name in crm and theirs != before.crm
        hub_changed = f.direction != "in" and ours is not None and ours != before.hub
        take = write = False
        if f.direction == "in":
            take = crm_changed
        elif f.direction == "out":  # the hub's value is the truth: a CRM edit is put right once
            write = (hub_changed or crm_changed) and ours is not None and ours != theirs
        elif crm_changed and hub_changed and theirs != ours:
            take = f.wins == "crm" or (f.wins == "later" and (crm_is_later or _later(crm_at, (hub_at or {}).get(
                f.name))))
            write = not take
        else:
            take, write = crm_changed, hub_changed and ours != theirs
        if take:
            plan.take[f.name] = theirs
        if write:
            plan.write[f.vendor] = ours
        # The hub's change time is kept from the run that saw its value change until the next change.
        changed_at = (hub_at or {}).get(f.name, before.hub_at) if hub_changed else before.hub_at
        seen = Seen(ours if write else theirs, ours if ours is not None else before.hub, changed_at)
        if seen[:2] != (None, None):
            plan.last[f.name] = seen
    return plan


def _later(crm_at: datetime | None, hub_at: datetime | None) -> bool:
    return crm_at is not None and hub_at is not None and crm_at > hub_at


def modified_at(version: str | None) -> datetime | None:
    """The CRM record's modification time from its version (an ISO stamp: HubSpot's ``updatedAt``,
    Salesforce's ``SystemModstamp`` with its ``+0000`` offset); None when it is not one."""
    text = (version or "").strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- the stage ---------------------------------------------------------------------
LOG, UPDATE, CREATE = "log", "update_contact", "create_contact"
MAX_BATCHES = 20  # timeline batches a run (the rest waits for the next run)


def hub_values(customer: Mapping[str, Any] | None, learned: Mapping[str, str],
               fields: list[SyncedField]) -> dict[str, Any]:
    """What the hub knows for each field it writes out: what it learned (a handle on a channel, the first
    channel), the customer's name, e-mail and tier."""
    if customer is None:
        return {}
    known = {**learned, "email": customer.get("primary_email"), "name": customer.get("display_name"),
             "tier": customer.get("tier")}
    return {f.name: known[f.name] for f in fields if f.direction != "in" and known.get(f.name) is not None}


def sync_crm(ctx: SyncContext, system: str) -> RunStats:
    """Contacts in (customers and identities), what the hub learned out, the timeline, new contacts; then apply."""
    from continuum.engine.apply import apply_effects  # apply imports this module's on_contact_created

    spec, stats = ctx.pipeline.crm, RunStats()
    if spec is None or spec.system != system:
        return stats
    connector, mapping = ctx.connector(system), ctx.mapping(spec.mapping)
    fields = synced_fields(mapping)
    with ctx.db.connect() as conn:
        cursor = get_cursor(conn, ctx.pipeline_name, system, spec.stream)
    read: set[str] = set()
    for page in connector.read_changes(spec.stream, cursor):
        with ctx.db.begin() as conn:
            # An erased person's contact stays in the CRM; it never makes them a customer again.
            erased = tombstoned(conn, system, [f"contact:{r.external_id}" for r in page.records])
            known = customers.owners_of(conn, system, [r.external_id for r in page.records if r.own_key])
            for record in page.records:
                if record.object_type != "contact" or record.deleted or f"contact:{record.external_id}" in erased:
                    continue
                if record.own_key and record.external_id not in known:
                    # A contact the hub made whose identity is not committed (a crash, or a lost store): its
                    # create effect finds it by its key and joins it to its customer; taking it here would
                    # make a second customer of the same person.
                    stats.add("crm_own_contacts_pending")
                    continue
                try:
                    canonical = map_inbound(mapping, record.payload)
                except MappingError as exc:
                    stats.add("crm_contacts_unmapped")
                    stats.note(f"crm-unmapped-{record.external_id}",
                               f"{system}: contact {record.external_id} does not map ({exc}); fix {spec.mapping}")
                    continue
                take_contact(conn, ctx, system, record.external_id, canonical, fields, stats,
                             modified_at(record.version))
                read.add(record.external_id)
            if page.cursor is not None:
                save_cursor(conn, ctx.pipeline_name, system, spec.stream, cursor_json(page.cursor) or {})
    with ctx.db.begin() as conn:
        plan_hub_changes(conn, ctx, system, fields, read, stats)
        if spec.unknown_authors != "none":
            plan_new_contacts(conn, ctx, system, mapping, spec.unknown_authors, stats)
    stats.merge(apply_effects(ctx, system))  # the new contacts first: their customers' entries go on them
    round_size = timeline_round(connector.capabilities.bulk_sizes.get(LOG, 0))
    for _ in range(MAX_BATCHES if spec.timeline else 0):  # a backlog goes round_size entries at a time
        with ctx.db.begin() as conn:
            planned = plan_timeline(conn, ctx, system, stats, round_size)
        stats.merge(apply_effects(ctx, system))
        if planned < round_size:
            break
    return stats


def take_contact(conn: Connection, ctx: SyncContext, system: str, contact_id: str, canonical: Mapping[str, Any],
                 fields: list[SyncedField], stats: RunStats, crm_at: datetime | None = None) -> None:
    """One contact read: its customer (by CRM id, or the same e-mail), the CRM's changes taken, the hub's planned."""
    email = str(canonical.get("email") or "").strip().lower() or None
    name = canonical.get("name") or email or contact_id
    customer_id = resolve_customer(conn, system, {
        "author_account_id": contact_id, "author_name": name, "author_handle": name, "author_email": email,
        "author_email_verified": bool(email)})  # the CRM's e-mail counts as verified, as `customers import` does
    last = _seen(crm_store.agreed(conn, ctx.pipeline_name, system, [contact_id]).get(contact_id, {}))
    customer = customers.get_customer(conn, customer_id)
    hub = hub_values(customer, crm_store.learned(conn, [customer_id]).get(customer_id, {}), fields)
    plan = plan_contact(fields, canonical, hub, last, crm_at=crm_at, hub_at=_hub_changes(conn, fields, [customer_id])
                        .get(customer_id))
    changes = {column: plan.take[name] for name, column in (("tier", "tier"), ("name", "display_name"),
                                                            ("email", "primary_email"), ("owner", "owner"))
               if plan.take.get(name) and customer and customer.get(column) != plan.take[name]}
    if changes:
        customers.update_customer(conn, customer_id, **changes)
        audit(conn, "customer", customer_id, "crm_changed", {"system": system, "contact": contact_id,
                                                              "fields": sorted(changes)}, ctx.pipeline_name, system)
    stats.add("crm_contacts_read")
    finish(conn, ctx, system, contact_id, customer_id, plan, stats)


def plan_hub_changes(conn: Connection, ctx: SyncContext, system: str, fields: list[SyncedField], read: set[str],
                     stats: RunStats) -> None:
    """Contacts not read this run whose hub-side values changed since the last sync, BATCH contacts at a time."""
    after = ""
    while True:
        batch = crm_store.contact_ids(conn, ctx.pipeline_name, system, after)
        if not batch:
            return
        after = batch[-1]
        known = crm_store.agreed(conn, ctx.pipeline_name, system, [c for c in batch if c not in read])
        owners = customers.owners_of(conn, system, list(known))
        learned = crm_store.learned(conn, owners.values())
        changed = _hub_changes(conn, fields, owners.values())
        for contact_id, customer_id in owners.items():
            hub = hub_values(customers.get_customer(conn, customer_id), learned.get(customer_id, {}), fields)
            plan = plan_contact(fields, {}, hub, _seen(known[contact_id]), hub_at=changed.get(customer_id))
            finish(conn, ctx, system, contact_id, customer_id, plan, stats)


def finish(conn: Connection, ctx: SyncContext, system: str, contact_id: str, customer_id: int, plan: ContactPlan,
           stats: RunStats) -> None:
    crm_store.save_agreed(conn, ctx.pipeline_name, system, contact_id,
                          {name: (seen.crm, seen.hub, seen.hub_at) for name, seen in plan.last.items()})
    if plan.write:
        subject = f"{contact_id}:" + json.dumps(plan.write, sort_keys=True, default=str)
        record_effect(conn, ctx, system=system, action=UPDATE, object_type="contact",
                      record_type=crm_store.CONTACT_RECORD, record_id=customer_id, subject=subject,
                      fields={"contact_id": contact_id, "values": plan.write}, target_id=contact_id)
        stats.add("crm_updates_planned")


def timeline_round(bulk: int) -> int:
    """Entries planned a round: ``crm_store.BATCH`` cut to whole bulk calls (500 would be 200 + 200 + 100 on
    Salesforce: a third call a round where 400 makes two)."""
    return crm_store.BATCH - crm_store.BATCH % bulk if 0 < bulk <= crm_store.BATCH else crm_store.BATCH


def plan_timeline(conn: Connection, ctx: SyncContext, system: str, stats: RunStats, limit: int | None = None) -> int:
    """One timeline entry per kept interaction of a customer with a contact; planned once (the outbox knows).
    Returns how many were planned (at most ``limit``, by default ``crm_store.BATCH``)."""
    escape = ctx.connector(system).escape_text
    rows = crm_store.unlogged(conn, ctx.pipeline_name, system, limit)
    for row in rows:
        created = row["created_at"]
        body = (row["text"] or "") + files_block(knowledge.files_of(conn, row["customer_id"], [row["id"]]))
        record_effect(conn, ctx, system=system, action=LOG, object_type="note", record_type=crm_store.LOG_RECORD,
                      record_id=row["id"], subject=f"interaction:{row['id']}", fields={
                          "contact_id": row["account_id"], "subject": escape(row["title"] or f"On {row['channel']}"),
                          "body": escape(body), "occurred_at": created.isoformat() if created else None,
                          "channel": escape(row["channel"] or ""), "link": row["url"] or ""})
        stats.add("crm_log_planned")
    return len(rows)


def files_block(files: list[JSON]) -> str:
    """The files the customer attached, as plain lines under the entry's text: each once, with the address of
    its stored copy in the document store (the timeline links the file; it does not carry it)."""
    lines = [f"- {f['name']} ({human_size(f['size'])}): {f['url'] or 'not stored'}" for f in files]
    return "\n\nFiles:\n" + "\n".join(lines) if lines else ""


def plan_new_contacts(conn: Connection, ctx: SyncContext, system: str, mapping: MappingFile, kind: str,
                      stats: RunStats) -> None:
    """A customer with kept interactions and no contact gets one (or a lead), from the mapping's `create`."""
    if "create" not in mapping.outbound:
        raise ValueError(f"pipelines.{ctx.pipeline_name}.crm.unknown_authors is {kind!r}, but "
                         f"{mapping.system}.{mapping.object} has no outbound `create` action: add one (the "
                         "contact's fields from the customer), or set unknown_authors: none")
    for customer_id in crm_store.without_contact(conn, ctx.pipeline_name, system):
        customer = customers.get_customer(conn, customer_id)
        if customer is None or customer["merged_into"] is not None or customer["display_name"] == ERASED:
            continue  # an erased person is never sent anywhere again
        values = map_outbound(mapping, "create", {"customer": dict(customer)}, lambda text: text)
        record_effect(conn, ctx, system=system, action=CREATE, object_type="contact",
                      record_type=crm_store.NEW_CONTACT_RECORD, record_id=customer_id,
                      subject=f"customer:{customer_id}",
                      fields={"values": {k: v for k, v in values.items() if v not in (None, "")}, "kind": kind})
        stats.add("crm_contacts_planned")


def _hub_changes(conn: Connection, fields: list[SyncedField], customer_ids: Iterable[int]
                 ) -> dict[int, dict[str, datetime]]:
    """When the hub's values changed, by customer and field: only a `wins: later` conflict asks (three queries)."""
    return crm_store.hub_changes(conn, customer_ids) if any(f.wins == "later" for f in fields) else {}


def _seen(stored: Mapping[str, crm_store.Agreed]) -> dict[str, Seen]:
    return {name: Seen(*pair) for name, pair in stored.items()}


def on_contact_created(conn: Connection, row: Mapping[str, Any], result: EffectResult) -> None:
    """The new contact is the customer's identity in the CRM: its id joins them from now on."""
    if row["record_type"] != crm_store.NEW_CONTACT_RECORD or not result.external_id:
        return
    if customers.owner_of(conn, row["system"], result.external_id) is None:
        customers.add_identity(conn, {"customer_id": row["record_id"], "system": row["system"],
                                      "account_id": result.external_id, "handle": None, "email": None,
                                      "email_verified": False, "created_at": utcnow()})
