"""The facts a triage rule can test, computed once per interaction.

Rules read like a person's judgement ("a VIP's first contact in German");
this module turns the store into those words.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, exists, select

from continuum.store.tables import customers, identities, interactions, links

MIN_WORDS_FOR_LANGUAGE = 4  # shorter texts ("+1", "lol") give a random guess


@lru_cache(maxsize=1)
def _identifier() -> Any:
    import py3langid

    return py3langid


def detect_language(text: str) -> str | None:
    words = re.findall(r"[^\W\d_]{2,}", text)
    # Scripts without spaces (Japanese, Chinese) count by characters instead of words.
    if len(words) < MIN_WORDS_FOR_LANGUAGE and len("".join(words)) < 8:
        return None
    code, _score = _identifier().classify(text[:2000])
    return str(code)


def thread_root(conn: Connection, row: dict[str, Any]) -> dict[str, Any] | None:
    if row.get("thread_id") is None or row.get("is_thread_start"):
        return None
    found = conn.execute(select(interactions).where(
        interactions.c.source_system == row["source_system"], interactions.c.thread_id == row["thread_id"],
        interactions.c.is_thread_start.is_(True))).mappings().first()
    return None if found is None else dict(found)


def interaction_facts(conn: Connection, row: dict[str, Any], channel_systems: set[str]) -> dict[str, Any]:
    """Language, the author's tier / CRM status / first contact, and the thread's state."""
    facts: dict[str, Any] = {"language": row.get("language") or detect_language(row.get("text") or "")}
    customer_id = row.get("customer_id")
    if customer_id is not None:
        customer = conn.execute(select(customers.c.tier).where(customers.c.id == customer_id)).first()
        facts["tier"] = customer.tier if customer else None
        # A CRM record is an identity outside the channels the hub listens to.
        facts["known_customer"] = conn.execute(select(exists().where(and_(
            identities.c.customer_id == customer_id, identities.c.system.not_in(channel_systems))))).scalar()
        facts["first_contact"] = not conn.execute(select(exists().where(and_(
            interactions.c.customer_id == customer_id, interactions.c.id < row["id"],
            interactions.c.direction == "inbound")))).scalar()
    root = thread_root(conn, row)
    ticket_owner = root if root is not None else row
    facts["thread_has_ticket"] = bool(root is not None and (root.get("feature_request_id") or conn.execute(
        select(exists().where(and_(links.c.record_type == "interaction", links.c.record_id == ticket_owner["id"]))))
        .scalar()))
    facts["thread_root"] = root
    return facts
