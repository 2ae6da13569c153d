"""Named queries for rotating OAuth tokens (continuum.kit.oauth): one row per system and account, locked while
a run refreshes it, so two runs never spend the same refresh token.  Values arrive and leave sealed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Connection, select, update

from continuum.store.base import insert_ignore
from continuum.store.db import utcnow
from continuum.store.tables import oauth_tokens


class StoredTokens(NamedTuple):
    access_token: str | None  # sealed
    expires_at: datetime | None
    refresh_token: str | None  # sealed
    seed_fingerprint: str | None


def lock_tokens(conn: Connection, system: str, account: str) -> StoredTokens:
    """The account's row, locked until the transaction ends (made empty first if there is none).

    The insert comes first on both databases: on SQLite it takes the database's write lock (a second run
    waits here until the first commits), and on PostgreSQL it makes the row that ``FOR UPDATE`` then locks."""
    insert_ignore(conn, oauth_tokens, [{"system": system, "account": account, "updated_at": utcnow()}],
                  ["system", "account"])
    query = select(oauth_tokens.c.access_token, oauth_tokens.c.expires_at, oauth_tokens.c.refresh_token,
                   oauth_tokens.c.seed_fingerprint).where(oauth_tokens.c.system == system,
                                                          oauth_tokens.c.account == account)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one()
    return StoredTokens(row.access_token, _aware(row.expires_at), row.refresh_token, row.seed_fingerprint)


def save_tokens(conn: Connection, system: str, account: str, *, access_token: str, expires_at: datetime,
                refresh_token: str, seed_fingerprint: str | None) -> None:
    """The new pair (sealed) in the locked row: the old refresh token is spent, only this one works now."""
    now = utcnow()
    conn.execute(update(oauth_tokens).where(oauth_tokens.c.system == system, oauth_tokens.c.account == account)
                 .values(access_token=access_token, expires_at=expires_at, refresh_token=refresh_token,
                         seed_fingerprint=seed_fingerprint, refreshed_at=now, updated_at=now))


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without their zone; they were stored in UTC.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
