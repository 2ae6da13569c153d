"""A scripted target and small readers of the store for the direct tests of :mod:`continuum.engine.apply`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from continuum.config import HubConfig
from continuum.connector import Capabilities, Effect, EffectResult
from continuum.engine.context import SyncContext
from continuum.store import interactions as interaction_store
from continuum.store import outbox
from continuum.store.db import utcnow
from continuum.store.tables import audit_events, dead_letters
from continuum.store.tables import outbox as outbox_table

# More batches than any test here sends: a loop that never stops fails its test instead of hanging it.
WRITE_LIMIT = 100

Answer = Callable[[Effect], "EffectResult | None"]


@dataclass
class Scripted:
    """A target that answers each effect as its test says (None: no result for it), or fails the whole batch."""

    answer: Answer = lambda e: EffectResult(e.key, True, f"X-{e.key}", "issue")
    raises: Exception | None = None
    system: str = "tracker"
    account: str | None = None
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(
        ("issues",), ("create", "comment", "reply", "notify"), {}))
    seen: list[Effect] = field(default_factory=list)
    written_at: list[datetime] = field(default_factory=list)
    batches: list[list[str]] = field(default_factory=list)

    def check(self) -> None:
        return None

    def read_changes(self, stream: str, cursor: Any) -> Iterator[Any]:
        return iter(())

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        if len(self.batches) >= WRITE_LIMIT:  # the engine is looping: fail the test rather than hang it
            raise RuntimeError(f"asked to write {WRITE_LIMIT} batches: the engine does not stop")
        self.seen.extend(effects)
        self.batches.append([e.key for e in effects])
        time.sleep(0.002)  # the write takes a moment: what is stamped after it is stamped later than the send
        self.written_at.append(utcnow())
        if self.raises is not None:
            raise self.raises
        return [r for r in (self.answer(e) for e in effects) if r is not None]


HUB = HubConfig.model_validate({"systems": {"tracker": {"connector": "fake", "connection": "none"}},
                                "pipelines": {"p": {"sources": []}}})


def ctx_for(db: Engine, connector: Scripted, **flags: Any) -> SyncContext:
    return SyncContext(db=db, hub=HUB, pipeline_name="p", connectors={"tracker": connector}, **flags)


def add_effect(db: Engine, key: str, action: str = "create", record_id: int = 1, context: dict[str, Any] | None = None,
            **state: Any) -> int:
    with db.begin() as conn:
        outbox.add_effect(conn, key=key, pipeline="p", system="tracker", action=action, object_type="issue",
                          record_type="interaction", record_id=record_id, fields={"summary": key},
                          target_id=None if action == "create" else "T-1", context=context or {})
        effect_id = int(conn.execute(select(outbox_table.c.id).where(
            outbox_table.c.idempotency_key == key)).scalar_one())
        if state:
            outbox.set_effect(conn, effect_id, **state)
    return effect_id


def effect_row(db: Engine, effect_id: int) -> dict[str, Any]:
    with db.connect() as conn:
        return dict(conn.execute(select(outbox_table).where(outbox_table.c.id == effect_id)).mappings().one())


def letter_of(db: Engine, key: str) -> dict[str, Any]:
    with db.connect() as conn:
        return dict(conn.execute(select(dead_letters).where(dead_letters.c.record_key == key)).mappings().one())


def audits_of(db: Engine, action: str) -> list[dict[str, Any]]:
    with db.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_events).where(audit_events.c.action == action)
                                              .order_by(audit_events.c.id)).mappings()]


def naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def add_interaction(db: Engine, source_id: str) -> int:
    now = utcnow()
    with db.begin() as conn:
        interaction_store.insert_new(conn, [{"source_system": "forum", "source_id": source_id, "content_hash": "h",
                                             "first_seen_at": now, "last_seen_at": now}])
        return interaction_store.id_of(conn, "forum", source_id)


@dataclass
class Keyed(Scripted):
    """A target that can say which keys it holds objects for (``find_keys``), or fails to say."""

    holds: dict[str, object] = field(default_factory=dict)
    lookup_fails: bool = False
    asked: list[list[str]] = field(default_factory=list)

    def find_keys(self, keys: Sequence[str]) -> dict[str, object]:
        self.asked.append(list(keys))
        if self.lookup_fails:
            raise ConnectionError("search is down")
        return {k: v for k, v in self.holds.items() if k in keys}


def bulk(sizes: dict[str, int]) -> Capabilities:
    return Capabilities(("issues",), ("create", "comment", "reply", "notify"), sizes)
