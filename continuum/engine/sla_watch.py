"""Watch service levels: alert once per breach, and say what is about to breach.

The alert is an effect like any other, keyed by the interaction, so however
many runs see the breach, the ticket gets one comment and the team one
message.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection

from continuum.engine.context import RunStats, SyncContext
from continuum.engine.outbound import Failure, Outbound, plan_outbound
from continuum.store.db import utcnow
from continuum.store.interactions import breached_since_seen, due_before
from continuum.store.links import ticket_of
from continuum.store.rows import InteractionRow, LinkRow, SlaItem

# What planning one alert came to: planned, not wanted here (no mapping for it), or a dead letter.
PLANNED, SKIPPED, FAILED = "planned", "skipped", "failed"


def sla_report(conn: Connection, soon: timedelta, now: datetime | None = None) -> dict[str, list[SlaItem]]:
    """Interactions past their due time, and those due within ``soon``, still unanswered."""
    now = now or utcnow()
    report: dict[str, list[SlaItem]] = {"breached": [], "breaching_soon": []}
    for row in due_before(conn, now + soon):
        due = row["sla_due"] if row["sla_due"].tzinfo else row["sla_due"].replace(tzinfo=now.tzinfo)
        report["breached" if due <= now else "breaching_soon"].append(row)
    return report


def check_sla(conn: Connection, ctx: SyncContext, now: datetime | None = None) -> RunStats:
    """Plan one alert per breached interaction (the outbox key makes it once, ever)."""
    stats = RunStats()
    now = now or utcnow()
    alerts = ctx.rulebook.alerts
    sources = [s.system for s in ctx.pipeline.sources]
    # Only breaches on the hub's watch: a backfill of old posts must not page the team about history.
    for row in breached_since_seen(conn, now, sources):
        ticket = ticket_of(conn, row["id"], row["feature_request_id"])
        failure = Failure(system="sla", stream="alerts", record_key=f"interaction/{row['id']}",
                          about=f"SLA alert for interaction {row['id']}", payload={"interaction_id": row["id"]})
        outcome = SKIPPED
        if alerts.comment_on_ticket and ticket is not None:
            outcome = _plan_ticket_alert(conn, ctx, row, ticket, failure)
            if outcome == PLANNED:
                stats.add("sla_alerts")
        # A breach whose alert could not be written is one dead letter; its chat alert waits with it.
        if outcome != FAILED and alerts.notify is not None and _plan_chat_alert(conn, ctx, row, failure) == PLANNED:
            stats.add("sla_alerts")
    return stats


def _sla(row: InteractionRow) -> dict[str, object]:
    return {"policy": row["sla_policy"], "due": row["sla_due"], "priority": row["priority"]}


def _planned(key: str | None) -> str:
    return PLANNED if key is not None else FAILED


def _plan_ticket_alert(conn: Connection, ctx: SyncContext, row: InteractionRow, ticket: LinkRow,
                       failure: Failure) -> str:
    target = next((t for t in ctx.pipeline.targets if t.system == ticket["system"]), None)
    if target is None:
        return SKIPPED
    mapping = ctx.mapping(target.mapping)
    if "alert" not in mapping.outbound:
        return SKIPPED
    return _planned(plan_outbound(conn, ctx, Outbound(
        system=target.system, mapping=mapping, render="alert", action="comment", object_type="comment",
        record_type="sla_alert", record_id=row["id"], subject=f"sla-breach:{row['source_system']}:{row['source_id']}",
        target_id=ticket["external_id"], about=row, extra={"sla": _sla(row)}), failure))


def _plan_chat_alert(conn: Connection, ctx: SyncContext, row: InteractionRow, failure: Failure) -> str:
    notify = ctx.rulebook.alerts.notify
    assert notify is not None
    name = ctx.pipeline.notify_mapping.get(notify.system)
    if name is None:
        return SKIPPED
    return _planned(plan_outbound(conn, ctx, Outbound(
        system=notify.system, mapping=ctx.mapping(name), render="alert", action="notify", record_type="sla_alert",
        record_id=row["id"], subject=f"sla-breach-chat:{row['source_system']}:{row['source_id']}", about=row,
        extra={"sla": _sla(row), "notify": {"channel": notify.channel, "reason": "SLA breached"}},
        defaults={"channel": notify.channel}), failure))
