"""Customers and their identities (one per account in each system)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, delete, func, or_, select, update

from continuum.connector import JSON
from continuum.store.base import insert_ignore, insert_ignore_all
from continuum.store.db import utcnow
from continuum.store.rows import CustomerRow, IdentityRow, NamedCustomer
from continuum.store.tables import audit_events, customers, identities, interactions


def get_customer(conn: Connection, customer_id: int) -> CustomerRow | None:
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).mappings().first()
    return None if row is None else cast(CustomerRow, dict(row))


def create_customer(conn: Connection, display_name: str, primary_email: str | None, tier: str,
                    now: datetime) -> int:
    return int(conn.execute(customers.insert().values(
        display_name=display_name, primary_email=primary_email, tier=tier, created_at=now, updated_at=now,
    ).returning(customers.c.id)).scalar_one())


def create_customers(conn: Connection, rows: list[JSON], now: datetime) -> list[int]:
    """Many new customers in one statement (each: display_name, primary_email, tier); their ids in row order."""
    if not rows:
        return []
    # Ids are matched to rows by their values, not by the order RETURNING gives them back: asking for that
    # order makes SQLite insert them one by one.  Rows with the same values are the same to anybody.
    result = conn.execute(customers.insert().returning(customers.c.id, customers.c.display_name,
                                                       customers.c.primary_email),
                          [{**row, "created_at": now, "updated_at": now} for row in rows])
    made: dict[tuple[str, str | None], list[int]] = {}
    for customer_id, name, email in sorted(result.all()):
        made.setdefault((name, email), []).append(int(customer_id))
    return [made[(row["display_name"], row["primary_email"])].pop(0) for row in rows]


def delete_customers(conn: Connection, customer_ids: list[int]) -> None:
    if customer_ids:
        conn.execute(delete(customers).where(customers.c.id.in_(customer_ids)))


def add_identities(conn: Connection, rows: list[JSON]) -> None:
    """:func:`add_identity` for many accounts in one statement."""
    insert_ignore_all(conn, identities, rows, ["system", "account_id"])


def update_customer(conn: Connection, customer_id: int, **values: object) -> None:
    """Change a customer's fields; ``updated_at`` is set to now."""
    conn.execute(update(customers).where(customers.c.id == customer_id).values(**values, updated_at=utcnow()))


def delete_customer(conn: Connection, customer_id: int) -> None:
    conn.execute(delete(customers).where(customers.c.id == customer_id))


def tiers(conn: Connection, customer_ids: Iterable[int]) -> dict[int, str]:
    rows = conn.execute(select(customers.c.id, customers.c.tier).where(customers.c.id.in_(list(customer_ids))))
    return {int(customer_id): tier for customer_id, tier in rows}


def unmerged_names(conn: Connection) -> list[NamedCustomer]:
    """Every customer still standing on its own, once per identity, with that identity's handle and e-mail."""
    rows = conn.execute(select(customers.c.id, customers.c.display_name, identities.c.handle, identities.c.email)
                        .join(identities, identities.c.customer_id == customers.c.id)
                        .where(customers.c.merged_into.is_(None)))
    return [NamedCustomer(*row) for row in rows]


# -- identities ---------------------------------------------------------------------

def people(conn: Connection, customer_ids: Iterable[int]) -> dict[int, tuple[CustomerRow, list[IdentityRow]]]:
    """Customers with their identities, by id, in two queries (what a page's templates speak of)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    found: dict[int, tuple[CustomerRow, list[IdentityRow]]] = {
        int(row["id"]): (cast(CustomerRow, dict(row)), []) for row in conn.execute(
            select(customers).where(customers.c.id.in_(ids))).mappings()}
    for row in conn.execute(select(identities).where(identities.c.customer_id.in_(ids))
                            .order_by(identities.c.id)).mappings():
        if row["customer_id"] in found:
            found[int(row["customer_id"])][1].append(cast(IdentityRow, dict(row)))
    return found


def owner_of(conn: Connection, system: str, account_id: str) -> int | None:
    """The customer an account belongs to, if the hub has seen the account."""
    found = conn.execute(select(identities.c.customer_id).where(
        identities.c.system == system, identities.c.account_id == account_id)).first()
    return None if found is None else int(found.customer_id)


def owners_of(conn: Connection, system: str, account_ids: list[str]) -> dict[str, int]:
    """:func:`owner_of` for many accounts of one system, in one query."""
    rows = conn.execute(select(identities.c.account_id, identities.c.customer_id).where(
        identities.c.system == system, identities.c.account_id.in_(account_ids)))
    return {row.account_id: int(row.customer_id) for row in rows}


def owner_of_verified_email(conn: Connection, email: str) -> int | None:
    row = conn.execute(select(identities.c.customer_id).where(
        identities.c.email == email, identities.c.email_verified.is_(True)).limit(1)).first()
    return None if row is None else int(row.customer_id)


def identities_with_accounts(conn: Connection, system: str, account_ids: list[str]) -> list[IdentityRow]:
    """The identities of these accounts of one system (one query)."""
    rows = conn.execute(select(identities).where(identities.c.system == system,
                                                 identities.c.account_id.in_(account_ids))).mappings()
    return [cast(IdentityRow, dict(row)) for row in rows]


def set_identity_handle(conn: Connection, identity_id: int, handle: str) -> None:
    conn.execute(update(identities).where(identities.c.id == identity_id).values(handle=handle))


def rename_if_named(conn: Connection, customer_id: int, old: str, new: str) -> bool:
    """The customer's display name becomes ``new`` where it was the handle ``old``; True when it changed."""
    return bool(conn.execute(update(customers).where(customers.c.id == customer_id, customers.c.display_name == old)
                             .values(display_name=new, updated_at=utcnow())).rowcount)


