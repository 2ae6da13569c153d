"""How Airflow learns of a webhook: an Asset watched by a trigger on the store's inbox, and the event DAG.

The receiver only commits deliveries; it holds no Airflow credentials and calls nothing.  Airflow's
triggerer runs :class:`InboxTrigger` (an event-driven scheduling trigger): every ``poll_s`` seconds it
marks the pending deliveries nobody announced yet, in one UPDATE, and when there were any it fires, which
records an event on the Asset ``continuum://inbox`` and so starts a run of the DAG ``continuum_inbox``.
That run's task is ``continuum inbox process``: the woken pipelines run under their run lock, and every
run is in Airflow's history like a scheduled one.

Why this way rather than the receiver calling Airflow's REST API: the receiver stays stateless and
secret-free (no Airflow token to keep, nothing to retry when the API server is down), a burst of
deliveries makes one run rather than one per delivery, and a delivery committed while Airflow was down
is announced when it is back.  Deliveries a run could not take (the lock was held, the run failed or
was lost) stay pending and are announced again after ``REANNOUNCE_S`` (:func:`continuum.store.inbox.announce_new`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import task
from airflow.triggers.base import BaseEventTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from continuum.config import HubConfig

INBOX_DAG = "continuum_inbox"
INBOX_ASSET_URI = "continuum://inbox"
# A quarter second: one short UPDATE (no row matches, mostly) four times a second is nothing for the store,
# and the watcher's poll is the first step of every webhook's latency.
POLL_S = 0.25


class InboxTrigger(BaseEventTrigger):
    """Fires when the inbox holds deliveries not yet announced to Airflow (then the triggerer starts it again)."""

    def __init__(self, poll_s: float = POLL_S, db_url: str | None = None, retry_s: float = 10.0) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.poll_s, self.db_url, self.retry_s = poll_s, db_url, retry_s

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{__name__}.InboxTrigger", {"poll_s": self.poll_s, "db_url": self.db_url, "retry_s": self.retry_s})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from sqlalchemy.exc import DBAPIError

        from continuum.store.db import make_engine
        from continuum.store.inbox import announce_new

        engine = make_engine(self.db_url)
        try:
            while True:
                try:
                    fresh = await asyncio.to_thread(_announce, engine, announce_new)
                except DBAPIError as exc:  # the store is down or not migrated yet: keep watching, say why
                    self.log.warning("continuum inbox: the store cannot be read (%s); trying again",
                                     type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__)
                    await asyncio.sleep(self.retry_s)
                    continue
                if fresh:
                    yield TriggerEvent({"deliveries": fresh})  # type: ignore[no-untyped-call]
                    return
                await asyncio.sleep(self.poll_s)
        finally:
            engine.dispose()


def _announce(engine: Any, announce: Any) -> int:
    with engine.begin() as conn:  # one short UPDATE, in a thread: the triggerer's event loop never waits on it
        return int(announce(conn))


def has_pushing_systems(hub: HubConfig) -> bool:
    """Whether a configured system can push (its plugin names a webhook verifier); imports no connector."""
    from continuum.kit.registry import plugin

    return any(plugin(system.connector).webhook for system in hub.systems.values())


def build_inbox_dag() -> DAG:
    from airflow.sdk import DAG, Asset, AssetWatcher

    from continuum.orchestration.factory import START_DATE, default_args

    asset = Asset(name=INBOX_DAG, uri=INBOX_ASSET_URI,
                  watchers=[AssetWatcher(name="continuum_inbox_watcher", trigger=InboxTrigger())])
    args = {**default_args(), "retries": 0}  # a failed pass leaves its deliveries pending: they are announced again
    with DAG(dag_id=INBOX_DAG, description="Continuum: webhook deliveries wake the pipelines that read them",
             schedule=[asset], start_date=START_DATE, catchup=False, max_active_runs=1, default_args=args,
             dagrun_timeout=timedelta(hours=1), tags=["continuum", "webhooks"],
             doc_md="Runs when `continuum serve` has committed signed webhook deliveries: the pipelines that "
                    "read their systems run once (read, triage, apply) under their run lock.") as dag:
        # No migrate_store task: `continuum serve` migrated the store before it took the first delivery,
        # and one task less is seconds less between a delivery and its ticket.
        process_inbox()
    return dag


@task
def process_inbox() -> dict[str, Any]:
    """``continuum inbox process``: run the woken pipelines, settle their deliveries."""
    import logging

    from airflow.sdk.exceptions import AirflowException

    from continuum.config import load_config
    from continuum.engine.inbox import process_inbox as process
    from continuum.engine.run import DEAD_LETTERED, max_dead_letters
    from continuum.store.db import open_store

    result = process(load_config(), open_store(migrate_schema=False))
    logging.getLogger("continuum").info("inbox: %s", result.as_json())
    # A lock held by a scheduled run is no failure: that run, or the next announcement's, takes them.
    failed = {name: s.counts.get(DEAD_LETTERED, 0) for name, s in result.runs.items()}
    over = {name: n for name, n in failed.items() if n > max_dead_letters()}
    if over:  # as a pipeline's DAG run does: dead letters fail the run, so Airflow alerts
        raise AirflowException("dead letters in " + ", ".join(f"pipeline {k}: {n}" for k, n in over.items())
                               + "; see `continuum dead-letters`")
    return result.as_json()
