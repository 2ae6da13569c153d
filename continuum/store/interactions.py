"""Interactions: one row per message from or to a customer, unique per (source system, source object)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, and_, bindparam, delete, func, or_, select, update

from continuum.connector import JSON
from continuum.store import first_contacts
from continuum.store.base import insert_ignore, insert_ignore_returning
from continuum.store.db import utcnow
from continuum.store.rows import InteractionRow, SlaItem, StoredVersion, Voice
from continuum.store.tables import customers, interactions

# Triaged, routed or new: not answered, closed or ignored yet.
OPEN_STATUSES = ("triaged", "routed", "new")


def _rows(result: Any) -> list[InteractionRow]:
    return [cast(InteractionRow, dict(row)) for row in result.mappings()]


def get_interaction(conn: Connection, interaction_id: int) -> InteractionRow | None:
    row = conn.execute(select(interactions).where(interactions.c.id == interaction_id)).mappings().first()
    return None if row is None else cast(InteractionRow, dict(row))


# -- reading a source ----------------------------------------------------------

def stored_versions(conn: Connection, system: str, source_ids: list[str]) -> dict[str, StoredVersion]:
    """The page's interactions that are already stored, by source id (one query for a page)."""
    rows = conn.execute(select(interactions.c.source_id, interactions.c.id, interactions.c.content_hash).where(
        interactions.c.source_system == system, interactions.c.source_id.in_(source_ids)))
    return {row.source_id: StoredVersion(row.id, row.content_hash) for row in rows}


def stored_version(conn: Connection, system: str, source_id: str) -> StoredVersion | None:
    row = conn.execute(select(interactions.c.id, interactions.c.content_hash).where(
        interactions.c.source_system == system, interactions.c.source_id == source_id)).first()
    return None if row is None else StoredVersion(row.id, row.content_hash)


def insert_new(conn: Connection, rows: list[JSON]) -> int:
    """Insert interactions; one that another run stored meanwhile is skipped. Returns how many went in."""
    return insert_ignore(conn, interactions, rows, ["source_system", "source_id"])


def insert_new_ids(conn: Connection, system: str, rows: list[JSON]) -> dict[str, int]:
    """:func:`insert_new` giving back ``source id → id`` of every row, from the insert itself.

    Only rows another run stored meanwhile (skipped by the insert) cost a second query."""
    made = {source_id: int(i) for source_id, i in insert_ignore_returning(
        conn, interactions, rows, ["source_system", "source_id"], ["source_id", "id"])}
    missing = [row["source_id"] for row in rows if row["source_id"] not in made]
    return {**made, **(ids_by_source(conn, system, missing) if missing else {})}


def ids_by_source(conn: Connection, system: str, source_ids: list[str]) -> dict[str, int]:
    rows = conn.execute(select(interactions.c.source_id, interactions.c.id).where(
        interactions.c.source_system == system, interactions.c.source_id.in_(source_ids)))
    return {row.source_id: row.id for row in rows}


def id_of(conn: Connection, system: str, source_id: str) -> int:
    return int(conn.execute(select(interactions.c.id).where(
        interactions.c.source_system == system, interactions.c.source_id == source_id)).scalar_one())


# -- changing rows ---------------------------------------------------------------

def update_interaction(conn: Connection, interaction_id: int, **values: Any) -> None:
    conn.execute(update(interactions).where(interactions.c.id == interaction_id).values(**values))


def update_rows(conn: Connection, changes: dict[int, JSON]) -> None:
    """Many rows' changes (id → column values) in one ``executemany`` per set of columns touched."""
    groups: dict[tuple[str, ...], list[JSON]] = {}
    for interaction_id, values in changes.items():
        groups.setdefault(tuple(sorted(values)), []).append(
            {"row_id": interaction_id, **{f"v_{k}": v for k, v in values.items()}})
    for names, params in groups.items():
        conn.execute(_update_by_id(names), params)


@lru_cache(maxsize=64)
def _update_by_id(names: tuple[str, ...]) -> Any:
    """One prebuilt UPDATE per set of columns (a triage run uses a handful)."""
    return update(interactions).where(interactions.c.id == bindparam("row_id")).values(
        {name: bindparam(f"v_{name}") for name in names})


def delete_interaction(conn: Connection, interaction_id: int) -> None:
    conn.execute(delete(interactions).where(interactions.c.id == interaction_id))


def mark_thread_answered(conn: Connection, source_system: str, thread_id: str, before_id: int,
                         at: datetime | None) -> None:
    """The thread's earlier unanswered inbound messages got their answer at ``at``."""
    conn.execute(update(interactions).where(and_(
        interactions.c.source_system == source_system, interactions.c.thread_id == thread_id,
        interactions.c.direction == "inbound", interactions.c.id < before_id,
        interactions.c.answered_at.is_(None))).values(answered_at=at))


