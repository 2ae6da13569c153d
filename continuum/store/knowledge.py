"""Named queries for knowledge pages: which customers get a page, and what a customer or request page shows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Connection, and_, desc, func, or_, select

from continuum.connector import JSON
from continuum.store.erasure import ERASED
from continuum.store.rows import CustomerRow, FeatureRequestRow, InteractionRow, LinkRow
from continuum.store.tables import (
    attachment_copies,
    attachments,
    audit_events,
    customers,
    feature_requests,
    interactions,
    links,
)

# Interactions a page shows: everything kept (not dropped as noise, not taken back by its author).
HIDDEN_STATUSES = ("ignored", "deleted")
# What a rule may pick customers by.
SELECTORS = ("ticket", "vip", "known", "any")


def _kept() -> Any:
    return interactions.c.status.notin_(HIDDEN_STATUSES)


def page_customers(
    conn: Connection, select_by: Iterable[str], vip_tiers: Iterable[str], ticket_systems: Iterable[str]
) -> list[CustomerRow]:
    """The customers (not merged into another, nor erased) that any of ``select_by`` picks, by id.

    ``ticket``: one of their kept interactions has a ticket, its own or its feature request's (a link, not a
    comment, in one of ``ticket_systems``); ``vip``: their tier is one of ``vip_tiers``; ``known``: they
    have a primary e-mail; ``any``: they have a kept interaction."""
    wanted = set(select_by)
    others = links.c.system.in_(list(ticket_systems)) & (links.c.object_type != "comment")
    ticketed = (
        select(interactions.c.customer_id)
        .join(
            links,
            or_(
                and_(links.c.record_type == "interaction", links.c.record_id == interactions.c.id),
                and_(links.c.record_type == "feature_request", links.c.record_id == interactions.c.feature_request_id),
            ),
        )
        .where(others, _kept(), interactions.c.direction == "inbound")
    )
    anyone = select(interactions.c.customer_id).where(_kept(), interactions.c.direction == "inbound")
    picks: list[Any] = []
    if "ticket" in wanted:
        picks.append(customers.c.id.in_(ticketed))
    if "vip" in wanted:
        picks.append(customers.c.tier.in_(list(vip_tiers)))
    if "known" in wanted:
        picks.append(customers.c.primary_email.is_not(None))
    if "any" in wanted:
        picks.append(customers.c.id.in_(anyone))
    if not picks:
        return []
    rows = conn.execute(
        select(customers)
        .where(customers.c.merged_into.is_(None), customers.c.display_name != ERASED, or_(*picks))
        .order_by(customers.c.id)
    ).mappings()
    return [cast(CustomerRow, dict(row)) for row in rows]


def kept_interactions(conn: Connection, customer_id: int, limit: int) -> tuple[list[InteractionRow], int]:
    """The customer's ``limit`` latest kept inbound interactions, oldest first, and how many they have in all."""
    where = (interactions.c.customer_id == customer_id, _kept(), interactions.c.direction == "inbound")
    rows = conn.execute(
        select(interactions)
        .where(*where)
        .order_by(desc(interactions.c.created_at), desc(interactions.c.id))
        .limit(limit)
    ).mappings()
    total = int(conn.execute(select(func.count()).select_from(interactions).where(*where)).scalar_one())
    return [cast(InteractionRow, dict(row)) for row in rows][::-1], total


def tickets_for(
    conn: Connection, interaction_ids: list[int], feature_request_ids: list[int], ticket_systems: Iterable[str]
) -> list[LinkRow]:
    """The tickets (in ``ticket_systems``, not comments) standing for these interactions or feature requests,
    oldest first: not the hub's replies on the customer's channel, nor its chat notifications."""
    rows = conn.execute(
        select(links)
        .where(
            or_(
                and_(links.c.record_type == "interaction", links.c.record_id.in_(interaction_ids or [-1])),
                and_(links.c.record_type == "feature_request", links.c.record_id.in_(feature_request_ids or [-1])),
            ),
            links.c.object_type != "comment",
            links.c.system.in_(list(ticket_systems)),
        )
        .order_by(links.c.id)
    ).mappings()
    return [cast(LinkRow, dict(row)) for row in rows]


def ticket_state(conn: Connection, link: LinkRow) -> str | None:
    """The ticket's status as last read back from its system (None: never changed since the hub made it)."""
    rows = conn.execute(
        select(audit_events.c.changes)
        .where(
            audit_events.c.record_type == link["record_type"],
            audit_events.c.record_id == link["record_id"],
            audit_events.c.action == "ticket_changed",
            audit_events.c.system == link["system"],
        )
        .order_by(desc(audit_events.c.id))
    ).scalars()
    for changes in rows:
        now = (changes or {}).get("now") or {}
        if (changes or {}).get("ticket") == link["external_id"] and now.get("status"):
            return str(now["status"])
    return None


