"""Watch service levels: alert once per breach, and say what is about to breach.

The alert is an effect like any other, keyed by the interaction, so however
many runs see the breach, the ticket gets one comment and the team one
message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from continuum.engine import outbox
from continuum.engine.context import RunStats, SyncContext
from continuum.mapping import MappingError, map_outbound
from continuum.store import repo
from continuum.store.db import utcnow
from continuum.store.tables import interactions, links

OPEN = ("triaged", "routed", "new")


def _open_with_due(now: datetime, before: datetime) -> Any:
    return and_(interactions.c.direction == "inbound", interactions.c.status.in_(OPEN),
                interactions.c.answered_at.is_(None), interactions.c.sla_due.is_not(None),
                interactions.c.sla_due <= before)


def sla_report(conn: Connection, soon: timedelta, now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Interactions past their due time, and those due within ``soon``, still unanswered."""
    now = now or utcnow()
    rows = conn.execute(select(interactions.c.id, interactions.c.source_system, interactions.c.source_id,
                               interactions.c.team, interactions.c.priority, interactions.c.sla_policy,
                               interactions.c.sla_due, interactions.c.title)
                        .where(_open_with_due(now, now + soon)).order_by(interactions.c.sla_due)).mappings()
    report: dict[str, list[dict[str, Any]]] = {"breached": [], "breaching_soon": []}
    for row in rows:
        due = row["sla_due"] if row["sla_due"].tzinfo else row["sla_due"].replace(tzinfo=now.tzinfo)
        report["breached" if due <= now else "breaching_soon"].append(dict(row))
    return report


def check_sla(conn: Connection, ctx: SyncContext, now: datetime | None = None) -> RunStats:
    """Plan one alert per breached interaction (the outbox key makes it once, ever)."""
    stats = RunStats()
    now = now or utcnow()
    alerts = ctx.rulebook.alerts
    sources = [s.system for s in ctx.pipeline.sources]
    # Only breaches on the hub's watch: a backfill of old posts must not page the team about history
    # (those still show in `continuum status`).
    breached = conn.execute(select(interactions).where(
        _open_with_due(now, now), interactions.c.source_system.in_(sources),
        interactions.c.sla_due > interactions.c.first_seen_at)).mappings().all()
    for row in breached:
        row = dict(row)
        ticket = conn.execute(select(links).where(or_(
            and_(links.c.record_type == "interaction", links.c.record_id == row["id"]),
            and_(links.c.record_type == "feature_request", links.c.record_id == row["feature_request_id"])))
            .limit(1)).mappings().first()
        try:
            if alerts.comment_on_ticket and ticket is not None and _plan_ticket_alert(conn, ctx, row, dict(ticket)):
                stats.add("sla_alerts")
            if alerts.notify is not None and _plan_chat_alert(conn, ctx, row):
                stats.add("sla_alerts")
        except MappingError as exc:
            repo.dead_letter(conn, pipeline=ctx.pipeline_name, system="sla", stream="alerts", stage="plan",
                             record_key=f"interaction/{row['id']}", field=exc.field,
                             error=f"SLA alert for interaction {row['id']}: field {exc.field}: {exc.message}",
                             payload={"interaction_id": row["id"]})
    return stats


def _alert_context(conn: Connection, ctx: SyncContext, row: dict[str, Any], system: str) -> dict[str, Any]:
    from continuum.engine.triage import template_context  # triage imports this module

    context = template_context(conn, ctx, row, system)
    context["sla"] = {"policy": row["sla_policy"], "due": row["sla_due"], "priority": row["priority"]}
    return context


def _plan_ticket_alert(conn: Connection, ctx: SyncContext, row: dict[str, Any], ticket: dict[str, Any]) -> bool:
    target = next((t for t in ctx.pipeline.targets if t.system == ticket["system"]), None)
    if target is None:
        return False
    mapping = ctx.mapping(target.mapping)
    if "alert" not in mapping.outbound:
        return False
    fields = map_outbound(mapping, "alert", _alert_context(conn, ctx, row, target.system),
                          ctx.connector(target.system).escape_text)
    outbox.plan(conn, ctx, system=target.system, action="comment", object_type="comment",
                record_type="sla_alert", record_id=row["id"], subject=f"sla-breach:{row['source_system']}:"
                f"{row['source_id']}", fields=fields, target_id=ticket["external_id"])
    return True


def _plan_chat_alert(conn: Connection, ctx: SyncContext, row: dict[str, Any]) -> bool:
    notify = ctx.rulebook.alerts.notify
    assert notify is not None
    name = ctx.pipeline.notify_mapping.get(notify.system)
    if name is None:
        return False
    mapping = ctx.mapping(name)
    context = _alert_context(conn, ctx, row, notify.system)
    context["notify"] = {"channel": notify.channel, "reason": "SLA breached"}
    fields = map_outbound(mapping, "alert", context, ctx.connector(notify.system).escape_text)
    fields.setdefault("channel", notify.channel)
    outbox.plan(conn, ctx, system=notify.system, action="notify", object_type=mapping.object,
                record_type="sla_alert", record_id=row["id"],
                subject=f"sla-breach-chat:{row['source_system']}:{row['source_id']}", fields=fields)
    return True
