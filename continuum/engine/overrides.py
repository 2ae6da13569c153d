"""Keep a person's override on an interaction: the one path for ``continuum override`` and ticket labels.

An override from the command line also reaches the ticket the interaction already has: an ``update``
effect (the ticket mapping's ``update`` action) is planned at once, and the next sync sends it.  A
label override came from the ticket itself, so nothing is written back (no ping-pong).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.engine.context import SyncContext
from continuum.policy.overrides import overridden_values, validate
from continuum.policy.sla import SlaConfig
from continuum.store.audit import audit
from continuum.store.interactions import get_interaction, update_interaction


def override(conn: Connection, interaction_id: int, changes: Mapping[str, Any], sla: SlaConfig,
             who: str = "cli") -> JSON:
    """Record the override and apply it to the interaction's fields at once; returns every override so far."""
    clean = validate(changes)
    row = get_interaction(conn, interaction_id)
    if row is None:
        raise ValueError(f"no interaction {interaction_id}")
    values = overridden_values(row, clean, sla)
    update_interaction(conn, interaction_id, **values)
    audit(conn, "interaction", interaction_id, "override", {"by": who, **clean})
    return dict(values["override"])


def plan_ticket_update(conn: Connection, ctx: SyncContext, interaction_id: int) -> str | None:
    """Plan the update of the interaction's own ticket after an override; None when there is nothing to update
    (no ticket yet: its create carries the new values; or the ticket's mapping has no ``update`` action)."""
    from continuum.engine.outbound import Failure, Outbound, plan_outbound
    from continuum.store.base import content_hash
    from continuum.store.links import link_in

    row = get_interaction(conn, interaction_id)
    target = next((t for t in ctx.pipeline.targets if row is not None and t.system == row["route"]), None)
    if row is None or target is None or target.system not in ctx.connectors:
        return None
    ticket = link_in(conn, "interaction", interaction_id, target.system)
    mapping = ctx.mapping(target.mapping)
    if ticket is None or "update" not in mapping.outbound:
        return None
    subject = f"override:{row['source_system']}:{row['source_id']}:{content_hash(row['override'] or {})}"
    return plan_outbound(conn, ctx, Outbound(
        system=target.system, mapping=mapping, render="update", object_type=ticket["object_type"],
        record_type="interaction", record_id=interaction_id, subject=subject, about=row,
        target_id=ticket["external_id"]), Failure(
        system=target.system, record_key=f"override/{interaction_id}",
        about=f"interaction {interaction_id} → {target.system} update", payload={"interaction_id": interaction_id}))
