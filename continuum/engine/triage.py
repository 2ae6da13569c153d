"""Triage and dispatch: rules decide, the outbox records what to do about it.

New interactions are classified and routed by the pipeline's rules.  A later
message in a thread that already has a ticket becomes a comment on that
ticket instead of a second ticket.  A human override stored on the
interaction wins over every rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, select, update

from continuum.config import TargetSpec
from continuum.engine import outbox
from continuum.engine.context import RunStats, SyncContext
from continuum.mapping import MappingError, map_outbound
from continuum.rules import Decision, decide
from continuum.store import repo
from continuum.store.tables import customers, identities, interactions, links

PAGE = 500


def triage(ctx: SyncContext) -> RunStats:
    stats = RunStats()
    sources = [s.system for s in ctx.pipeline.sources]
    last_id = 0
    while True:
        with ctx.db.begin() as conn:
            rows = [dict(r) for r in conn.execute(
                select(interactions).where(interactions.c.status == "new",
                                           interactions.c.source_system.in_(sources),
                                           interactions.c.id > last_id)
                .order_by(interactions.c.id).limit(PAGE)).mappings()]
            if not rows:
                return stats
            last_id = rows[-1]["id"]
            for row in rows:
                stats.add(f"triage_{_triage_one(conn, ctx, row)}")


def _triage_one(conn: Connection, ctx: SyncContext, row: dict[str, Any]) -> str:
    root = None if row["is_thread_start"] else _thread_root(conn, row)
    if root is not None and ctx.pipeline.follow_ups == "comment" and root["route"]:
        return _follow_up(conn, ctx, row, root)
    decision = decide(ctx.pipeline.routing, row)
    _apply_override(decision, row.get("override"))
    values = {"kind": decision.kind, "team": decision.team, "priority": decision.priority,
              "route": decision.route}
    if decision.action == "ignore":
        conn.execute(update(interactions).where(interactions.c.id == row["id"]).values(**values, status="ignored"))
        repo.audit(conn, "interaction", row["id"], "ignored", {"rules": decision.rules}, ctx.pipeline_name)
        return "ignored"
    if decision.action == "ticket" and decision.route:
        target = _target(ctx, decision.route)
        try:
            _plan_ticket(conn, ctx, target, {**row, **values})
        except MappingError as exc:
            _mapping_failed(conn, ctx, row, target.system, exc)
            return "failed"
    conn.execute(update(interactions).where(interactions.c.id == row["id"]).values(**values, status="triaged"))
    repo.audit(conn, "interaction", row["id"], "triaged", {**values, "rules": decision.rules}, ctx.pipeline_name)
    return "routed" if decision.action == "ticket" else "triaged"


def _apply_override(decision: Decision, override: Any) -> None:
    """A person's decision beats the rules, on this and every later run."""
    if not isinstance(override, dict):
        return
    for name in ("kind", "team", "priority", "route", "action"):
        if override.get(name):
            setattr(decision, name, override[name])


def _target(ctx: SyncContext, system: str) -> TargetSpec:
    for target in ctx.pipeline.targets:
        if target.system == system:
            return target
    raise ValueError(f"pipeline {ctx.pipeline_name!r} routes to {system!r} but has no target for it")


def template_context(conn: Connection, ctx: SyncContext, row: dict[str, Any], target_system: str) -> dict[str, Any]:
    customer: dict[str, Any] = {}
    if row.get("customer_id") is not None:
        found = conn.execute(select(customers).where(customers.c.id == row["customer_id"])).mappings().first()
        customer = dict(found) if found else {}
        handle = conn.execute(select(identities.c.handle).where(
            identities.c.customer_id == row["customer_id"], identities.c.system == row["source_system"])).first()
        customer["handle"] = handle.handle if handle else None
    return {"interaction": row, "customer": customer, "target": ctx.system_context(target_system),
            "source": ctx.system_context(row["source_system"])}


def _plan_ticket(conn: Connection, ctx: SyncContext, target: TargetSpec, row: dict[str, Any]) -> None:
    connector = ctx.connector(target.system)
    mapping = ctx.mapping(target.mapping)
    fields = map_outbound(mapping, "create", template_context(conn, ctx, row, target.system),
                          connector.escape_text)
    outbox.plan(conn, ctx, system=target.system, action="create", object_type=mapping.object,
                record_type="interaction", record_id=row["id"],
                subject=f"{row['source_system']}:{row['source_id']}", fields=fields,
                context={"source_url": row.get("url"), "source_title": row.get("title") or row["text"][:80]})


def _thread_root(conn: Connection, row: dict[str, Any]) -> dict[str, Any] | None:
    if row.get("thread_id") is None:
        return None
    found = conn.execute(select(interactions).where(
        interactions.c.source_system == row["source_system"], interactions.c.thread_id == row["thread_id"],
        interactions.c.is_thread_start.is_(True))).mappings().first()
    return None if found is None else dict(found)


def _follow_up(conn: Connection, ctx: SyncContext, row: dict[str, Any], root: dict[str, Any]) -> str:
    ticket = conn.execute(select(links).where(and_(
        links.c.record_type == "interaction", links.c.record_id == root["id"],
        links.c.system == root["route"]))).mappings().first()
    if ticket is None:
        # The thread's ticket is not made yet; stay new and be picked up once it is.
        return "waiting"
    target = _target(ctx, root["route"])
    connector = ctx.connector(target.system)
    values = {"kind": root["kind"], "team": root["team"], "priority": root["priority"], "route": root["route"]}
    try:
        fields = map_outbound(ctx.mapping(target.mapping), "comment",
                              template_context(conn, ctx, {**row, **values}, target.system), connector.escape_text)
    except MappingError as exc:
        _mapping_failed(conn, ctx, row, target.system, exc)
        return "failed"
    outbox.plan(conn, ctx, system=target.system, action="comment", object_type="comment",
                record_type="interaction", record_id=row["id"], subject=f"{row['source_system']}:{row['source_id']}",
                fields=fields, target_id=ticket["external_id"])
    conn.execute(update(interactions).where(interactions.c.id == row["id"]).values(**values, status="triaged"))
    return "follow_up"


def _mapping_failed(conn: Connection, ctx: SyncContext, row: dict[str, Any], system: str, exc: MappingError) -> None:
    repo.dead_letter(conn, pipeline=ctx.pipeline_name, system=system, stream="outbound", stage="plan",
                     record_key=f"interaction/{row['id']}", field=exc.field,
                     error=f"interaction {row['id']} → {system}: field {exc.field}: {exc.message}",
                     payload={"interaction_id": row["id"]})
    conn.execute(update(interactions).where(interactions.c.id == row["id"]).values(status="triaged"))
