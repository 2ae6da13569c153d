"""The inbox table: one row per delivery, and the announcements the event DAG's watcher makes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from continuum.orchestration.inbox import InboxTrigger
from continuum.store import inbox
from continuum.store.db import open_store, utcnow


def _add(db: Engine, delivery: str, system: str = "github") -> bool:
    with db.begin() as conn:
        return inbox.add_delivery(conn, system=system, delivery_id=delivery, event_type="issues",
                                  subjects=["issue:1"], body="{}")


def test_a_delivery_id_is_kept_once_per_system(any_db: Engine) -> None:
    assert _add(any_db, "d-1") is True
    assert _add(any_db, "d-1") is False  # the replay
    assert _add(any_db, "d-1", system="discourse") is True  # another system's ids are its own
    with any_db.connect() as conn:
        assert inbox.counts(conn) == {"pending": 2}


def test_the_watcher_announces_each_delivery_once_and_again_when_no_run_took_it(any_db: Engine) -> None:
    sqlite_db = any_db
    _add(sqlite_db, "d-1")
    _add(sqlite_db, "d-2")
    now = utcnow()
    with sqlite_db.begin() as conn:
        assert inbox.announce_new(conn, now) == 2
        assert inbox.announce_new(conn, now + timedelta(seconds=1)) == 0  # announced: one run is enough
    _add(sqlite_db, "d-3")
    with sqlite_db.begin() as conn:
        assert inbox.announce_new(conn, now + timedelta(seconds=2)) == 1
        (first, *_) = inbox.pending(conn)
        inbox.settle(conn, [first.id])
        # Still pending long after their announcement: the run never took them (lock, crash): again.
        later = now + timedelta(seconds=inbox.REANNOUNCE_S + 5)
        assert inbox.announce_new(conn, later) == 2
        assert inbox.counts(conn) == {"pending": 2, "processed": 1}


def test_the_trigger_fires_for_pending_deliveries(tmp_path: Path, sqlite_db: Engine) -> None:
    _add(sqlite_db, "d-1")
    trigger = InboxTrigger(poll_s=0.01, db_url=str(sqlite_db.url))

    async def first_event() -> object:
        async for event in trigger.run():
            return event.payload
        return None

    assert asyncio.run(first_event()) == {"deliveries": 1}
    with sqlite_db.connect() as conn:
        assert inbox.announce_new(conn) == 0  # it marked them announced


def test_the_trigger_keeps_watching_a_store_not_migrated_yet(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'later.db'}"
    trigger = InboxTrigger(poll_s=0.01, db_url=url, retry_s=0.01)

    async def first_event() -> object:
        watching = trigger.run()
        pending = asyncio.ensure_future(watching.__anext__())
        await asyncio.sleep(0.2)
        assert not pending.done()  # no inbox table yet: it waits, it does not fail
        db = await asyncio.to_thread(open_store, url)  # `continuum serve` migrates it, then takes a delivery
        await asyncio.to_thread(_add, db, "d-1")
        event = await pending
        db.dispose()
        return event.payload

    assert asyncio.run(first_event()) == {"deliveries": 1}
