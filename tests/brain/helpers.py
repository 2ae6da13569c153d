"""Small helpers for the brain tests: read the store, move an SLA clock, count simulator effects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from continuum.store.db import utcnow
from continuum.store.tables import customers, feature_requests, interactions
from tests.e2e.conftest import Loop


def interaction(loop: Loop, post_id: int) -> dict[str, Any]:
    with loop.db.connect() as conn:
        return dict(conn.execute(select(interactions).where(
            interactions.c.source_system == "discourse",
            interactions.c.source_id == f"post:{post_id}")).mappings().one())


def customer(loop: Loop, customer_id: int) -> dict[str, Any]:
    with loop.db.connect() as conn:
        return dict(conn.execute(select(customers).where(customers.c.id == customer_id)).mappings().one())


def feature_request_rows(loop: Loop) -> list[dict[str, Any]]:
    with loop.db.connect() as conn:
        return [dict(r) for r in conn.execute(select(feature_requests)).mappings()]


def breach(loop: Loop, interaction_id: int) -> None:
    """Make an interaction overdue as if time passed on the hub's watch (seen 3 h ago, due 1 h ago)."""
    now = utcnow()
    with loop.db.begin() as conn:
        conn.execute(update(interactions).where(interactions.c.id == interaction_id).values(
            first_seen_at=now - timedelta(hours=3), sla_due=now - timedelta(hours=1)))


def slack_texts(loop: Loop, channel: str) -> list[str]:
    sim = loop.sims["slack"]
    return [m.get("text", "") for m in sim.messages(sim.channel_id(channel))
            if m.get("metadata", {}).get("event_type") == "continuum_effect"]


def company_posts(loop: Loop, topic_id: int) -> list[dict[str, Any]]:
    return [p for p in loop.discourse.posts(topic_id) if p["username"] == "continuum"]
