"""Customers as people see them: merge, split, suggestions, import, and one timeline.

Automatic joins happen only on certain evidence (same account, same verified
e-mail, same CRM id).  Everything fuzzier is a *suggestion* a person
confirms with ``merge``; ``split`` undoes a wrong join one identity at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Connection, and_, or_, select, update

from continuum.store import repo
from continuum.store.db import utcnow
from continuum.store.tables import audit_events, customers, identities, interactions, links


class CustomerError(ValueError):
    pass


def _customer(conn: Connection, customer_id: int) -> dict[str, Any]:
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).mappings().first()
    if row is None:
        raise CustomerError(f"no customer {customer_id}")
    if row["merged_into"] is not None:
        raise CustomerError(f"customer {customer_id} was merged into {row['merged_into']}; use that id")
    return dict(row)


def merge(conn: Connection, keep: int, absorb: int) -> None:
    """Make ``absorb`` part of ``keep``: identities and interactions move; ``absorb`` remains as a pointer."""
    if keep == absorb:
        raise CustomerError("a customer cannot be merged into itself")
    kept, absorbed = _customer(conn, keep), _customer(conn, absorb)
    moved = [r.id for r in conn.execute(select(identities.c.id).where(identities.c.customer_id == absorb))]
    conn.execute(update(identities).where(identities.c.customer_id == absorb).values(customer_id=keep))
    conn.execute(update(interactions).where(interactions.c.customer_id == absorb).values(customer_id=keep))
    tier = kept["tier"] if kept["tier"] != "standard" else absorbed["tier"]
    conn.execute(update(customers).where(customers.c.id == absorb).values(merged_into=keep, updated_at=utcnow()))
    conn.execute(update(customers).where(customers.c.id == keep).values(
        tier=tier, primary_email=kept["primary_email"] or absorbed["primary_email"], updated_at=utcnow()))
    repo.audit(conn, "customer", keep, "merged", {"absorbed": absorb, "identities": moved})


def split(conn: Connection, customer_id: int, system: str, account_id: str) -> int:
    """Move one identity (and what it wrote) out of a customer into a new one; returns the new id."""
    owner = _customer(conn, customer_id)
    identity = conn.execute(select(identities).where(and_(
        identities.c.customer_id == customer_id, identities.c.system == system,
        identities.c.account_id == account_id))).mappings().first()
    if identity is None:
        raise CustomerError(f"customer {customer_id} has no identity {system}:{account_id}")
    others = conn.execute(select(identities.c.id).where(
        identities.c.customer_id == customer_id, identities.c.id != identity["id"])).first()
    if others is None:
        raise CustomerError(f"{system}:{account_id} is customer {customer_id}'s only identity; nothing to split")
    now = utcnow()
    new_id = int(conn.execute(customers.insert().values(
        display_name=identity["handle"] or account_id, primary_email=identity["email"], tier=owner["tier"],
        created_at=now, updated_at=now).returning(customers.c.id)).scalar_one())
    conn.execute(update(identities).where(identities.c.id == identity["id"]).values(customer_id=new_id))
    # What that account wrote goes with it: its interactions' source is that identity's system.
    written = select(interactions.c.id).where(
        interactions.c.customer_id == customer_id, interactions.c.source_system == system)
    ids = [r.id for r in conn.execute(written)]
    mine = [i for i in ids if _author_of(conn, i) in (None, account_id)]
    if mine:
        conn.execute(update(interactions).where(interactions.c.id.in_(mine)).values(customer_id=new_id))
    repo.audit(conn, "customer", customer_id, "split", {"identity": f"{system}:{account_id}", "new_customer": new_id,
                                                       "interactions": mine})
    return new_id


def _author_of(conn: Connection, interaction_id: int) -> str | None:
    """The account that wrote an interaction, from its creation audit (None if not recorded)."""
    row = conn.execute(select(audit_events.c.changes).where(
        audit_events.c.record_type == "interaction", audit_events.c.record_id == interaction_id,
        audit_events.c.action == "created")).first()
    return None if row is None else (row.changes or {}).get("author_account_id")


def suggest(conn: Connection, threshold: float = 88.0, limit: int = 50) -> list[dict[str, Any]]:
    """Pairs of customers that may be one person, for a person to confirm; never merged automatically."""
    rows = conn.execute(select(customers.c.id, customers.c.display_name, identities.c.handle, identities.c.email)
                        .join(identities, identities.c.customer_id == customers.c.id)
                        .where(customers.c.merged_into.is_(None))).all()
    people: dict[int, set[str]] = {}
    for row in rows:
        names = people.setdefault(row.id, set())
        for value in (row.display_name, row.handle, (row.email or "").split("@")[0]):
            if value:
                names.add(value.lower().replace(".", " ").replace("_", " "))
    ids = sorted(people)
    labels = [" / ".join(sorted(people[i])) for i in ids]
    found: list[dict[str, Any]] = []
    for index, customer_id in enumerate(ids):
        for _, score, other_index in process.extract(labels[index], labels, scorer=fuzz.token_set_ratio,
                                                     score_cutoff=threshold, limit=10):
            other = ids[other_index]
            if other > customer_id:
                found.append({"a": customer_id, "b": other, "score": round(score, 1),
                              "a_names": labels[index], "b_names": labels[other_index]})
    found.sort(key=lambda pair: -pair["score"])
    return found[:limit]


def set_tier(conn: Connection, customer_id: int, tier: str) -> None:
    _customer(conn, customer_id)
    conn.execute(update(customers).where(customers.c.id == customer_id).values(tier=tier, updated_at=utcnow()))
    repo.audit(conn, "customer", customer_id, "tier", {"tier": tier})


def import_records(conn: Connection, records: Iterable[dict[str, Any]], system: str = "crm") -> int:
    """Known customers from a CRM export: name, e-mail (verified), tier and CRM id."""
    from continuum.engine.identity import resolve_customer

    count = 0
    for record in records:
        crm_id = str(record.get("crm_id") or record.get("id") or "").strip()
        if not crm_id:
            raise CustomerError(f"record {record!r} has no crm_id")
        customer_id = resolve_customer(conn, system, {
            "author_account_id": crm_id, "author_name": record.get("name"), "author_handle": record.get("name"),
            "author_email": record.get("email"), "author_email_verified": bool(record.get("email"))})
        if record.get("tier"):
            set_tier(conn, customer_id, str(record["tier"]))
        count += 1
    return count


def timeline(conn: Connection, customer_id: int) -> dict[str, Any]:
    """One customer's identities and every interaction across channels, with the tickets they touch."""
    customer = _customer(conn, customer_id)
    ids = conn.execute(select(identities).where(identities.c.customer_id == customer_id)).mappings().all()
    mine = conn.execute(select(interactions).where(interactions.c.customer_id == customer_id)
                        .order_by(interactions.c.created_at, interactions.c.id)).mappings().all()
    mine_ids = [row["id"] for row in mine]
    fr_ids = [row["feature_request_id"] for row in mine if row["feature_request_id"]]
    answers = conn.execute(select(interactions).where(
        interactions.c.direction == "outbound",
        or_(interactions.c.in_reply_to.in_(mine_ids or [-1]), interactions.c.feature_request_id.in_(fr_ids or [-1])))
    ).mappings().all()
    tickets = conn.execute(select(links).where(or_(
        and_(links.c.record_type == "interaction", links.c.record_id.in_(mine_ids or [-1])),
        and_(links.c.record_type == "feature_request", links.c.record_id.in_(fr_ids or [-1]))))).mappings().all()
    events = sorted([dict(r) for r in mine] + [dict(r) for r in answers],
                    key=lambda r: (str(r["created_at"] or r["first_seen_at"]), r["id"]))
    return {"customer": customer, "identities": [dict(i) for i in ids], "timeline": events,
            "tickets": [dict(t) for t in tickets]}
