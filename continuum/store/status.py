"""Counts of what the store holds, for ``continuum status`` and the demo's summary."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from continuum.connector import JSON
from continuum.store.tables import (
    audit_events,
    customers,
    dead_letters,
    feature_requests,
    identities,
    interactions,
    links,
    outbox,
)


def counts(conn: Connection) -> JSON:
    def scalar(query: Any) -> int:
        return int(conn.execute(query).scalar_one())

    held: dict[str, int] = {}
    for (error,) in conn.execute(select(outbox.c.last_error).where(outbox.c.state == "held")):
        reason = held_reason(error)
        held[reason] = held.get(reason, 0) + 1
    by_status = {row.status: row.n for row in conn.execute(
        select(interactions.c.status, func.count().label("n")).group_by(interactions.c.status))}
    return {
        "customers": scalar(select(func.count()).select_from(customers).where(customers.c.merged_into.is_(None))),
        "identities": scalar(select(func.count()).select_from(identities)),
        "interactions": scalar(select(func.count()).select_from(interactions)),
        "by_status": dict(sorted(by_status.items())),
        # The community manager's queue: the classifier was not sure enough to ignore, drop or hand it on.
        "needs_review": int(by_status.get("needs_review", 0)),
        "feature_requests": scalar(select(func.count()).select_from(feature_requests)),
        "links": scalar(select(func.count()).select_from(links)),
        "outbox_pending": scalar(select(func.count()).select_from(outbox).where(
            outbox.c.state.in_(("pending", "sending", "failed")))),
        # Not sent because the platform's policy forbids it now; offered to the connector again each run.
        "outbox_held": sum(held.values()),
        "outbox_held_reasons": dict(sorted(held.items())),
        "outbox_dead": scalar(select(func.count()).select_from(outbox).where(outbox.c.state == "dead")),
        "dead_letters": scalar(select(func.count()).select_from(dead_letters).where(
            dead_letters.c.state == "open")),
        # Final and visible: retried for longer than the retry period (`continuum replay --expired`).
        "outbox_expired": scalar(select(func.count()).select_from(outbox).where(outbox.c.state == "expired")),
        "dead_letters_expired": scalar(select(func.count()).select_from(dead_letters).where(
            dead_letters.c.state == "expired")),
        "audit_events": scalar(select(func.count()).select_from(audit_events)),
    }


def held_reason(error: str | None) -> str:
    """The reason of a held effect without the effect's own key, so that equal reasons count together."""
    text = error or "held"
    _, marker, reason = text.partition(" held: ")
    return reason if marker else text
