"""Know the customer: resolve a message's author to one Customer across channels.

Only certain evidence joins two identities automatically: the same account
in the same system, or the same *verified* e-mail.  Anything fuzzier is a
suggestion for a person, never an automatic merge.

An account is known by its stable id, never by its handle: people rename
themselves (X, Mastodon and Reddit let them), and the same id with a new
handle is the same customer, whose identity (and display name, where it was
the handle) follows the rename (:func:`follow_renames`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from continuum.store import customers
from continuum.store.audit import audit, audit_many
from continuum.store.db import utcnow


def resolve_customer(conn: Connection, system: str, canonical: Mapping[str, Any]) -> int:
    account_id = str(canonical["author_account_id"])
    found = customers.owner_of(conn, system, account_id)
    if found is not None:
        return found
    email = (canonical.get("author_email") or "").strip().lower() or None
    verified = bool(canonical.get("author_email_verified"))
    customer_id = customers.owner_of_verified_email(conn, email) if email and verified else None
    created_customer = False
    now = utcnow()
    if customer_id is None:
        customer_id = customers.create_customer(
            conn, canonical.get("author_name") or canonical.get("author_handle") or account_id, email, "standard",
            now)
        created_customer = True
    customers.add_identity(conn, {
        "customer_id": customer_id, "system": system, "account_id": account_id,
        "handle": canonical.get("author_handle"), "email": email, "email_verified": verified, "created_at": now,
    })
    owner = customers.owner_of(conn, system, account_id)
    if owner is None:  # pragma: no cover - the insert above or a concurrent one made it
        raise RuntimeError(f"identity {system}:{account_id} vanished while it was being registered")
    if owner != customer_id and created_customer:
        # A concurrent run registered this identity first; drop our now-unused customer.
        customers.delete_customer(conn, customer_id)
    if owner == customer_id and created_customer:
        audit(conn, "customer", customer_id, "created", {"system": system, "account_id": account_id})
    return owner


def resolve_new_customers(conn: Connection, system: str, canonicals: Sequence[Mapping[str, Any]],
                          pipeline: str | None = None) -> dict[str, int]:
    """:func:`resolve_customer` for a page's authors the hub has not seen yet, in a few statements.

    The caller has looked their accounts up already (none has an identity in ``system``).  An author with a
    verified e-mail may join an existing customer: that rare case goes through :func:`resolve_customer`.
    The others get one customer each, made in one statement, and their identities in another; an account
    another run registered meanwhile keeps that run's customer and ours is dropped, as one by one.
    Returns account id → customer id.
    """
    first: dict[str, Mapping[str, Any]] = {}
    for canonical in canonicals:
        first.setdefault(str(canonical["author_account_id"]), canonical)
    found: dict[str, int] = {}
    plain: dict[str, Mapping[str, Any]] = {}
    for account_id, canonical in first.items():
        if canonical.get("author_email_verified") and (canonical.get("author_email") or "").strip():
            found[account_id] = resolve_customer(conn, system, canonical)
        else:
            plain[account_id] = canonical
    if not plain:
        return found
    now = utcnow()
    emails = {a: (c.get("author_email") or "").strip().lower() or None for a, c in plain.items()}
    made = dict(zip(plain, customers.create_customers(conn, [
        {"display_name": c.get("author_name") or c.get("author_handle") or a, "primary_email": emails[a],
         "tier": "standard"} for a, c in plain.items()], now), strict=True))
    customers.add_identities(conn, [{
        "customer_id": made[a], "system": system, "account_id": a, "handle": c.get("author_handle"),
        "email": emails[a], "email_verified": bool(c.get("author_email_verified")), "created_at": now}
        for a, c in plain.items()])
    owners = customers.owners_of(conn, system, list(plain))
    if set(owners) != set(plain):  # pragma: no cover - the insert above or a concurrent one made each
        raise RuntimeError(f"identities in {system} vanished while they were being registered")
    # A concurrent run registered some of these first; drop our now-unused customers.
    customers.delete_customers(conn, [made[a] for a in plain if owners[a] != made[a]])
    audit_many(conn, [{"record_type": "customer", "record_id": made[a], "action": "created",
                       "changes": {"system": system, "account_id": a}} for a in plain if owners[a] == made[a]])
    return {**found, **owners}


def follow_renames(conn: Connection, system: str, canonicals: Sequence[Mapping[str, Any]],
                   pipeline: str | None = None) -> int:
    """Known accounts of the page that now carry another handle: update them (one query finds them all).

    The latest record of an account in the page wins (pages come oldest first).  Returns how many changed."""
    latest: dict[str, str] = {}
    for canonical in canonicals:
        handle = canonical.get("author_handle")
        if canonical.get("author_account_id") and isinstance(handle, str) and handle:
            latest[str(canonical["author_account_id"])] = handle
    if not latest:
        return 0
    changed = 0
    for known in customers.identities_with_accounts(conn, system, list(latest)):
        new, old = latest[known["account_id"]], known["handle"]
        if new == old:
            continue
        customers.set_identity_handle(conn, known["id"], new)
        renamed = customers.rename_if_named(conn, known["customer_id"], old, new) if old else False
        audit(conn, "customer", known["customer_id"], "handle_changed",
              {"system": system, "account_id": known["account_id"], "from": old, "to": new,
               "display_name_followed": renamed}, pipeline, system)
        changed += 1
    return changed