def add_identity(conn: Connection, identity: JSON) -> None:
    """Register an account; if another run registered it first, theirs stands."""
    insert_ignore(conn, identities, [identity], ["system", "account_id"])


def with_identity_outside(conn: Connection, customer_ids: Iterable[int], systems: Iterable[str]) -> set[int]:
    """Which of these customers have an identity in a system other than ``systems``."""
    return set(conn.execute(select(identities.c.customer_id).where(
        identities.c.customer_id.in_(list(customer_ids)), identities.c.system.not_in(list(systems))).distinct())
        .scalars())


def handle_in(conn: Connection, customer_id: int, system: str) -> str | None:
    """The customer's handle in ``system`` (None when they have no identity there)."""
    row = conn.execute(select(identities.c.handle).where(
        identities.c.customer_id == customer_id, identities.c.system == system)).first()
    return None if row is None else cast("str | None", row.handle)


def identities_of(conn: Connection, customer_id: int) -> list[IdentityRow]:
    rows = conn.execute(select(identities).where(identities.c.customer_id == customer_id)).mappings()
    return [cast(IdentityRow, dict(row)) for row in rows]


def identity_of(conn: Connection, customer_id: int, system: str, account_id: str) -> IdentityRow | None:
    row = conn.execute(select(identities).where(
        identities.c.customer_id == customer_id, identities.c.system == system,
        identities.c.account_id == account_id)).mappings().first()
    return None if row is None else cast(IdentityRow, dict(row))


def has_other_identity(conn: Connection, customer_id: int, identity_id: int) -> bool:
    return conn.execute(select(identities.c.id).where(
        identities.c.customer_id == customer_id, identities.c.id != identity_id)).first() is not None


def move_identities(conn: Connection, from_customer: int, to_customer: int) -> list[int]:
    """Every identity of one customer goes to another; returns the ids moved."""
    moved = [r.id for r in conn.execute(select(identities.c.id).where(identities.c.customer_id == from_customer))]
    conn.execute(update(identities).where(identities.c.customer_id == from_customer).values(customer_id=to_customer))
    return moved


def move_identity(conn: Connection, identity_id: int, customer_id: int) -> None:
    conn.execute(update(identities).where(identities.c.id == identity_id).values(customer_id=customer_id))


def identity_named(conn: Connection, customer_id: int, system: str, name: str) -> IdentityRow | None:
    """The customer's identity in ``system`` whose account id, handle or e-mail is ``name`` (as `show` prints it)."""
    rows = conn.execute(select(identities).where(
        identities.c.customer_id == customer_id, identities.c.system == system,
        or_(identities.c.account_id == name, func.lower(identities.c.handle) == name.lower(),
            func.lower(identities.c.email) == name.lower()))).mappings().all()
    exact = [row for row in rows if row["account_id"] == name]
    chosen = exact or rows
    return cast(IdentityRow, dict(chosen[0])) if len(chosen) == 1 else None


def merge_that_moved(conn: Connection, customer_id: int, identity_id: int) -> JSON | None:
    """The latest merge into ``customer_id`` that brought ``identity_id`` with it (its audit event's changes)."""
    rows = conn.execute(select(audit_events.c.changes).where(
        audit_events.c.record_type == "customer", audit_events.c.record_id == customer_id,
        audit_events.c.action == "merged").order_by(audit_events.c.id.desc()))
    for (changes,) in rows:
        if identity_id in ((changes or {}).get("identities") or []):
            return dict(changes)
    return None


def summaries(conn: Connection, text: str | None = None, limit: int = 100) -> list[JSON]:
    """Customers standing on their own, with their identities and how many interactions they wrote; with
    ``text``, only those whose name, handle or e-mail contains it (any case)."""
    query = select(customers.c.id).where(customers.c.merged_into.is_(None))
    if text:
        like = f"%{text.lower()}%"
        matching = select(identities.c.customer_id).where(or_(
            func.lower(identities.c.handle).like(like), func.lower(identities.c.email).like(like),
            identities.c.account_id == text))
        query = query.where(or_(func.lower(customers.c.display_name).like(like),
                                func.lower(customers.c.primary_email).like(like), customers.c.id.in_(matching)))
    ids = list(conn.execute(query.order_by(customers.c.id).limit(limit)).scalars())
    if not ids:
        return []
    people = {row["id"]: {**dict(row), "identities": [], "interactions": 0} for row in conn.execute(
        select(customers).where(customers.c.id.in_(ids))).mappings()}
    for row in conn.execute(select(identities).where(identities.c.customer_id.in_(ids)).order_by(identities.c.id)):
        people[row.customer_id]["identities"].append(
            {"system": row.system, "account_id": row.account_id, "handle": row.handle, "email": row.email})
    for customer_id, n in conn.execute(select(interactions.c.customer_id, func.count()).where(
            interactions.c.customer_id.in_(ids)).group_by(interactions.c.customer_id)):
        people[customer_id]["interactions"] = int(n)
    return [people[i] for i in ids]
