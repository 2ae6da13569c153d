"""Feature requests: the one record behind many customers asking for the same thing."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Connection, and_, bindparam, select, update

from continuum.store.db import utcnow
from continuum.store.request_matching import request_profiles
from continuum.store.rows import FeatureRequestRow
from continuum.store.tables import feature_requests, links, outbox


def get_feature_request(conn: Connection, feature_request_id: int) -> FeatureRequestRow:
    return cast(FeatureRequestRow, dict(conn.execute(select(feature_requests).where(
        feature_requests.c.id == feature_request_id)).mappings().one()))


def create_feature_request(conn: Connection, title: str, summary: str, match_text: str, now: datetime) -> int:
    return int(conn.execute(feature_requests.insert().values(
        title=title, summary=summary, status="open", votes=0, match_text=match_text, created_at=now, updated_at=now,
    ).returning(feature_requests.c.id)).scalar_one())


def open_match_texts(conn: Connection) -> list[tuple[int, str]]:
    """(id, fingerprint text) of every open feature request."""
    rows = conn.execute(select(feature_requests.c.id, feature_requests.c.match_text)
                        .where(feature_requests.c.status == "open"))
    return [(row.id, row.match_text) for row in rows]


def set_votes(conn: Connection, feature_request_id: int, votes: int) -> None:
    """New vote count; the ticket's voices section becomes stale (``voices_hash`` NULL)."""
    conn.execute(update(feature_requests).where(feature_requests.c.id == feature_request_id).values(
        votes=votes, voices_hash=None, updated_at=utcnow()))


def set_votes_many(conn: Connection, votes: dict[int, int]) -> None:
    """:func:`set_votes` for many feature requests in one ``executemany``."""
    if not votes:
        return
    conn.execute(update(feature_requests).where(feature_requests.c.id == bindparam("fr_id")).values(
        votes=bindparam("n"), voices_hash=None, updated_at=utcnow()),
        [{"fr_id": fr_id, "n": n} for fr_id, n in sorted(votes.items())])


def set_voices_hash(conn: Connection, feature_request_id: int, digest: str) -> None:
    """The voices as the ticket now shows them (planned there)."""
    conn.execute(update(feature_requests).where(feature_requests.c.id == feature_request_id).values(
        voices_hash=digest))


def without_ticket(conn: Connection) -> list[int]:
    """Open feature requests whose ticket was never planned, oldest first.

    One held for review (a suggested match a person has not confirmed or rejected yet) waits: if it is
    confirmed, its votes join another feature request's ticket and it never needs one of its own.
    """
    planned = outbox.select().where(
        outbox.c.record_type == "feature_request", outbox.c.action == "create",
        outbox.c.record_id == feature_requests.c.id).exists()
    held = select(request_profiles.c.feature_request_id).where(
        request_profiles.c.feature_request_id == feature_requests.c.id, request_profiles.c.held.is_(True)).exists()
    return [int(i) for i in conn.execute(select(feature_requests.c.id).where(
        feature_requests.c.status == "open", ~planned, ~held).order_by(feature_requests.c.id)).scalars()]


def stale_tickets(conn: Connection, system: str) -> list[tuple[int, str]]:
    """(feature request id, ticket id in ``system``) for each ticket whose voices section is stale."""
    rows = conn.execute(select(feature_requests.c.id, links.c.external_id).join(links, and_(
        links.c.record_type == "feature_request", links.c.record_id == feature_requests.c.id,
        links.c.system == system)).where(feature_requests.c.voices_hash.is_(None)))
    return [(int(fr_id), ticket_id) for fr_id, ticket_id in rows]


def set_status(conn: Connection, feature_request_id: int, status: str) -> None:
    """``open``, ``shipped``, or ``merged`` (its votes went to another feature request)."""
    conn.execute(update(feature_requests).where(feature_requests.c.id == feature_request_id).values(
        status=status, updated_at=utcnow()))


def open_requests(conn: Connection) -> list[FeatureRequestRow]:
    """Every open feature request, most votes first."""
    rows = conn.execute(select(feature_requests).where(feature_requests.c.status == "open").order_by(
        feature_requests.c.votes.desc(), feature_requests.c.id)).mappings()
    return [cast(FeatureRequestRow, dict(row)) for row in rows]


def mark_shipped(conn: Connection, feature_request_id: int) -> None:
    conn.execute(update(feature_requests).where(feature_requests.c.id == feature_request_id).values(
        status="shipped", shipped_at=utcnow()))


def shipped_at(conn: Connection, feature_request_id: int) -> datetime | None:
    return cast("datetime | None", conn.execute(select(feature_requests.c.shipped_at).where(
        feature_requests.c.id == feature_request_id)).scalar())


def find_feature_request(conn: Connection, feature_request_id: int) -> FeatureRequestRow | None:
    row = conn.execute(select(feature_requests).where(feature_requests.c.id == feature_request_id)).mappings().first()
    return None if row is None else cast(FeatureRequestRow, dict(row))
