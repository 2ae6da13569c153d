"""OAuth 2.0 access tokens that a platform rotates on every refresh, kept in the hub's store.

A platform that spends the refresh token on each use leaves a stateless connector nothing to use on the
next run, and two runs that refresh at once would spend the same token (the second one is refused, and a
platform that sees a spent token replayed may revoke the whole chain).  :class:`RotatingTokens` keeps the
account's current access token, its expiry and the latest refresh token in the store, sealed
(:mod:`continuum.kit.secretbox`), and refreshes under the row's lock: the second of two concurrent runs
waits, re-reads, and uses the first one's fresh token.

The Connection's refresh token is only the seed: it is taken the first time, and again only when a person
put a different one there (after re-authorising the app).  The system's own token call is the connector's
(``refresh``); this module knows no system.  A connector that needs it takes the run's store through
``bind_store`` (see :func:`continuum.engine.context.build_connectors`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from continuum.kit.errors import ClientError
from continuum.kit.secretbox import SecretBox
from continuum.store.db import utcnow

# Refresh this long before the platform's expiry: a run that starts with 4 minutes left must not see the
# token die half-way through its pages.
REFRESH_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Grant:
    """What the token endpoint answered: the new pair and when the access token stops working."""

    access_token: str
    refresh_token: str
    expires_at: datetime


class RefreshRefused(ClientError):
    """The platform refused the refresh token (revoked, or already spent): only a person can fix that."""

    def __init__(self, system: str, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(system, message, status=status, code=code)
        self.line = message  # the whole line a person reads; the CLI prints it as is

    @property
    def is_auth_error(self) -> bool:
        return True

    def __str__(self) -> str:
        return self.line


Refresh = Callable[[str], Grant]  # spends the refresh token, returns the new pair (raises RefreshRefused)
Mask = Callable[[str], None]


class RotatingTokens:
    """One account's access token, refreshed through ``refresh`` and kept in the store between runs."""

    def __init__(self, system: str, account: str, seed_refresh_token: str, refresh: Refresh, *,
                 db: Engine | None = None, mask: Mask | None = None, margin: timedelta = REFRESH_MARGIN,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.system, self.account = system, account
        self._seed, self._refresh, self._db, self._margin, self._clock = seed_refresh_token, refresh, db, margin, clock
        self._mask = mask or _airflow_mask
        self._box: SecretBox | None = None
        self._current: tuple[str, datetime] | None = None  # kept in memory: a fresh token needs no query
        self._lock = threading.Lock()  # one refresh at a time within a process, too
        self.refreshes = 0  # token calls this object made (tests and reports)

    def bind_store(self, db: Engine) -> None:
        """Use the run's store (without one, the hub's default store is opened on first need)."""
        self._db = db

    def access_token(self) -> str:
        """A token good for at least the margin, refreshed (and persisted) first when it is not."""
        current = self._current
        if current is not None and current[1] - self._margin > self._clock():
            return current[0]
        return self._settle(rejected=None)

    def after_unauthorized(self, rejected: str) -> str:
        """The platform refused ``rejected`` (401) before its time: a new one, unless another run already
        replaced it, in which case that one is used and no refresh token is spent."""
        return self._settle(rejected=rejected)

    def _settle(self, rejected: str | None) -> str:
        from continuum.store.tokens import lock_tokens, save_tokens

        box = self._secretbox()
        with self._lock, self._store().begin() as conn:
            stored = lock_tokens(conn, self.system, self.account)
            seed_mark = box.fingerprint(self._seed)
            access = box.open(stored.access_token) if stored.access_token else None
            if access is not None:
                self._mask(access)
            fresh = (access is not None and stored.expires_at is not None and stored.seed_fingerprint == seed_mark
                     and stored.expires_at - self._margin > self._clock() and access != rejected)
            if fresh:
                assert access is not None and stored.expires_at is not None
                self._current = (access, stored.expires_at)
                return access
            # The Connection's token seeds the row, and re-seeds it when a person put a new one there;
            # otherwise the stored (latest) one is spent: the Connection's is stale after the first refresh.
            spend = self._seed if stored.seed_fingerprint != seed_mark or not stored.refresh_token \
                else box.open(stored.refresh_token)
            self._mask(spend)
            grant = self._refresh(spend)
            self.refreshes += 1
            self._mask(grant.access_token)
            self._mask(grant.refresh_token)
            # Same transaction as the lock: the next run sees the new pair or, if this commit failed, waits
            # for nothing and finds the old one (the platform may have spent it: a person re-seeds then).
            save_tokens(conn, self.system, self.account, access_token=box.seal(grant.access_token),
                        expires_at=grant.expires_at, refresh_token=box.seal(grant.refresh_token),
                        seed_fingerprint=seed_mark)
        self._current = (grant.access_token, grant.expires_at)
        return grant.access_token

    def _secretbox(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox.from_settings(f"{self.system}'s rotating OAuth tokens")
        return self._box

    def _store(self) -> Engine:
        if self._db is None:
            from continuum.store.db import make_engine

            self._db = make_engine()  # the hub's store (CONTINUUM_DB_URL), as the run's own
        return self._db


def _airflow_mask(value: str) -> None:
    """Register a token with Airflow's masker, so no task log line can show it."""
    if value:
        from airflow.sdk.log import mask_secret

        mask_secret(value)
