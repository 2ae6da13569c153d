"""The facts a triage rule can test, computed once per interaction.

Rules read like a person's judgement ("a VIP's first contact in German");
this module turns the store into those words.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.engine.conversations import branch_starts
from continuum.store import customers, first_contacts, interactions
from continuum.store.links import links_of
from continuum.store.rows import InteractionRow, LinkRow

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


class PageFacts:
    """The facts for a page of interactions, loaded with a handful of queries instead of several per row.

    Triage changes thread roots as it goes (a root gets its feature request
    before its follow-ups are triaged in the same page), so it tells this
    object what it set with :meth:`remember`.
    """

    def __init__(self, conn: Connection, rows: list[InteractionRow], channel_systems: set[str],
                 detect: bool) -> None:
        self.detect = detect
        ids = {customer for r in rows if (customer := r.get("customer_id")) is not None}
        self.tier = customers.tiers(conn, ids)
        # A CRM record is an identity outside the channels the hub listens to.
        self.known = customers.with_identity_outside(conn, ids, channel_systems)
        self.first = first_contacts.firsts(conn, ids)
        wanted = {(r["source_system"], thread) for r in rows
                  if not r.get("is_thread_start") and (thread := r.get("thread_id")) is not None}
        found = interactions.thread_starts(conn, {thread for _, thread in wanted}) if wanted else []
        self.roots: dict[tuple[str, str | None], JSON] = {
            (r["source_system"], r["thread_id"]): dict(r) for r in found
            if (r["source_system"], r["thread_id"]) in wanted}
        self._by_id = {root["id"]: root for root in self.roots.values()}
        self.branch_root = self._branches(conn, rows)
        # The roots' counterparts, once: a follow-up finds its thread's ticket here, not with a query of its own.
        self.root_links = links_of(conn, "interaction", self._by_id)
        self.ticketed = {record_id for record_id, _system in self.root_links}

    def link_of(self, root_id: int, system: str) -> LinkRow | None:
        """The ticket a thread root of this page got in ``system`` (links are made by apply, never in triage)."""
        return self.root_links.get((root_id, system))

    def _branches(self, conn: Connection, rows: list[InteractionRow]) -> dict[int, JSON]:
        """Under the company's own post each customer's comment starts its own conversation: a reply
        under it has that comment as its root (a "+1" there is a vote for what the comment asked)."""
        company = {key for key, root in self.roots.items() if root["direction"] == "outbound"}
        page = {r["id"] for r in rows if (r["source_system"], r.get("thread_id")) in company}
        if not page:
            return {}
        found: dict[int, JSON] = {}
        for (_system, thread), members in interactions.thread_rows(conn, company).items():
            by_id = {m["id"]: m for m in members}
            for reply, top in branch_starts(str(thread), members).items():
                if reply in page:
                    found[reply] = self._by_id.setdefault(top, dict(by_id[top]))
        return found

    def remember(self, interaction_id: int, values: JSON) -> None:
        root = self._by_id.get(interaction_id)
        if root is not None:
            root.update(values)

    def of(self, row: InteractionRow) -> JSON:
        """Language, the author's tier / CRM status / first contact, and the thread's state."""
        language = row.get("language") or (detect_language(row.get("text") or "") if self.detect else None)
        customer_id = row.get("customer_id")
        root = None if row.get("is_thread_start") else self.branch_root.get(row["id"]) or self.roots.get(
            (row["source_system"], row.get("thread_id")))
        return {
            "language": language,
            "tier": self.tier.get(customer_id) if customer_id is not None else None,
            "known_customer": customer_id in self.known,
            "first_contact": customer_id is not None and self.first.get(customer_id) == row["id"],
            "thread_has_ticket": bool(root is not None and (root.get("feature_request_id")
                                                            or root["id"] in self.ticketed)),
            "thread_root": root,
        }