def requests_with_votes(
    conn: Connection, ids: Iterable[int] | None = None, paged_in: str | None = None
) -> list[FeatureRequestRow]:
    """Feature requests with at least one vote (only ``ids``, when given), most votes first; with ``paged_in``,
    also those with a page in that system, whose votes went (their voices deleted or erased): their page must
    stop showing them."""
    paged = select(links.c.record_id).where(links.c.record_type == "feature_page", links.c.system == paged_in)
    wanted = feature_requests.c.votes > 0
    if paged_in is not None:
        wanted = or_(wanted, feature_requests.c.id.in_(paged))
    query = select(feature_requests).where(wanted)
    if ids is not None:
        query = query.where(feature_requests.c.id.in_(list(ids) or [-1]))
    rows = conn.execute(query.order_by(desc(feature_requests.c.votes), feature_requests.c.id)).mappings()
    return [cast(FeatureRequestRow, dict(row)) for row in rows]


def files_of(conn: Connection, customer_id: int, interaction_ids: Iterable[int]) -> list[JSON]:
    """The files attached to these interactions of the customer, each once (same content, one row), with
    where its stored copy is (None: not stored yet, or blocked), oldest first."""
    copy = attachment_copies
    rows = conn.execute(
        select(attachments.c.interaction_id, attachments.c.name, attachments.c.size, attachments.c.sha256,
               copy.c.url, copy.c.system)
        .join(copy, and_(copy.c.customer_id == attachments.c.customer_id, copy.c.sha256 == attachments.c.sha256),
              isouter=True)
        .where(attachments.c.customer_id == customer_id, attachments.c.interaction_id.in_(list(interaction_ids)))
        .order_by(attachments.c.id)
    ).mappings()
    seen: dict[str, JSON] = {}
    for row in rows:
        seen.setdefault(row["sha256"], dict(row))
    return list(seen.values())


def page_link(conn: Connection, record_type: str, record_id: int, system: str) -> LinkRow | None:
    """The newest page the hub made in ``system`` for this record (a page made again after a deletion wins)."""
    row = (
        conn.execute(
            select(links)
            .where(links.c.record_type == record_type, links.c.record_id == record_id, links.c.system == system)
            .order_by(desc(links.c.id))
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else cast(LinkRow, dict(row))


PAGE_KINDS = ("customer_page", "feature_page", "feature_index", "faq_page")


def pages_kept(conn: Connection) -> dict[str, int]:
    """How many knowledge pages the hub keeps, by kind (``customer_page``...), in every wiki."""
    rows = conn.execute(
        select(links.c.record_type, func.count(func.distinct(links.c.record_id)))
        .where(links.c.record_type.in_(PAGE_KINDS))
        .group_by(links.c.record_type)
    )
    return {str(kind): int(n) for kind, n in rows}


def answered_questions(conn: Connection, kinds: Iterable[str]) -> list[tuple[InteractionRow, InteractionRow]]:
    """Each staff answer to a question of one of ``kinds``, with that question (deleted ones too: their
    status says so, their text is gone), oldest answer first."""
    question = interactions.alias("question")
    rows = conn.execute(
        select(interactions.c.id, question.c.id)
        .join(question, question.c.id == interactions.c.in_reply_to)
        .where(
            interactions.c.direction == "outbound",
            interactions.c.kind == "answer",
            question.c.kind.in_(list(kinds)),
            # A question its author deleted (or whose author was erased) stays: its page is written again
            # without it.  Only ignored ones never make a page.
            question.c.status != "ignored",
        )
        .order_by(interactions.c.id)
    ).all()
    ids = {i for row in rows for i in row}
    found = {
        r["id"]: cast(InteractionRow, dict(r))
        for r in conn.execute(select(interactions).where(interactions.c.id.in_(list(ids) or [-1]))).mappings()
    }
    return [(found[answer], found[asked]) for answer, asked in rows]


def pages_of_gone_customers(conn: Connection, system: str) -> list[tuple[int, int | None]]:
    """Customer pages in ``system`` whose customer is gone: ``(customer id, merged into)``, the second None when
    the customer no longer exists (erased)."""
    rows = conn.execute(
        select(links.c.record_id, customers.c.id, customers.c.merged_into)
        .join(customers, customers.c.id == links.c.record_id, isouter=True)
        .where(
            links.c.record_type == "customer_page",
            links.c.system == system,
            or_(customers.c.id.is_(None), customers.c.merged_into.is_not(None)),
        )
        .order_by(links.c.record_id)
    ).all()
    return list(dict.fromkeys((int(page), None if found is None else int(into)) for page, found, into in rows))