def mark_answered_at(conn: Connection, interaction_ids: list[int], at: datetime | None) -> None:
    """These messages (still unanswered) got their answer at ``at``."""
    if interaction_ids:
        conn.execute(update(interactions).where(and_(
            interactions.c.id.in_(interaction_ids), interactions.c.answered_at.is_(None))).values(answered_at=at))


def mark_routed(conn: Connection, record_type: str, record_id: int) -> None:
    """A ticket or comment now stands for the record: its interactions are routed."""
    if record_type == "feature_request":
        where = and_(interactions.c.feature_request_id == record_id, interactions.c.status == "triaged")
    elif record_type == "interaction":
        where = interactions.c.id == record_id
    else:
        return
    conn.execute(update(interactions).where(where, interactions.c.status != "deleted").values(status="routed"))


def mark_routed_many(conn: Connection, records: Iterable[tuple[str, int]]) -> None:
    """:func:`mark_routed` for many (record type, record id) pairs: one statement per record type."""
    wanted = set(records)
    ids = sorted(i for t, i in wanted if t == "interaction")
    frs = sorted(i for t, i in wanted if t == "feature_request")
    if ids:
        conn.execute(update(interactions).where(interactions.c.id.in_(ids), interactions.c.status != "deleted")
                     .values(status="routed"))
    if frs:
        conn.execute(update(interactions).where(interactions.c.feature_request_id.in_(frs),
                                                interactions.c.status == "triaged").values(status="routed"))


def mark_answered(conn: Connection, interaction_ids: list[int], at: datetime | None = None) -> None:
    """The customer got the answer: the SLA clock stops ``at`` or now (or stays where it stopped)."""
    # A deleted one stays deleted (its status is what keeps its text out of every page and count).
    conn.execute(update(interactions).where(interactions.c.id.in_(interaction_ids),
                                            interactions.c.status != "deleted").values(
        status="answered", answered_at=func.coalesce(interactions.c.answered_at, at or utcnow())))


def reassign_customer(conn: Connection, from_customer: int, to_customer: int) -> None:
    """Everything one customer wrote now belongs to another (a merge)."""
    conn.execute(update(interactions).where(interactions.c.customer_id == from_customer)
                 .values(customer_id=to_customer))
    first_contacts.forget(conn, [to_customer])  # an older message may have joined: looked up again


def assign_customer(conn: Connection, interaction_ids: list[int], customer_id: int) -> None:
    conn.execute(update(interactions).where(interactions.c.id.in_(interaction_ids)).values(customer_id=customer_id))
    first_contacts.forget(conn, [customer_id])  # the one it left heals itself: its row no longer matches


# -- triage -------------------------------------------------------------------------

def claim_new(conn: Connection, sources: list[str], after_id: int, limit: int) -> list[InteractionRow]:
    """The next page of new interactions from ``sources``, claimed for this transaction.

    Another pipeline triaging the same source at this moment skips these rows
    instead of planning a second ticket for them (a no-op on SQLite, where
    writers are serialised anyway).
    """
    return _rows(conn.execute(
        select(interactions).where(interactions.c.status == "new", interactions.c.source_system.in_(sources),
                                   interactions.c.id > after_id)
        .order_by(interactions.c.id).limit(limit).with_for_update(skip_locked=True)))


def first_inbound(conn: Connection, customer_ids: Iterable[int]) -> dict[int, int]:
    """Each customer's first inbound interaction id."""
    rows = conn.execute(select(interactions.c.customer_id, func.min(interactions.c.id)).where(
        interactions.c.customer_id.in_(list(customer_ids)), interactions.c.direction == "inbound")
        .group_by(interactions.c.customer_id))
    return {int(customer_id): int(first) for customer_id, first in rows}


def thread_starts(conn: Connection, thread_ids: Iterable[str]) -> list[InteractionRow]:
    """The first messages of these threads (in any source: the caller picks its own)."""
    return _rows(conn.execute(select(interactions).where(
        interactions.c.is_thread_start.is_(True), interactions.c.thread_id.in_(list(thread_ids)))))


def thread_rows(conn: Connection,
                threads: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str], list[InteractionRow]]:
    """Every message of these (source system, thread) pairs, oldest first, by thread."""
    wanted = {(s, t) for s, t in threads if t is not None}
    found: dict[tuple[str, str], list[InteractionRow]] = {key: [] for key in wanted}
    if not wanted:
        return found
    query = select(interactions).where(interactions.c.thread_id.in_({t for _, t in wanted})).order_by(interactions.c.id)
    for row in _rows(conn.execute(query)):
        key = (row["source_system"], str(row["thread_id"]))
        if key in found:
            found[key].append(row)
    return found


