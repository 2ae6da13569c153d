"""Queries behind the Airflow view that the CLI's report has no need of: SLA watch, voices, failed effects."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from continuum.connector import JSON
from continuum.store.report import _aware
from continuum.store.tables import customers, interactions, outbox

OPEN_STATES = ("ignored", "deleted", "closed", "answered")  # an interaction in these waits for nobody


def sla_watch(conn: Connection, now: datetime, within: timedelta, limit: int = 200) -> list[JSON]:
    """Unanswered inbound interactions past their SLA or due within ``within``, soonest due first."""
    rows = conn.execute(select(interactions.c.id, interactions.c.source_system, interactions.c.kind,
                               interactions.c.team, interactions.c.priority, interactions.c.sla_due,
                               interactions.c.title, customers.c.id.label("customer_id"),
                               customers.c.display_name)
                        .join(customers, customers.c.id == interactions.c.customer_id, isouter=True)
                        .where(interactions.c.direction == "inbound", interactions.c.answered_at.is_(None),
                               interactions.c.sla_due.is_not(None), interactions.c.sla_due < now + within,
                               interactions.c.status.not_in(OPEN_STATES))
                        .order_by(interactions.c.sla_due, interactions.c.id).limit(limit))
    found = []
    for row in rows:
        hours = round((_aware(row.sla_due) - _aware(now)).total_seconds() / 3600, 1)
        found.append({"interaction": row.id, "channel": row.source_system, "kind": row.kind,
                      "team": row.team or "-", "priority": row.priority or "-", "title": row.title or "",
                      "customer_id": row.customer_id, "customer": row.display_name or "",
                      "hours_left": hours, "breached": hours < 0})
    return found


def voices_of(conn: Connection, feature_request_ids: list[int]) -> dict[int, int]:
    """How many distinct customers asked for each feature request."""
    if not feature_request_ids:
        return {}
    rows = conn.execute(select(interactions.c.feature_request_id, func.count(interactions.c.customer_id.distinct()))
                        .where(interactions.c.feature_request_id.in_(feature_request_ids),
                               interactions.c.direction == "inbound")
                        .group_by(interactions.c.feature_request_id))
    return {int(fr): int(n) for fr, n in rows}


def failed_effects(conn: Connection, limit: int = 200) -> list[JSON]:
    """Effects given up on (dead or expired), newest first; their payloads stay out of it."""
    rows = conn.execute(select(outbox.c.id, outbox.c.system, outbox.c.action, outbox.c.object_type,
                               outbox.c.record_type, outbox.c.record_id, outbox.c.state, outbox.c.attempts,
                               outbox.c.last_error, outbox.c.updated_at)
                        .where(outbox.c.state.in_(("dead", "expired")))
                        .order_by(outbox.c.updated_at.desc(), outbox.c.id.desc()).limit(limit))
    return [dict(row) for row in rows.mappings()]
