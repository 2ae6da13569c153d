"""A person's erasure in the CRM: the timeline entries the hub logged from their words are deleted.

The hub logged each kept interaction on the customer's contact (a HubSpot note, a Salesforce Task); those
entries quote them.  Where the CRM's connector can delete one (``delete_log``), each is planned as an effect,
sent with the erasure's other updates; where it cannot, the entry is listed as not erased remotely.  The contact
itself is the company's record in its own CRM, under its own retention: it is listed, not deleted, and
tombstoned so that the next read of it does not bring the person back.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from continuum.config import HubConfig
from continuum.connector import JSON
from continuum.store.crm import LOG_RECORD
from continuum.store.tables import identities, outbox

ACTION = "delete_log"


def crm_pipeline(hub: HubConfig, system: str) -> str | None:
    """The pipeline that syncs ``system`` as its CRM."""
    return next((name for name, p in hub.pipelines.items() if p.crm and p.crm.system == system), None)


def _can_delete(hub: HubConfig, system: str) -> bool:
    from continuum.kit.registry import plugin

    config = hub.systems.get(system)
    return config is not None and ACTION in plugin(config.connector).capabilities.effects


def logged_entries(conn: Connection, interaction_ids: list[int]) -> list[JSON]:
    """The timeline entries sent from these interactions: system, the entry's id, the interaction."""
    rows = conn.execute(select(outbox.c.system, outbox.c.external_id, outbox.c.record_id).where(
        outbox.c.record_type == LOG_RECORD, outbox.c.record_id.in_(interaction_ids or [-1]),
        outbox.c.state == "done", outbox.c.external_id.is_not(None)).order_by(outbox.c.id))
    return [{"system": r.system, "id": r.external_id, "interaction": r.record_id} for r in rows]


def plan_deletions(conn: Connection, hub: HubConfig, entries: list[JSON]) -> tuple[list[JSON], list[JSON]]:
    """Plan a ``delete_log`` per entry its CRM can delete; returns (updates planned, what is left remotely)."""
    from continuum.engine.context import SyncContext
    from continuum.engine.outbound import record_effect

    planned: list[JSON] = []
    left: list[JSON] = []
    for entry in entries:
        pipeline = crm_pipeline(hub, entry["system"])
        if pipeline is None or not _can_delete(hub, entry["system"]):
            left.append({"system": entry["system"], "action": "log", "object": "timeline entry", "id": entry["id"],
                         "why": f"{entry['system']}: its connector cannot delete a timeline entry; delete it in "
                                "the CRM"})
            continue
        ctx = SyncContext(db=conn.engine, hub=hub, pipeline_name=pipeline, connectors={})
        key = record_effect(conn, ctx, system=entry["system"], action=ACTION, object_type="note",
                            record_type=LOG_RECORD, record_id=entry["interaction"],
                            subject=f"erase/{LOG_RECORD}/{entry['id']}", fields={}, target_id=entry["id"])
        planned.append({"pipeline": pipeline, "system": entry["system"], "key": key, "action": "delete entry"})
    return planned, left


def contact_mark(contact_id: str) -> str:
    """The tombstone of an erased person's contact (a CRM's own id space, apart from its posts)."""
    return f"contact:{contact_id}"


def forget_contacts(conn: Connection, hub: HubConfig, customer_ids: list[int]) -> list[JSON]:
    """Their contacts in each CRM the hub syncs are tombstoned, so a later read of the contact never makes the
    person a customer again, and listed: the contact is kept there (the company's own CRM record)."""
    from continuum.store.db import utcnow
    from continuum.store.deletions import add_tombstone

    crms = {p.crm.system for p in hub.pipelines.values() if p.crm}
    rows = conn.execute(select(identities.c.system, identities.c.account_id).where(
        identities.c.customer_id.in_(customer_ids or [-1]), identities.c.system.in_(sorted(crms) or [""]))).all()
    for row in rows:
        add_tombstone(conn, row.system, contact_mark(row.account_id), None, utcnow())
    return [{"system": r.system, "action": "contact", "object": "contact", "id": r.account_id,
             "why": f"{r.system}: the contact is the company's own CRM record; delete or anonymise it there if "
                    "the request covers it (the hub will not read it again)"} for r in rows]