def askers(conn: Connection, record_type: str, record_id: int) -> list[InteractionRow]:
    """The inbound interactions a ticket stands for, oldest first; not the deleted ones (their author deleted
    them or was erased: nobody is answered or told in their thread)."""
    if record_type == "interaction":
        where = interactions.c.id == record_id
    elif record_type == "feature_request":
        where = interactions.c.feature_request_id == record_id
    else:
        return []
    return _rows(conn.execute(select(interactions).where(where, interactions.c.direction == "inbound",
                                                         interactions.c.status != "deleted")
                              .order_by(interactions.c.id)))


# -- feature requests -------------------------------------------------------------

def count_voters(conn: Connection, feature_request_id: int) -> int:
    """Distinct customers who asked for the feature (votes count people, not posts)."""
    return int(conn.execute(select(func.count(func.distinct(interactions.c.customer_id))).where(
        interactions.c.feature_request_id == feature_request_id, interactions.c.status != "deleted",
        interactions.c.direction == "inbound")).scalar_one())


def voters_of(conn: Connection, feature_request_ids: Iterable[int]) -> dict[int, int]:
    """:func:`count_voters` for many feature requests in one query (0 for one without voters)."""
    ids = sorted(set(feature_request_ids))
    if not ids:
        return {}
    rows = conn.execute(select(interactions.c.feature_request_id, func.count(func.distinct(interactions.c.customer_id)))
                        .where(interactions.c.feature_request_id.in_(ids), interactions.c.status != "deleted",
                               interactions.c.direction == "inbound").group_by(interactions.c.feature_request_id))
    return {**dict.fromkeys(ids, 0), **{int(fr_id): int(n) for fr_id, n in rows}}


def voices(conn: Connection, feature_request_id: int) -> list[Voice]:
    """Every inbound interaction behind a feature request with its author's name, oldest first."""
    rows = conn.execute(select(interactions.c.id, interactions.c.customer_id, customers.c.display_name,
                               interactions.c.channel, interactions.c.url, interactions.c.text,
                               interactions.c.created_at).join(
        customers, customers.c.id == interactions.c.customer_id, isouter=True).where(
        interactions.c.feature_request_id == feature_request_id, interactions.c.direction == "inbound",
        interactions.c.status != "deleted")  # its author took it back: no longer a voice on the ticket
        .order_by(interactions.c.created_at, interactions.c.id))
    return [Voice(*row) for row in rows]


# -- service levels ---------------------------------------------------------------

def _open_with_due(before: datetime) -> Any:
    return and_(interactions.c.direction == "inbound", interactions.c.status.in_(OPEN_STATUSES),
                interactions.c.answered_at.is_(None), interactions.c.sla_due.is_not(None),
                interactions.c.sla_due <= before)


def due_before(conn: Connection, before: datetime) -> list[SlaItem]:
    """Unanswered interactions due at or before ``before``, soonest first."""
    rows = conn.execute(select(interactions.c.id, interactions.c.source_system, interactions.c.source_id,
                               interactions.c.team, interactions.c.priority, interactions.c.sla_policy,
                               interactions.c.sla_due, interactions.c.title)
                        .where(_open_with_due(before)).order_by(interactions.c.sla_due)).mappings()
    return [cast(SlaItem, dict(row)) for row in rows]


def breached_since_seen(conn: Connection, now: datetime, sources: list[str]) -> list[InteractionRow]:
    """Unanswered interactions from ``sources`` past their due time, that were due after the hub saw them.

    A backfill of old posts must not page the team about history (those still
    show in ``continuum status``).
    """
    return _rows(conn.execute(select(interactions).where(
        _open_with_due(now), interactions.c.source_system.in_(sources),
        interactions.c.sla_due > interactions.c.first_seen_at)))


# -- a customer's history -------------------------------------------------------------

def ids_from(conn: Connection, customer_id: int, source_system: str) -> list[int]:
    """The customer's interactions read from one system."""
    return [row.id for row in conn.execute(select(interactions.c.id).where(
        interactions.c.customer_id == customer_id, interactions.c.source_system == source_system))]


def of_customer(conn: Connection, customer_id: int) -> list[InteractionRow]:
    """Everything the customer wrote, oldest first."""
    return _rows(conn.execute(select(interactions).where(interactions.c.customer_id == customer_id)
                              .order_by(interactions.c.created_at, interactions.c.id)))


def answers_to(conn: Connection, interaction_ids: list[int], feature_request_ids: list[int]) -> list[InteractionRow]:
    """The hub's answers to these interactions, and its notices about these feature requests."""
    return _rows(conn.execute(select(interactions).where(
        interactions.c.direction == "outbound",
        or_(interactions.c.in_reply_to.in_(interaction_ids or [-1]),
            interactions.c.feature_request_id.in_(feature_request_ids or [-1])))))
