"""Flaky APIs: both simulators fail a seeded share of calls in every way they can, and page badly.

429 with Retry-After, 500/502/503, answers that come after the client's read
timeout (the request *was* served), dropped connections, truncated JSON, and
next pages that repeat items or shift under a concurrent edit.  Customers and
staff keep talking meanwhile.  The sync must converge with nothing lost and
nothing duplicated (counted on the simulators' side), and no request may
reach a simulator before a Retry-After it sent has expired.

``CONTINUUM_FAULT_ROUNDS`` sets the number of rounds (6 in ``make test``, more in ``make soak``).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from connectors.discourse.client import DiscourseClient
from connectors.discourse.config import DiscourseConfig
from connectors.discourse.connector import DiscourseConnector
from connectors.jira.config import JiraConfig
from connectors.jira.connector import JiraConnector
from continuum.config import HubConfig
from continuum.connections import resolve_connection
from continuum.engine.context import RunStats, SyncContext
from continuum.engine.run import run_pipeline
from continuum.http import RetryPolicy, new_session
from continuum.simkit.server import Exchange
from tests.reliability.conftest import seed_for
from tests.reliability.figures import add_tally
from tests.reliability.world import World, dump, world

ROUNDS = int(os.environ.get("CONTINUUM_FAULT_ROUNDS", "6"))
RATES = {"429": 0.02, "500": 0.03, "502": 0.03, "503": 0.02, "timeout": 0.03, "reset": 0.03, "malformed": 0.03}
# Short timeouts and backoff so that a round takes a second or two; Retry-After is the servers' own.
POLICY = RetryPolicy(max_attempts=8, max_total_s=30, backoff_initial_s=0.02, backoff_max_s=0.3,
                     connect_timeout_s=2.0, read_timeout_s=0.4)
TIMEOUT_LATENCY_S = 0.8


def fault_connectors(hub: HubConfig) -> dict[str, Any]:
    """The real connectors, built as the engine builds them, with the test's retry policy."""
    jira_conn = resolve_connection(hub.systems["jira"].connection)
    jira = JiraConnector(JiraConfig.from_connection(jira_conn, dict(hub.systems["jira"].options)), POLICY)
    d_conn = resolve_connection(hub.systems["discourse"].connection)
    d_config = DiscourseConfig(url=d_conn.host, api_username=d_conn.login or "", api_key=d_conn.password or "",
                               **hub.systems["discourse"].options)
    discourse = DiscourseConnector(d_config, DiscourseClient(d_config, new_session("discourse", POLICY)))
    return {"jira": jira, "discourse": discourse}


def run(w: World, pipeline: str = "community") -> RunStats:
    return run_pipeline(SyncContext(db=w.db, hub=w.hub, pipeline_name=pipeline, connectors=fault_connectors(w.hub)))


def retry_after_violations(exchanges: list[Exchange]) -> list[str]:
    """Requests that arrived before a Retry-After the simulator had sent expired."""
    ordered = sorted(exchanges, key=lambda x: x.at)
    problems = []
    for index, x in enumerate(ordered):
        value = x.response_headers.get("Retry-After")
        if x.status not in (429, 503) or not value:
            continue
        until = x.at + float(value)
        early = [y for y in ordered[index + 1:] if y.at < until - 0.01]
        problems += [f"{y.method} {y.path} {y.at - x.at:.3f}s after a {x.status} with Retry-After {value}"
                     for y in early]
    return problems


def test_flaky_apis_converge_exactly_once_and_retry_after_is_respected(tmp_path: Path, figures: dict) -> None:
    seed = seed_for("faults")
    with world(tmp_path, seed) as w:
        jira_options = {**w.hub.systems["jira"].options, "page_size": 2}
        w.hub.systems["jira"] = w.hub.systems["jira"].model_copy(update={"options": jira_options})
        w.discourse.latest_limit = 3  # several pages per read
        for _ in range(4):
            w.new_user()
        failed_runs: Counter[str] = Counter()
        injected: Counter[str] = Counter()
        for number, sim in enumerate((w.discourse, w.jira)):
            sim.set_fault_rates(RATES, seed=seed + number, retry_after="1", latency_s=TIMEOUT_LATENCY_S)
            for kind in RATES:  # each kind at least once, whatever the seed; then the seeded share
                sim.inject(kind, times=1, retry_after="1", latency_s=TIMEOUT_LATENCY_S)
        for round_ in range(ROUNDS):
            for sim in (w.discourse, w.jira):
                sim.set_paging_faults(("repeat", "shift")[round_ % 2], rate=0.7)
            w.activity(topics=3, replies=2, staff_comments=2)
            w.jira.advance_clock(150)  # older changes fall out of the one-minute re-read overlap
            try:
                run(w)
            except Exception as exc:  # a run may give up on a call; the next one picks up where it stopped
                failed_runs[type(exc).__name__] += 1
        # Still faulty (but nobody posts any more): the next runs must finish the job anyway.
        for sim in (w.discourse, w.jira):
            sim.set_paging_faults("repeat", rate=0.5)
        tally = w.check()
        for _ in range(12):
            try:
                run(w)
            except Exception as exc:
                failed_runs[type(exc).__name__] += 1
            tally = w.check()
            if not (tally.duplicates or tally.lost or tally.problems):
                break
        for sim in (w.discourse, w.jira):
            injected.update(sim.faults.injected)
        figures["faults_injected"].update(injected)
        add_tally(tally)
        context = f"seed={seed} injected={dict(injected)} failed_runs={dict(failed_runs)}"
        assert tally.duplicates == 0 and tally.lost == 0 and not tally.problems, f"{context}\n{dump(tally)}"
        for name, sim in (("discourse", w.discourse), ("jira", w.jira)):
            early = retry_after_violations(sim.exchanges)
            assert not early, f"{context}: {name} got requests before Retry-After expired: {early[:5]}"
        for kind in ("429", "500", "502", "503", "timeout", "reset", "malformed", "paging_repeat", "paging_shift"):
            assert injected[kind] > 0, f"{context}: no {kind} fault was injected; the test proves nothing about it"
    print(f"faults injected: {dict(injected)}; runs that gave up: {dict(failed_runs)}")
