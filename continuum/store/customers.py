"""Customers and their identities (one per account in each system)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, delete, select, update

from continuum.connector import JSON
from continuum.store.base import insert_ignore
from continuum.store.db import utcnow
from continuum.store.rows import CustomerRow, IdentityRow, NamedCustomer
from continuum.store.tables import customers, identities


def get_customer(conn: Connection, customer_id: int) -> CustomerRow | None:
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).mappings().first()
    return None if row is None else cast(CustomerRow, dict(row))


def create_customer(conn: Connection, display_name: str, primary_email: str | None, tier: str,
                    now: datetime) -> int:
    return int(conn.execute(customers.insert().values(
        display_name=display_name, primary_email=primary_email, tier=tier, created_at=now, updated_at=now,
    ).returning(customers.c.id)).scalar_one())


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
