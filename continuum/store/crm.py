"""Named queries for the CRM stage (continuum.engine.crm): fields as last synced, and what is left to log or create."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, func, select

from continuum.store.base import insert_ignore
from continuum.store.db import utcnow
from continuum.store.tables import audit_events, crm_fields, customers, identities, interactions, links, outbox

LOG_RECORD, CONTACT_RECORD, NEW_CONTACT_RECORD = "crm_log", "crm_contact", "crm_new_contact"
NOT_KEPT = ("ignored", "deleted")  # interactions that are no customer's history (deleted: purged, a tombstone)
BATCH = 500  # rows a query hands the stage at a time: memory stays flat however many contacts there are


def contact_ids(conn: Connection, pipeline: str, system: str, after: str = "", limit: int | None = None
                ) -> list[str]:
    """The contacts the stage has synced, in id order after ``after`` (a page of them)."""
    query = (select(crm_fields.c.contact_id).distinct()
             .where(crm_fields.c.pipeline == pipeline, crm_fields.c.system == system, crm_fields.c.contact_id > after)
             .order_by(crm_fields.c.contact_id).limit(limit or BATCH))
    return [str(r[0]) for r in conn.execute(query)]


Agreed = tuple[Any, Any, "datetime | None"]  # the CRM's value, the hub's, when the hub's last changed


def agreed(conn: Connection, pipeline: str, system: str, contact_ids: Iterable[str] | None = None
           ) -> dict[str, dict[str, Agreed]]:
    """Contact -> field -> (the CRM's value, the hub's, when the hub's changed) as the last sync left them
    (all contacts the stage knows when ``contact_ids`` is None)."""
    query = select(crm_fields).where(crm_fields.c.pipeline == pipeline, crm_fields.c.system == system)
    if contact_ids is not None:
        query = query.where(crm_fields.c.contact_id.in_(list(contact_ids)))
    found: dict[str, dict[str, Agreed]] = {}
    for row in conn.execute(query).mappings():
        found.setdefault(row["contact_id"], {})[row["field"]] = (row["crm_value"], row["hub_value"],
                                                                 aware(row["hub_changed_at"]))
    return found


def save_agreed(conn: Connection, pipeline: str, system: str, contact_id: str,
                values: Mapping[str, Agreed]) -> None:
    conn.execute(delete(crm_fields).where(crm_fields.c.pipeline == pipeline, crm_fields.c.system == system,
                                          crm_fields.c.contact_id == contact_id))
    now = utcnow()
    insert_ignore(conn, crm_fields, [{"pipeline": pipeline, "system": system, "contact_id": contact_id,
                                      "field": name, "crm_value": crm, "hub_value": hub, "hub_changed_at": at,
                                      "updated_at": now}
                                     for name, (crm, hub, at) in values.items()],
                  ["pipeline", "system", "contact_id", "field"])


def hub_changes(conn: Connection, customer_ids: Iterable[int]) -> dict[int, dict[str, datetime]]:
    """Customer -> canonical field -> when the hub's value last changed, from the store's own records: a
    handle on a channel when its identity was made or last renamed (the rename's audit event), the name,
    e-mail and tier when the customer was last updated."""
    wanted = list(customer_ids)
    found: dict[int, dict[str, datetime]] = {cid: {} for cid in wanted}

    def later(customer_id: int, name: str, moment: datetime | None) -> None:
        moment = aware(moment)
        if moment is not None and (name not in found[customer_id] or moment > found[customer_id][name]):
            found[customer_id][name] = moment

    for row in conn.execute(select(customers.c.id, customers.c.updated_at).where(customers.c.id.in_(wanted))):
        for name in ("name", "email", "tier"):
            later(int(row.id), name, row.updated_at)
    for made in conn.execute(select(identities.c.customer_id, identities.c.system, func.max(identities.c.created_at))
                            .where(identities.c.customer_id.in_(wanted))
                            .group_by(identities.c.customer_id, identities.c.system)):
        later(int(made[0]), f"handles.{made[1]}", made[2])
    renames = (select(audit_events.c.record_id, audit_events.c.system, func.max(audit_events.c.at))
               .where(audit_events.c.record_type == "customer", audit_events.c.action == "handle_changed",
                      audit_events.c.record_id.in_(wanted))
               .group_by(audit_events.c.record_id, audit_events.c.system))
    for renamed in conn.execute(renames):
        later(int(renamed[0]), f"handles.{renamed[1]}", renamed[2])
    return found


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the store writes UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def contacts_of(conn: Connection, system: str, customer_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Customer -> their contact id in the CRM (the identity whose account is the contact)."""
    query = select(identities.c.customer_id, identities.c.account_id).where(identities.c.system == system)
    if customer_ids is not None:
        query = query.where(identities.c.customer_id.in_(list(customer_ids)))
    return {int(r.customer_id): str(r.account_id) for r in conn.execute(query)}


def learned(conn: Connection, customer_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Customer -> what the hub learned, by canonical field: ``handles.<channel>`` (the newest identity's handle
    there) and ``first_channel`` (where their first interaction came from)."""
    wanted = list(customer_ids)
    found: dict[int, dict[str, str]] = {cid: {} for cid in wanted}
    rows = conn.execute(select(identities.c.customer_id, identities.c.system, identities.c.handle)
                        .where(identities.c.customer_id.in_(wanted), identities.c.handle.is_not(None))
                        .order_by(identities.c.id))
    for row in rows:
        found[int(row.customer_id)][f"handles.{row.system}"] = str(row.handle)
    first = (select(interactions.c.customer_id, func.min(interactions.c.id).label("first_id"))
             .where(interactions.c.customer_id.in_(wanted)).group_by(interactions.c.customer_id).subquery())
    # The channel a mapping names (a forum's category, a Slack channel) or else the system it came from.
    channel = func.coalesce(interactions.c.channel, interactions.c.source_system).label("channel")
    for first_row in conn.execute(select(interactions.c.customer_id, channel)
                                  .join(first, interactions.c.id == first.c.first_id)):
        if first_row.channel:
            found[int(first_row.customer_id)]["first_channel"] = str(first_row.channel)
    return found


def _planned(pipeline: str, system: str, record_type: str, record_id: Any) -> Any:
    return exists().where(outbox.c.pipeline == pipeline, outbox.c.system == system,
                          outbox.c.record_type == record_type, outbox.c.record_id == record_id)


def unlogged(conn: Connection, pipeline: str, system: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Kept interactions of customers with a contact, not yet planned as a timeline entry (oldest first)."""
    query = (select(interactions.c.id, interactions.c.customer_id, interactions.c.title, interactions.c.text,
                    interactions.c.url, interactions.c.channel, interactions.c.created_at, identities.c.account_id)
             .join(identities, and_(identities.c.customer_id == interactions.c.customer_id,
                                    identities.c.system == system))
             .where(interactions.c.status.not_in(NOT_KEPT), ~_planned(pipeline, system, LOG_RECORD, interactions.c.id))
             .order_by(interactions.c.id).limit(limit or BATCH))
    return [dict(r) for r in conn.execute(query).mappings()]


def without_contact(conn: Connection, pipeline: str, system: str, limit: int | None = None) -> list[int]:
    """Customers with kept interactions, no contact in the CRM, and no contact planned for them yet."""
    has_contact = exists().where(identities.c.customer_id == interactions.c.customer_id,
                                 identities.c.system == system)
    query = (select(interactions.c.customer_id).distinct()
             .where(interactions.c.status.not_in(NOT_KEPT), interactions.c.customer_id.is_not(None), ~has_contact,
                    ~_planned(pipeline, system, NEW_CONTACT_RECORD, interactions.c.customer_id))
             .order_by(interactions.c.customer_id).limit(limit or BATCH))
    return [int(r[0]) for r in conn.execute(query)]


def figures(conn: Connection, system: str) -> dict[str, int]:
    """What the CRM holds from the hub (the demo's summary): contacts the hub made, contacts it joined to a
    customer it already had, timeline entries logged, and cases (tickets the rules filed in the CRM)."""
    def count(query: Any) -> int:
        return int(conn.execute(query).scalar() or 0)

    made = count(select(func.count()).select_from(links).where(links.c.system == system,
                                                               links.c.record_type == NEW_CONTACT_RECORD))
    contacts = count(select(func.count()).select_from(identities).where(identities.c.system == system))
    return {
        "contacts_created": made,
        "contacts_linked": max(contacts - made, 0),
        "timeline_entries": count(select(func.count()).select_from(links).where(
            links.c.system == system, links.c.record_type == LOG_RECORD)),
        "cases": count(select(func.count()).select_from(outbox).where(
            outbox.c.system == system, outbox.c.action == "create", outbox.c.state == "done")),
    }
