"""The offline demo: seeded simulators, the whole loop, then two idempotency re-runs.

1. sync: customers' posts become interactions; feature requests and bugs
   become tickets (bulk-created), banter is ignored;
2. staff answer some tickets (a public comment, then resolve), leave an
   internal note on another, and ship the most wanted feature request;
3. sync: the public answers go back to the customers' threads, and everyone
   who asked for the shipped feature is told, once;
4. sync twice more: nothing may change anywhere (``rerun_effects`` == 0).

The ticket-desk simulators implement ``staff_answer`` / ``staff_resolve``, so
this module needs to know no system by name.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from continuum.config import HubConfig, load_config
from continuum.connector import JSON
from continuum.demo.simulators import effect_counts, simulators
from continuum.engine.context import Progress
from continuum.engine.run import sync
from continuum.store.db import open_store
from continuum.store.links import tickets_in
from continuum.store.status import counts

ANSWERS = [
    "Thanks for asking! This shipped today: you will find it under Settings. Tell us how it works for you.",
    "Good news: a fix is rolled out. Please update and let us know if you still see the problem.",
    "We have planned this for the next release and will tell you here when it is out.",
]


SyncRound = Callable[[], None]


def run_demo(hub: HubConfig | None = None, db_url: str | None = None, progress: Progress | None = None,
             answer_count: int = 3) -> JSON:
    """The demo in this process (the quick path); :mod:`continuum.demo.airflow` runs it through Airflow."""
    hub = hub or load_config()
    workdir = Path(tempfile.mkdtemp(prefix="continuum-demo-"))
    url = db_url or f"sqlite:///{workdir / 'demo.db'}"
    with simulators(hub) as running:
        db = open_store(url)

        def sync_round() -> None:
            for name in hub.pipelines:
                sync(name, hub, db, progress)

        summary = play_story(db, hub, running, sync_round, answer_count)
        db.dispose()
    summary["store"] = url if db_url else "throwaway SQLite file"
    if not db_url:
        shutil.rmtree(workdir, ignore_errors=True)
    return summary


def play_story(db: Any, hub: HubConfig, running: dict[str, Any], sync_round: SyncRound,
               answer_count: int = 3) -> JSON:
    """The story, whatever runs the syncs: sync, staff act, sync, then two re-runs that must change nothing."""
    sync_round()
    confirmed = _confirm_suggestions(db, hub)
    staff = _staff_answers(db, hub, running, answer_count)
    sync_round()
    before = effect_counts(running)
    for _ in range(2):
        sync_round()
    after = effect_counts(running)
    with db.connect() as conn:
        summary = counts(conn)
    summary.update({
        "effects": after,
        "rerun_effects": sum(after[s][k] - before[s][k] for s in after for k in after[s] if k != "calls"),
        "rerun_calls": sum(after[s]["calls"] - before[s]["calls"] for s in after),
        "suggestions_confirmed": confirmed,
        "shipped_voters_by_channel": _voters_by_channel(db, staff["shipped_request"]),
        "staff_answers": staff["answered"],
        "features_shipped": staff["shipped"],
        "report": write_demo_report(db),
        "knowledge_pages": _pages(db),
        "crm": _crm(db, hub),
    })
    return summary


def write_demo_report(db: Any) -> str:
    """The report of what the demo did (``continuum report``), kept after the demo's store is removed."""
    from continuum.ops.report import write_report

    path = Path(tempfile.mkdtemp(prefix="continuum-report-")) / "report.html"
    with db.connect() as conn:
        write_report(conn, path)
    return str(path)


def _pages(db: Any) -> dict[str, int]:
    from continuum.store.knowledge import pages_kept

    with db.connect() as conn:
        return pages_kept(conn)


def _crm(db: Any, hub: HubConfig) -> dict[str, dict[str, int]]:
    """Per CRM a pipeline syncs with: contacts created or linked, timeline entries and cases."""
    from continuum.store.crm import figures

    systems = sorted({p.crm.system for p in hub.pipelines.values() if p.crm is not None})
    with db.connect() as conn:
        return {system: figures(conn, system) for system in systems}


def _voters_by_channel(db: Any, fr_id: int | None) -> dict[str, int]:
    """Who asked for the shipped feature, by the system they asked on (each is told there)."""
    from continuum.store.interactions import askers

    if fr_id is None:
        return {}
    with db.connect() as conn:
        voters: dict[str, set[int | None]] = {}
        for row in askers(conn, "feature_request", fr_id):
            voters.setdefault(row["source_system"], set()).add(row["customer_id"])
    return {system: len(people) for system, people in sorted(voters.items())}


def _confirm_suggestions(db: Any, hub: HubConfig) -> int:
    """Play the community manager: confirm the suggested matches (`continuum requests suggest`, then
    `merge`).  A tweet or a comment has no title, so its match is mostly a suggestion a person confirms
    (see `continuum requests evaluate --untitled`); in the demo story every suggestion is right."""
    from continuum.config import pipeline_rulebook
    from continuum.ops import requests

    policy = pipeline_rulebook(hub, next(iter(hub.pipelines))).feature_requests
    confirmed = 0
    with db.begin() as conn:
        # Each merge can retarget the others (a chain of suggestions ends in one request): ask again.
        while (pending := requests.suggest(conn)) and confirmed < 1000:
            pair = pending[0]
            requests.merge(conn, pair["candidate"]["id"], pair["feature_request"]["id"], policy)
            confirmed += 1
    return confirmed


def _staff_answers(db: Any, hub: HubConfig, running: dict[str, Any], count: int) -> dict[str, int | None]:
    """Play the staff: answer a few tickets publicly and resolve them, leave an internal note on
    another, and ship the most wanted feature request."""
    targets = {t.system for p in hub.pipelines.values() for t in p.targets}
    with db.connect() as conn:
        rows = tickets_in(conn, targets)
    wanted = max((r for r in rows if r.record_type == "feature_request"), key=lambda r: r.votes or 0, default=None)
    answered = 0
    # Every ticket desk answers at least once (the first ticket of each system comes first).
    others = [r for r in rows if r is not wanted]
    firsts = list({r.system: r for r in reversed(others)}.values())[::-1]
    for index, row in enumerate([*firsts, *(r for r in others if r not in firsts)]):
        sim = running[row.system]
        if answered < count:
            sim.staff_answer(row.external_id, ANSWERS[answered % len(ANSWERS)], public=True)
            sim.staff_resolve(row.external_id)
            answered += 1
        elif index == count:
            sim.staff_answer(row.external_id, "Internal: check with the billing team first.", public=False)
    if wanted is not None:
        running[wanted.system].staff_ship(wanted.external_id)
    return {"answered": answered, "shipped": int(wanted is not None),
            "shipped_request": wanted.record_id if wanted is not None else None}
