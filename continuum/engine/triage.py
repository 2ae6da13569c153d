"""Triage and dispatch: rules decide, the outbox records what to do about it.

For each new interaction: compute the facts rules can test, run the rule
book, let a human override win, then act — open a ticket, vote for (or
found) a feature request, notify a person in chat, ignore, or drop.  A later
message in a thread that already has a ticket becomes a comment on it; in a
feature request's thread it is a vote.  An answer the company wrote directly
on the channel stops the thread's SLA clock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, delete, select, update

from continuum.config import TargetSpec
from continuum.engine import aggregate, outbox
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.facts import PageFacts
from continuum.engine.pagewrites import PageWrites
from continuum.engine.sla_watch import check_sla
from continuum.mapping import MappingError, map_outbound
from continuum.rules import Decision, apply_override, decide
from continuum.store import repo
from continuum.store.tables import customers, identities, interactions, links

PAGE = 500


def triage(ctx: SyncContext, final_pass: bool = True) -> RunStats:
    """Triage every new interaction; on the final pass also refresh voices and check SLAs."""
    stats = RunStats()
    sources = [s.system for s in ctx.pipeline.sources]
    last_id = 0
    while True:
        with ctx.db.begin() as conn:
            rows = [dict(r) for r in conn.execute(
                select(interactions).where(interactions.c.status == "new",
                                           interactions.c.source_system.in_(sources),
                                           interactions.c.id > last_id)
                # Claim the page: another pipeline triaging the same source at this moment skips
                # these rows instead of planning a second ticket for them (a no-op on SQLite,
                # where writers are serialised anyway).
                .order_by(interactions.c.id).limit(PAGE).with_for_update(skip_locked=True)).mappings()]
            if not rows:
                break
            last_id = rows[-1]["id"]
            facts = PageFacts(conn, rows, channel_systems(ctx), detect=ctx.rulebook.uses_language)
            writes = PageWrites(conn, ctx.pipeline_name, facts)
            for row in rows:
                stats.add(f"triage_{_triage_one(writes, ctx, row)}")
            writes.flush()
    with ctx.db.begin() as conn:
        # After all of this pass's votes are linked: new tickets start with every voice.
        stats.add("feature_request_tickets", aggregate.plan_missing_tickets(conn, ctx))
    if final_pass:
        with ctx.db.begin() as conn:
            stats.add("voices_updates", aggregate.refresh_voices(conn, ctx))
            stats.merge(check_sla(conn, ctx))
    return stats


def channel_systems(ctx: SyncContext) -> set[str]:
    return {s.system for p in ctx.hub.pipelines.values() for s in p.sources}


def _triage_one(w: PageWrites, ctx: SyncContext, row: dict[str, Any]) -> str:
    conn = w.conn
    if row["direction"] == "outbound":
        return _company_spoke(w, row)
    facts = w.facts.of(row)
    root = facts.pop("thread_root")
    item = {**row, **facts}
    decision = decide(ctx.rulebook.rules, item)
    apply_override(decision, row.get("override"))
    if root is not None and root.get("feature_request_id") and decision.kind in ("feature_request", "unknown"):
        # A "+1" in a feature request's thread is a vote there; a question asked there is not.
        _, fr_id, _score = aggregate.aggregate(conn, ctx, row, root)
        routed = _has_link(conn, "feature_request", fr_id)
        w.set(row, kind="feature_request", team=root["team"], priority=root["priority"], route=root["route"],
              language=facts["language"], status="routed" if routed else "triaged", feature_request_id=fr_id)
        return "voted"
    if root is not None and not root.get("feature_request_id") and ctx.pipeline.follow_ups == "comment" \
            and root["route"]:
        return _follow_up(w, ctx, row, root)
    if decision.kind == "noise" and decision.action == "ignore" and ctx.rulebook.banter == "drop":
        decision.action = "drop"
    return _act(w, ctx, row, decision, facts)


def _act(w: PageWrites, ctx: SyncContext, row: dict[str, Any], decision: Decision, facts: dict[str, Any]) -> str:
    conn = w.conn
    values = {"kind": decision.kind, "team": decision.team, "priority": decision.priority,
              "route": decision.route, "language": facts["language"], "sla_policy": decision.sla}
    values["sla_due"] = None if decision.action in ("ignore", "drop") else ctx.rulebook.sla.due_time(
        decision.sla, decision.priority, row["created_at"] or row["first_seen_at"])
    explanation: dict[str, Any] = {"rules": decision.rules, "action": decision.action}
    if decision.action == "drop":
        conn.execute(delete(interactions).where(interactions.c.id == row["id"]))
        repo.audit(conn, "interaction", row["id"], "dropped", {"source": row["source_id"], **explanation},
                   ctx.pipeline_name, row["source_system"])
        return "dropped"
    if decision.action == "ignore":
        w.set(row, **values, status="ignored")
        w.audit(row["id"], "ignored", explanation)
        return "ignored"
    outcome = "triaged"
    try:
        if decision.action == "link" or (decision.action == "ticket" and decision.kind == "feature_request"
                                         and ctx.rulebook.feature_requests.route == decision.route
                                         and ctx.pipeline.feature_request_mapping):
            outcome, fr_id, score = aggregate.aggregate(conn, ctx, row, None)
            values["feature_request_id"] = fr_id
            explanation.update(feature_request=fr_id, score=score.total, why=score.explanation)
            if _has_link(conn, "feature_request", fr_id):
                values["status"] = "routed"
        elif decision.action in ("ticket", "task") and decision.route:
            _plan_ticket(conn, ctx, _target(ctx, decision.route), {**row, **values})
            outcome = "routed"
        elif decision.action == "notify" and decision.notify is not None:
            _plan_notify(conn, ctx, {**row, **values}, decision)
            outcome = "notified"
    except MappingError as exc:
        _mapping_failed(w, ctx, row, decision.route or "?", exc)
        return "failed"
    w.set(row, **{"status": "triaged", **values})
    w.audit(row["id"], "triaged", {**{k: v for k, v in values.items() if k != "sla_due"}, **explanation})
    if ctx.explain is not None:
        ctx.explain.append({"interaction": row["id"], "source": row["source_id"], "kind": decision.kind,
                            "outcome": outcome, **explanation})
    return outcome


def _company_spoke(w: PageWrites, row: dict[str, Any]) -> str:
    """The company answered on the channel itself: the thread's open questions are answered."""
    w.set(row, status="closed")
    if row.get("thread_id") is not None:
        w.conn.execute(update(interactions).where(and_(
            interactions.c.source_system == row["source_system"], interactions.c.thread_id == row["thread_id"],
            interactions.c.direction == "inbound", interactions.c.id < row["id"],
            interactions.c.answered_at.is_(None))).values(answered_at=row["created_at"] or row["first_seen_at"]))
    return "company_answer"


