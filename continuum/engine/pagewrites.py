"""A triage page's writes, gathered in memory and written in a few statements at the end of the page.

Per record, triage used to send about one statement per interaction on top of
the page's own: an update and an audit row each, and for a vote four more
(link the interaction, recount the votes, add the member, audit it), for a
ticket three (customer, handle, outbox row).  Here the page's rows are
updated with one ``executemany`` per set of columns, each touched feature
request's votes are recounted ONCE (after its votes are linked), members,
audit rows and planned effects go in with one statement each, and the
customers a template speaks of are loaded once for the page.

Everything stays in the page's one transaction, so a crash still keeps all of
the page or none of it.  Nothing in a triage page reads the outbox, the votes
or the members back before :meth:`PageWrites.flush`: that is what makes
holding them safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.engine.facts import PageFacts
from continuum.engine.outbound import forget_people, prefetch_people
from continuum.engine.reading import TextFacts
from continuum.store import attachments, feature_requests, interactions, outbox, request_matching
from continuum.store.audit import audit_many
from continuum.store.links import has_link
from continuum.store.rows import InteractionRow


class PageWrites:
    """A page's row updates, votes, members, audit events and effects, written at :meth:`flush`."""

    def __init__(self, conn: Connection, pipeline: str, facts: PageFacts, texts: dict[int, TextFacts],
                 rows: list[InteractionRow]) -> None:
        self.conn = conn
        self.facts = facts
        self.texts = texts
        self._pipeline = pipeline
        self._updates: dict[int, JSON] = {}
        self._audits: list[JSON] = []
        self._members: list[JSON] = []
        self._voted: set[int] = set()  # feature requests whose votes are recounted at the flush
        self._routed: dict[int, bool] = {}  # feature request → has its ticket (links are made by apply only)
        # Files are rare: one query says which of the page's interactions carry any.
        self.carrying = attachments.carrying(conn, [r["id"] for r in rows])
        prefetch_people(conn, {c for r in rows if (c := r.get("customer_id")) is not None})
        outbox.buffer_effects(conn)

    def set(self, row: Mapping[str, Any], **values: Any) -> None:
        self._updates.setdefault(row["id"], {}).update(values)
        self.facts.remember(row["id"], values)  # later rows of the page see it

    def audit(self, interaction_id: int, action: str, changes: JSON) -> None:
        self._audits.append({"record_type": "interaction", "record_id": interaction_id, "action": action,
                             "changes": changes, "pipeline": self._pipeline})

    def vote(self, fr_id: int) -> None:
        """A vote went to ``fr_id``: recount its voters once, after the page's votes are linked."""
        self._voted.add(fr_id)

    def member(self, fr_id: int, interaction_id: int, text_hash: str, joined: str, score: float | None) -> None:
        self._members.append({"fr_id": fr_id, "interaction_id": interaction_id, "text_hash": text_hash,
                              "joined": joined, "score": score})

    def has_ticket(self, fr_id: int) -> bool:
        """Whether the feature request's ticket exists (asked once per page and feature request)."""
        if fr_id not in self._routed:
            self._routed[fr_id] = has_link(self.conn, "feature_request", fr_id)
        return self._routed[fr_id]

    def flush(self) -> None:
        # Order matters: the votes are counted from the interactions' feature_request_id, set just before.
        interactions.update_rows(self.conn, self._updates)
        request_matching.add_members(self.conn, self._members)
        feature_requests.set_votes_many(self.conn, interactions.voters_of(self.conn, self._voted))
        audit_many(self.conn, self._audits)
        outbox.flush_effects(self.conn)
        self.close()
        self._updates.clear()
        self._audits.clear()
        self._members.clear()
        self._voted.clear()

    def close(self) -> None:
        """Stop buffering on this (pooled) connection, written or not."""
        outbox.drop_buffer(self.conn)
        forget_people(self.conn)
