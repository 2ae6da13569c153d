"""What feature-request matching keeps: cached embeddings, members, scopes, and people's reviews.

- ``embedding_cache``: one vector per (model, text hash), so a request is embedded once however often it
  is compared, and a model change simply misses the cache;
- ``request_members``: the requests a feature request gathered by matching (its founder, votes, confirmed
  suggestions): what it is compared with.  A "+1" in its thread is a vote, not a member;
- ``request_profiles``: a feature request's scope, whether its ticket waits for a review, what it was
  merged into;
- ``request_reviews``: every suggestion, and every confirmation or rejection a person made, with the
  score behind it; ``continuum requests calibrate`` learns thresholds from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    and_,
    func,
    select,
    update,
)

from continuum.connector import JSON
from continuum.store.base import insert_ignore, insert_ignore_all
from continuum.store.db import utcnow
from continuum.store.tables import feature_requests, interactions, metadata

TS = DateTime(timezone=True)

embedding_cache = Table(
    "embedding_cache", metadata,
    Column("model", String(128), primary_key=True),
    Column("text_hash", String(64), primary_key=True),
    Column("vector", LargeBinary, nullable=False),
    Column("created_at", TS, nullable=False),
)

request_members = Table(
    "request_members", metadata,
    Column("interaction_id", Integer, ForeignKey("interactions.id"), primary_key=True),
    Column("feature_request_id", Integer, ForeignKey("feature_requests.id"), nullable=False, index=True),
    Column("text_hash", String(64), nullable=False),
    Column("joined", String(16), nullable=False),  # founded | matched | merged
    Column("score", Float),
    Column("created_at", TS, nullable=False),
)

request_profiles = Table(
    "request_profiles", metadata,
    Column("feature_request_id", Integer, ForeignKey("feature_requests.id"), primary_key=True),
    Column("scope", String(256), nullable=False, default="", index=True),
    Column("held", Boolean, nullable=False, default=False),  # its ticket waits until a person decides
    Column("merged_into", Integer, ForeignKey("feature_requests.id")),
)

request_reviews = Table(
    "request_reviews", metadata,
    Column("id", Integer, primary_key=True),
    Column("feature_request_id", Integer, ForeignKey("feature_requests.id"), nullable=False, index=True),
    Column("candidate_id", Integer, ForeignKey("feature_requests.id"), nullable=False),
    Column("interaction_id", Integer, ForeignKey("interactions.id")),
    Column("score", Float, nullable=False),
    Column("why", String(500), nullable=False, default=""),
    Column("state", String(16), nullable=False, default="pending"),  # pending | confirmed | rejected
    Column("origin", String(16), nullable=False),  # suggestion | merge | split
    Column("created_at", TS, nullable=False),
    Column("decided_at", TS),
    UniqueConstraint("feature_request_id", "candidate_id", "interaction_id", name="uq_request_reviews_pair"),
)


class Member(NamedTuple):
    feature_request_id: int
    interaction_id: int
    scope: str
    text_hash: str
    title: str
    text: str


# -- embeddings ----------------------------------------------------------------------

def cached_vectors(conn: Connection, model: str, hashes: Iterable[str]) -> dict[str, bytes]:
    wanted = sorted(set(hashes))
    found: dict[str, bytes] = {}
    for start in range(0, len(wanted), 500):  # stay under every database's bound-parameter limit
        rows = conn.execute(select(embedding_cache.c.text_hash, embedding_cache.c.vector).where(
            embedding_cache.c.model == model, embedding_cache.c.text_hash.in_(wanted[start:start + 500])))
        found.update({row.text_hash: bytes(row.vector) for row in rows})
    return found


def cache_vectors(conn: Connection, model: str, vectors: dict[str, bytes]) -> None:
    now = utcnow()
    insert_ignore(conn, embedding_cache, [{"model": model, "text_hash": h, "vector": v, "created_at": now}
                                          for h, v in vectors.items()], ["model", "text_hash"])


def upcoming_requests(conn: Connection, source_system: str, from_id: int, limit: int) -> list[tuple[int, str, str]]:
    """(id, title, text) of new thread-starting feature requests from ``from_id`` on: embedded in one batch."""
    rows = conn.execute(select(interactions.c.id, interactions.c.title, interactions.c.text).where(
        interactions.c.status == "new", interactions.c.source_system == source_system,
        interactions.c.kind == "feature_request", interactions.c.direction == "inbound",
        interactions.c.id >= from_id).order_by(interactions.c.id).limit(limit))
    return [(row.id, row.title or "", row.text or "") for row in rows]


# -- members and profiles ----------------------------------------------------------------

def open_members(conn: Connection) -> list[Member]:
    """Every member of every open feature request, with its text (what the index is built from)."""
    rows = conn.execute(select(
        request_members.c.feature_request_id, request_members.c.interaction_id, request_profiles.c.scope,
        request_members.c.text_hash, interactions.c.title, interactions.c.text).join(
        feature_requests, feature_requests.c.id == request_members.c.feature_request_id).join(
        interactions, interactions.c.id == request_members.c.interaction_id).join(
        request_profiles, request_profiles.c.feature_request_id == request_members.c.feature_request_id,
        isouter=True).where(feature_requests.c.status == "open").order_by(request_members.c.interaction_id))
    return [Member(r.feature_request_id, r.interaction_id, r.scope or "", r.text_hash, r.title or "", r.text or "")
            for r in rows]


def open_signature(conn: Connection) -> tuple[int, int, int]:
    """(members of open feature requests, open feature requests, highest open id), in one statement.

    What an index of open requests kept from an earlier transaction checks before it is used again:
    a vote, a new request, a merge, a split, a close or a rolled-back page changes one of them."""
    is_open = feature_requests.c.status == "open"
    members = select(func.count()).select_from(request_members.join(
        feature_requests, feature_requests.c.id == request_members.c.feature_request_id)).where(is_open)
    opened = select(func.count()).select_from(feature_requests).where(is_open)
    highest = select(func.coalesce(func.max(feature_requests.c.id), 0)).where(is_open)
    row = conn.execute(select(members.scalar_subquery(), opened.scalar_subquery(), highest.scalar_subquery())).one()
    return int(row[0]), int(row[1]), int(row[2])


def unprofiled_open(conn: Connection) -> list[tuple[int, str, int | None]]:
    """Open feature requests from before matching kept members: (id, match text, first interaction)."""
    has_member = select(request_members.c.interaction_id).where(
        request_members.c.feature_request_id == feature_requests.c.id).exists()
    first = select(interactions.c.id).where(interactions.c.feature_request_id == feature_requests.c.id).order_by(
        interactions.c.id).limit(1).scalar_subquery()
    rows = conn.execute(select(feature_requests.c.id, feature_requests.c.match_text, first.label("first")).where(
        feature_requests.c.status == "open", ~has_member))
    return [(int(r.id), r.match_text or "", r.first) for r in rows]


def add_member(conn: Connection, fr_id: int, interaction_id: int, text_hash: str, joined: str,
               score: float | None) -> None:
    insert_ignore(conn, request_members, [{"interaction_id": interaction_id, "feature_request_id": fr_id,
                                           "text_hash": text_hash, "joined": joined, "score": score,
                                           "created_at": utcnow()}], ["interaction_id"])


def add_members(conn: Connection, members: list[JSON]) -> None:
    """:func:`add_member` for a page's members in one statement (each: fr_id, interaction_id, text_hash,
    joined, score)."""
    now = utcnow()
    insert_ignore_all(conn, request_members, [{
        "interaction_id": m["interaction_id"], "feature_request_id": m["fr_id"], "text_hash": m["text_hash"],
        "joined": m["joined"], "score": m["score"], "created_at": now} for m in members], ["interaction_id"])


def member_of(conn: Connection, interaction_id: int) -> Any:
    return conn.execute(select(request_members).where(
        request_members.c.interaction_id == interaction_id)).mappings().first()


def move_members(conn: Connection, from_fr: int, to_fr: int, joined: str,
                 interaction_ids: list[int] | None = None) -> None:
    """Members now represent another feature request (``joined``: merged, or founded after a split)."""
    where = request_members.c.feature_request_id == from_fr
    if interaction_ids is not None:
        where = and_(where, request_members.c.interaction_id.in_(interaction_ids))
    conn.execute(update(request_members).where(where).values(feature_request_id=to_fr, joined=joined))


def set_profile(conn: Connection, fr_id: int, scope: str, held: bool = False) -> None:
    insert_ignore(conn, request_profiles, [{"feature_request_id": fr_id, "scope": scope, "held": held,
                                            "merged_into": None}], ["feature_request_id"])


def profile(conn: Connection, fr_id: int) -> Any:
    return conn.execute(select(request_profiles).where(request_profiles.c.feature_request_id == fr_id)
                        ).mappings().first()


def update_profile(conn: Connection, fr_id: int, **values: Any) -> None:
    conn.execute(update(request_profiles).where(request_profiles.c.feature_request_id == fr_id).values(**values))


def held_ids(conn: Connection) -> set[int]:
    return set(conn.execute(select(request_profiles.c.feature_request_id).where(
        request_profiles.c.held.is_(True))).scalars())


# -- reviews -------------------------------------------------------------------------------

def add_review(conn: Connection, fr_id: int, candidate_id: int, interaction_id: int | None, score: float, why: str,
               origin: str, state: str = "pending") -> None:
    now = utcnow()
    insert_ignore(conn, request_reviews, [{
        "feature_request_id": fr_id, "candidate_id": candidate_id, "interaction_id": interaction_id,
        "score": score, "why": why[:500], "state": state, "origin": origin, "created_at": now,
        "decided_at": None if state == "pending" else now}],
        ["feature_request_id", "candidate_id", "interaction_id"])


def pending_reviews(conn: Connection, fr_id: int | None = None) -> list[JSON]:
    """Open suggestions (of one feature request, or all), best score first."""
    where = request_reviews.c.state == "pending"
    if fr_id is not None:
        where = and_(where, request_reviews.c.feature_request_id == fr_id)
    rows = conn.execute(select(request_reviews).where(where).order_by(request_reviews.c.score.desc(),
                                                                     request_reviews.c.id))
    return [dict(r) for r in rows.mappings()]


def decide_reviews(conn: Connection, fr_id: int, state: str, candidate_id: int | None = None) -> int:
    """Close the pending suggestions of ``fr_id`` (towards ``candidate_id`` only, if given)."""
    where = and_(request_reviews.c.feature_request_id == fr_id, request_reviews.c.state == "pending")
    if candidate_id is not None:
        where = and_(where, request_reviews.c.candidate_id == candidate_id)
    return int(conn.execute(update(request_reviews).where(where).values(state=state, decided_at=utcnow())
                            ).rowcount or 0)


def decided_reviews(conn: Connection) -> list[tuple[float, bool]]:
    """(score, confirmed?) of every decision people made: what calibration learns from."""
    rows = conn.execute(select(request_reviews.c.score, request_reviews.c.state).where(
        request_reviews.c.state.in_(("confirmed", "rejected"))))
    return [(float(r.score), r.state == "confirmed") for r in rows]


def reviews_since(conn: Connection, since: datetime | None = None) -> list[JSON]:
    query = select(request_reviews).order_by(request_reviews.c.id)
    if since is not None:
        query = query.where(request_reviews.c.created_at >= since)
    return [dict(r) for r in conn.execute(query).mappings()]


# -- people's merges and splits ------------------------------------------------------------

def move_interactions(conn: Connection, from_fr: int, to_fr: int, interaction_ids: list[int] | None = None) -> int:
    """Interactions (votes) of one feature request now count for another; returns how many moved."""
    where = interactions.c.feature_request_id == from_fr
    if interaction_ids is not None:
        where = and_(where, interactions.c.id.in_(interaction_ids))
    return int(conn.execute(update(interactions).where(where).values(feature_request_id=to_fr)).rowcount or 0)


def thread_votes(conn: Connection, fr_id: int, source_system: str, thread_id: str) -> list[int]:
    """The interactions of one thread that count for ``fr_id`` without being members ("+1" replies)."""
    members = select(request_members.c.interaction_id).where(request_members.c.feature_request_id == fr_id)
    return [int(i) for i in conn.execute(select(interactions.c.id).where(
        interactions.c.feature_request_id == fr_id, interactions.c.source_system == source_system,
        interactions.c.thread_id == thread_id, interactions.c.id.not_in(members))).scalars()]


def members_of(conn: Connection, fr_id: int) -> list[JSON]:
    rows = conn.execute(select(request_members, interactions.c.title, interactions.c.text, interactions.c.url,
                               interactions.c.customer_id).join(
        interactions, interactions.c.id == request_members.c.interaction_id).where(
        request_members.c.feature_request_id == fr_id).order_by(request_members.c.interaction_id))
    return [dict(r) for r in rows.mappings()]


def interaction_count(conn: Connection, fr_id: int) -> int:
    return len(conn.execute(select(interactions.c.id).where(interactions.c.feature_request_id == fr_id)).all())


def retarget_reviews(conn: Connection, from_candidate: int, to_candidate: int) -> None:
    """Pending suggestions to join a feature request that was merged now point at what it joined."""
    conn.execute(update(request_reviews).where(
        request_reviews.c.candidate_id == from_candidate, request_reviews.c.state == "pending").values(
        candidate_id=to_candidate))


def profiles(conn: Connection, fr_ids: Iterable[int]) -> dict[int, Any]:
    ids = list(fr_ids)
    rows = conn.execute(select(request_profiles).where(request_profiles.c.feature_request_id.in_(ids or [-1])))
    return {int(r["feature_request_id"]): r for r in rows.mappings()}
