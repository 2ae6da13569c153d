"""Know the customer: resolve a message's author to one Customer across channels.

Only certain evidence joins two identities automatically: the same account
in the same system, or the same *verified* e-mail.  Anything fuzzier is a
suggestion for a person, never an automatic merge.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select

from continuum.store import repo
from continuum.store.db import utcnow
from continuum.store.tables import customers, identities


def resolve_customer(conn: Connection, system: str, canonical: dict[str, Any]) -> int:
    account_id = str(canonical["author_account_id"])
    found = conn.execute(select(identities.c.customer_id).where(
        identities.c.system == system, identities.c.account_id == account_id)).first()
    if found is not None:
        return int(found.customer_id)
    email = (canonical.get("author_email") or "").strip().lower() or None
    verified = bool(canonical.get("author_email_verified"))
    customer_id = _customer_by_verified_email(conn, email) if email and verified else None
    created_customer = False
    now = utcnow()
    if customer_id is None:
        customer_id = int(conn.execute(customers.insert().values(
            display_name=canonical.get("author_name") or canonical.get("author_handle") or account_id,
            primary_email=email, tier="standard", created_at=now, updated_at=now,
        ).returning(customers.c.id)).scalar_one())
        created_customer = True
    repo.insert_ignore(conn, identities, [{
        "customer_id": customer_id, "system": system, "account_id": account_id,
        "handle": canonical.get("author_handle"), "email": email, "email_verified": verified, "created_at": now,
    }], ["system", "account_id"])
    owner = int(conn.execute(select(identities.c.customer_id).where(
        identities.c.system == system, identities.c.account_id == account_id)).scalar_one())
    if owner != customer_id and created_customer:
        # A concurrent run registered this identity first; drop our now-unused customer.
        conn.execute(delete(customers).where(customers.c.id == customer_id))
    if owner == customer_id and created_customer:
        repo.audit(conn, "customer", customer_id, "created", {"system": system, "account_id": account_id})
    return owner


def _customer_by_verified_email(conn: Connection, email: str) -> int | None:
    row = conn.execute(select(identities.c.customer_id).where(
        identities.c.email == email, identities.c.email_verified.is_(True)).limit(1)).first()
    return None if row is None else int(row.customer_id)