def _has_link(conn: Connection, record_type: str, record_id: int) -> bool:
    return conn.execute(select(links.c.id).where(
        links.c.record_type == record_type, links.c.record_id == record_id).limit(1)).first() is not None


def _target(ctx: SyncContext, system: str) -> TargetSpec:
    for target in ctx.pipeline.targets:
        if target.system == system:
            return target
    raise MappingError("route", f"pipeline {ctx.pipeline_name!r} routes to {system!r} but has no target for it")


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


def _plan_notify(conn: Connection, ctx: SyncContext, row: dict[str, Any], decision: Decision) -> None:
    assert decision.notify is not None
    system = decision.notify.system
    name = ctx.pipeline.notify_mapping.get(system)
    if name is None:
        raise MappingError("notify", f"pipeline {ctx.pipeline_name!r} has no notify_mapping for {system!r}")
    mapping = ctx.mapping(name)
    context = template_context(conn, ctx, row, system)
    context["notify"] = {"channel": decision.notify.channel, "reason": ", ".join(decision.rules)}
    fields = map_outbound(mapping, "notify", context, ctx.connector(system).escape_text)
    fields.setdefault("channel", decision.notify.channel)
    outbox.plan(conn, ctx, system=system, action="notify", object_type=mapping.object, record_type="interaction",
                record_id=row["id"], subject=f"{row['source_system']}:{row['source_id']}", fields=fields,
                context={"purpose": "route"})


def _follow_up(w: PageWrites, ctx: SyncContext, row: dict[str, Any], root: dict[str, Any]) -> str:
    conn = w.conn
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
        _mapping_failed(w, ctx, row, target.system, exc)
        return "failed"
    outbox.plan(conn, ctx, system=target.system, action="comment", object_type="comment",
                record_type="interaction", record_id=row["id"], subject=f"{row['source_system']}:{row['source_id']}",
                fields=fields, target_id=ticket["external_id"])
    w.set(row, **values, status="triaged")
    return "follow_up"


def _mapping_failed(w: PageWrites, ctx: SyncContext, row: dict[str, Any], system: str, exc: MappingError) -> None:
    repo.dead_letter(w.conn, pipeline=ctx.pipeline_name, system=system, stream="outbound", stage="plan",
                     record_key=f"interaction/{row['id']}", field=exc.field,
                     error=f"interaction {row['id']} → {system}: field {exc.field}: {exc.message}",
                     payload={"interaction_id": row["id"]})
    w.set(row, status="triaged")
