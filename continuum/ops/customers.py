"""Customers as people see them: merge, split, suggestions, import, and one timeline.

Automatic joins happen only on certain evidence (same account, same verified
e-mail, same CRM id).  Everything fuzzier is a *suggestion* a person
confirms with ``merge``; ``split`` undoes a wrong join one identity at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.engine.identity import resolve_customer
from continuum.store import customers, interactions
from continuum.store.audit import audit, author_of
from continuum.store.db import utcnow
from continuum.store.links import tickets_of
from continuum.store.rows import CustomerRow


class CustomerError(ValueError):
    pass


def _customer(conn: Connection, customer_id: int) -> CustomerRow:
    row = customers.get_customer(conn, customer_id)
    if row is None:
        raise CustomerError(f"no customer {customer_id}")
    if row["merged_into"] is not None:
        raise CustomerError(f"customer {customer_id} was merged into {row['merged_into']}; use that id")
    return row


def merge(conn: Connection, keep: int, absorb: int) -> None:
    """Make ``absorb`` part of ``keep``: identities and interactions move; ``absorb`` remains as a pointer."""
    if keep == absorb:
        raise CustomerError("a customer cannot be merged into itself")
    kept, absorbed = _customer(conn, keep), _customer(conn, absorb)
    moved = customers.move_identities(conn, absorb, keep)
    interactions.reassign_customer(conn, absorb, keep)
    tier = kept["tier"] if kept["tier"] != "standard" else absorbed["tier"]
    customers.update_customer(conn, absorb, merged_into=keep)
    customers.update_customer(conn, keep, tier=tier, primary_email=kept["primary_email"] or absorbed["primary_email"],
                              owner=kept["owner"] or absorbed["owner"])
    # What the kept customer was before: a split of these identities gives back exactly that.
    audit(conn, "customer", keep, "merged", {"absorbed": absorb, "identities": moved,
                                             "before": {"tier": kept["tier"], "primary_email": kept["primary_email"]}})


def split(conn: Connection, customer_id: int, system: str, account_id: str) -> int:
    """Move one identity (and what it wrote) out of a customer into a new one; returns the new id."""
    owner = _customer(conn, customer_id)
    identity = customers.identity_named(conn, customer_id, system, account_id)
    if identity is None:
        known = ", ".join(f"{i['system']}:{i['handle'] or i['account_id']}"
                          for i in customers.identities_of(conn, customer_id))
        raise CustomerError(f"customer {customer_id} has no identity {system}:{account_id} (it has: {known})")
    if not customers.has_other_identity(conn, customer_id, identity["id"]):
        raise CustomerError(f"{system}:{account_id} is customer {customer_id}'s only identity; nothing to split")
    account_id = identity["account_id"]
    merge = customers.merge_that_moved(conn, customer_id, identity["id"])
    absorbed = customers.get_customer(conn, int(merge["absorbed"])) if merge else None
    if merge is not None and absorbed is not None and absorbed["merged_into"] == customer_id:
        # Undo that merge for this identity: the person it belonged to stands again, with their own name,
        # e-mail and tier; the kept customer gets back what the merge had lent it.
        new_id = absorbed["id"]
        customers.update_customer(conn, new_id, merged_into=None)
        before = merge.get("before") or {}
        restore = {k: v for k, v in before.items() if owner[k] != v and owner[k] == absorbed[k]}  # type: ignore[literal-required]
        if restore:
            customers.update_customer(conn, customer_id, **restore)
    else:
        # A person nobody merged in: a customer of their own, who earned no one else's tier.
        new_id = customers.create_customer(conn, identity["handle"] or account_id, identity["email"], "standard",
                                           utcnow())
    customers.move_identity(conn, identity["id"], new_id)
    # What that account wrote goes with it: its interactions' source is that identity's system.
    ids = interactions.ids_from(conn, customer_id, system)
    mine = [i for i in ids if author_of(conn, i) in (None, account_id)]
    if mine:
        interactions.assign_customer(conn, mine, new_id)
    audit(conn, "customer", customer_id, "split", {"identity": f"{system}:{account_id}", "new_customer": new_id,
                                                  "interactions": mine})
    return new_id


def suggest(conn: Connection, threshold: float = 88.0, limit: int = 50) -> list[JSON]:
    """Pairs of customers that may be one person, for a person to confirm; never merged automatically."""
    people: dict[int, set[str]] = {}
    for row in customers.unmerged_names(conn):
        names = people.setdefault(row.id, set())
        for value in (row.display_name, row.handle, (row.email or "").split("@")[0]):
            if value:
                names.add(value.lower().replace(".", " ").replace("_", " "))
    ids = sorted(people)
    labels = [" / ".join(sorted(people[i])) for i in ids]
    found: list[JSON] = []
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
    customers.update_customer(conn, customer_id, tier=tier)
    audit(conn, "customer", customer_id, "tier", {"tier": tier})


def import_records(conn: Connection, records: Iterable[dict[str, Any]], system: str = "crm") -> int:
    """Known customers from a CRM export: name, e-mail (verified), tier and CRM id."""
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


def timeline(conn: Connection, customer_id: int) -> JSON:
    """One customer's identities and every interaction across channels, with the tickets they touch."""
    customer = _customer(conn, customer_id)
    ids = customers.identities_of(conn, customer_id)
    mine = interactions.of_customer(conn, customer_id)
    mine_ids = [row["id"] for row in mine]
    fr_ids = [fr for row in mine if (fr := row["feature_request_id"])]
    answers = interactions.answers_to(conn, mine_ids, fr_ids)
    tickets = tickets_of(conn, mine_ids, fr_ids)
    events = sorted([dict(r) for r in mine] + [dict(r) for r in answers],
                    key=lambda r: (str(r["created_at"] or r["first_seen_at"]), r["id"]))
    return {"customer": dict(customer), "identities": [dict(i) for i in ids], "timeline": events,
            "tickets": [dict(t) for t in tickets]}
