"""Webhook runs: the inbox's pending deliveries wake the pipelines that read their systems.

A delivery is a signal, not a record: the run reads the woken systems' streams from their cursors through
the same connector, mapping and ``ingest_page`` as a scheduled run, then triages and applies under the
same run lock (:func:`continuum.engine.run.run_pipeline`).  So the records a delivery announced are
stored under their own external ids, exactly as the next poll stores them, and an event followed by a
poll (or a poll followed by the event, or a delivery processed twice after a crash) makes one
interaction, one ticket and one reply.  Why not the delivery's payload itself: vendors' event payloads
differ from their API's objects (fields, versions, deletions), arrive out of order and may be partial;
reading from the cursor keeps one mapping per system and the cursor's "nothing lost" guarantee.

Deliveries are settled only after every pipeline they woke finished its run: a crash, or a run that
finds the lock taken, leaves them pending for the next ``continuum inbox process``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine

from continuum import failpoints
from continuum.config import HubConfig, pipeline_systems
from continuum.engine.context import Progress, RunStats, SyncContext, build_connectors
from continuum.engine.run import run_pipeline
from continuum.engine.stages import source_systems
from continuum.store import inbox
from continuum.store.locking import AnotherRunHoldsTheLock

log = logging.getLogger(__name__)


@dataclass
class InboxResult:
    deliveries: int = 0  # pending when the pass began
    processed: int = 0
    skipped: int = 0  # no pipeline reads their system
    left_pending: int = 0  # a run they woke did not finish (lock taken, error): the next pass takes them
    runs: dict[str, RunStats] = field(default_factory=dict)
    locked: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {"deliveries": self.deliveries, "processed": self.processed, "skipped": self.skipped,
                "left_pending": self.left_pending, "locked": self.locked,
                "runs": {name: stats.counts for name, stats in self.runs.items()}}


def reading_systems(hub: HubConfig, pipeline: str) -> set[str]:
    """The systems whose streams the pipeline reads: its sources and the targets it reads back."""
    spec = hub.pipelines[pipeline]
    return set(source_systems(hub, pipeline)) | {t.system for t in spec.targets if t.stream}


def process_inbox(hub: HubConfig, db: Engine, progress: Progress | None = None) -> InboxResult:
    """One pass: run each pipeline woken by a pending delivery once, then settle the deliveries it covered."""
    with db.connect() as conn:
        waiting = inbox.pending(conn)
    result = InboxResult(deliveries=len(waiting))
    if not waiting:
        return result
    woken_systems = {d.system for d in waiting}
    readers = {name: reading_systems(hub, name) & woken_systems for name in hub.pipelines}
    finished: set[str] = set()  # pipelines whose run completed
    for name, systems in readers.items():
        if not systems:
            continue
        connectors = build_connectors(hub, pipeline_systems(hub, name), db)
        ctx = SyncContext(db=db, hub=hub, pipeline_name=name, connectors=connectors, progress=progress)
        try:
            result.runs[name] = run_pipeline(ctx, woken=frozenset(systems))
        except AnotherRunHoldsTheLock:
            # The run holding it may have read before these deliveries' records existed: they wait.
            result.locked.append(name)
            continue
        except Exception as exc:
            with db.begin() as conn:
                inbox.note_failure(conn, [d.id for d in waiting if d.system in systems],
                                   f"pipeline {name}: {type(exc).__name__}")
            raise
        finished.add(name)
    done, unread, left = [], [], []
    for delivery in waiting:
        wanted = {name for name, systems in readers.items() if delivery.system in systems}
        if not wanted:
            unread.append(delivery.id)
        elif wanted <= finished:
            done.append(delivery.id)
        else:
            left.append(delivery.id)
    failpoints.hit("inbox:before_settle")  # the runs are done, their deliveries not yet settled
    with db.begin() as conn:
        result.processed = inbox.settle(conn, done)
        result.skipped = inbox.settle(conn, unread, inbox.SKIPPED, "no pipeline reads this system")
    result.left_pending = len(left)
    if left:
        log.warning("inbox: %d delivery(ies) left pending: pipeline(s) %s held by another run", len(left),
                    ", ".join(result.locked))
    return result
