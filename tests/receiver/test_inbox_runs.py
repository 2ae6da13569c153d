"""Deliveries wake the pipeline: read → triage → apply under the run lock, and polling stays the safety net.

An event and a poll of the same record (either order, any number of times) make one interaction and one
Jira issue; a receiver killed right after its 200 loses nothing; a crash before the deliveries are settled
re-runs them harmlessly; a run that finds the lock taken leaves them pending."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from continuum.engine.inbox import process_inbox
from continuum.failpoints import SimulatedCrash
from continuum.store.locking import pipeline_lock
from continuum.store.tables import interactions
from tests.e2e.conftest import Loop
from tests.e2e.conftest import loop as loop  # the fixture: simulators on loopback, the shipped config
from tests.receiver.harness import SECRETS, Receiver, running_receiver, signed


@pytest.fixture
def hooked(loop: Loop) -> Loop:
    """The loop, with the Discourse connection also holding its webhook secret."""
    _add_secrets(loop, "discourse")
    return loop


def _add_secrets(loop: Loop, system: str) -> None:
    key = f"AIRFLOW_CONN_CONTINUUM_{system.upper()}"
    conn = json.loads(os.environ[key])
    extra = conn.get("extra") or {}
    extra = json.loads(extra) if isinstance(extra, str) else extra
    conn["extra"] = {**extra, **SECRETS[system]}
    os.environ[key] = loop.env[key] = json.dumps(conn)


def _deliver(url: str, post_id: int, topic_id: int) -> httpx.Response:
    body = json.dumps({"post": {"id": post_id, "topic_id": topic_id}}).encode()
    return httpx.post(url, content=body, headers=signed("discourse", body, delivery=uuid.uuid4().hex[:12]))


def _interactions(loop: Loop) -> int:
    with loop.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(interactions)).scalar_one())


def _request(loop: Loop) -> tuple[int, int]:
    loop.discourse.add_user("mara", "Mara Lindqvist", "mara@example.com")
    topic_id, post_id = loop.discourse.create_topic("mara", "feature-requests", "Dark mode please",
                                                    "Please add a dark mode to the dashboard")
    return topic_id, post_id


def test_an_event_then_polls_make_one_interaction_and_one_issue(hooked: Loop) -> None:
    topic_id, post_id = _request(hooked)
    with running_receiver(hooked.hub, hooked.db) as receiver:
        assert _deliver(receiver.hook("discourse"), post_id, topic_id).status_code == 200
        result = process_inbox(hooked.hub, hooked.db)
        assert (result.deliveries, result.processed, result.left_pending) == (1, 1, 0)
        assert list(result.runs) == ["community"]
        assert result.runs["community"].counts["interactions_created"] == 1
        assert _interactions(hooked) == 1 and len(hooked.jira.issues()) == 1
        (row,) = receiver.deliveries()
        assert row["state"] == "processed" and row["body"] is None  # the body is not kept once it is read

        hooked.sync()  # the scheduled poll: the same post, already stored under its id
        hooked.sync()
        assert _interactions(hooked) == 1 and len(hooked.jira.issues()) == 1

        # The vendor delivers again (a new delivery about the same post): nothing new anywhere.
        assert _deliver(receiver.hook("discourse"), post_id, topic_id).status_code == 200
        assert process_inbox(hooked.hub, hooked.db).processed == 1
    assert _interactions(hooked) == 1 and len(hooked.jira.issues()) == 1


def test_a_poll_then_the_late_event_make_one_interaction(hooked: Loop) -> None:
    topic_id, post_id = _request(hooked)
    hooked.sync()
    assert _interactions(hooked) == 1 and len(hooked.jira.issues()) == 1
    with running_receiver(hooked.hub, hooked.db) as receiver:
        assert _deliver(receiver.hook("discourse"), post_id, topic_id).status_code == 200
        result = process_inbox(hooked.hub, hooked.db)
    assert result.processed == 1 and "interactions_created" not in result.runs["community"].counts
    assert _interactions(hooked) == 1 and len(hooked.jira.issues()) == 1


def test_a_crash_before_settling_runs_the_delivery_again_harmlessly(hooked: Loop,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    topic_id, post_id = _request(hooked)
    with running_receiver(hooked.hub, hooked.db) as receiver:
        assert _deliver(receiver.hook("discourse"), post_id, topic_id).status_code == 200
        monkeypatch.setenv("CONTINUUM_FAILPOINTS", "inbox:before_settle")
        monkeypatch.setenv("CONTINUUM_FAILPOINTS_MODE", "raise")
        with pytest.raises(SimulatedCrash):
            process_inbox(hooked.hub, hooked.db)
        (row,) = receiver.deliveries()
        assert row["state"] == "pending"  # ran, but never settled: the next pass takes it again
        monkeypatch.delenv("CONTINUUM_FAILPOINTS")
        assert process_inbox(hooked.hub, hooked.db).processed == 1
    assert _interactions(hooked) == 1 and len(hooked.jira.issues()) == 1


def test_a_delivery_waits_while_another_run_holds_the_lock(hooked: Loop) -> None:
    topic_id, post_id = _request(hooked)
    with running_receiver(hooked.hub, hooked.db) as receiver:
        assert _deliver(receiver.hook("discourse"), post_id, topic_id).status_code == 200
        with pipeline_lock(hooked.db, "community"):  # a scheduled run is going on
            busy = process_inbox(hooked.hub, hooked.db)
        assert (busy.locked, busy.processed, busy.left_pending) == (["community"], 0, 1)
        assert _interactions(hooked) == 0
        assert process_inbox(hooked.hub, hooked.db).processed == 1
        assert _interactions(hooked) == 1
        assert [r["state"] for r in receiver.deliveries()] == ["processed"]


def test_a_delivery_of_a_system_no_pipeline_reads_is_settled_as_skipped(hooked: Loop) -> None:
    body = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention"}}).encode()
    with running_receiver(hooked.hub, hooked.db) as receiver:
        # Slack's connection has no signing secret yet: refused (503, said in the log), nothing kept.
        assert httpx.post(receiver.hook("slack"), content=body, headers=signed("slack", body)).status_code == 503
        assert receiver.deliveries() == []
        _add_secrets(hooked, "slack")
        assert httpx.post(receiver.hook("slack"), content=body, headers=signed("slack", body)).status_code == 200
        result = process_inbox(hooked.hub, hooked.db)  # Slack is where notices go; no pipeline reads it
        assert (result.processed, result.skipped, result.runs) == (0, 1, {})
        assert [r["state"] for r in receiver.deliveries()] == ["skipped"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_receiver_killed_right_after_its_answer_loses_nothing(hooked: Loop) -> None:
    topic_id, post_id = _request(hooked)
    port = _free_port()
    env = {**os.environ, **hooked.env, "CONTINUUM_DB_URL": hooked.db_url}
    server = subprocess.Popen([sys.executable, "-m", "continuum.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "continuum serve did not start"
            time.sleep(0.1)
        answer = _deliver(f"{url}/hooks/discourse", post_id, topic_id)
        server.send_signal(signal.SIGKILL)  # at once: no shutdown, no flush, nothing after the 200
        assert answer.status_code == 200
    finally:
        server.kill()
        server.wait(timeout=30)
    receiver = Receiver(url, hooked.db)
    assert [r["state"] for r in receiver.deliveries()] == ["pending"]
    result = process_inbox(hooked.hub, hooked.db)  # later: the event DAG's task
    assert result.processed == 1
    assert _interactions(hooked) == 1 and len(hooked.jira.issues()) == 1
    assert datetime.now(UTC) >= receiver.deliveries()[0]["processed_at"].replace(tzinfo=UTC)


def test_the_cli_processes_the_inbox_and_exits_75_while_the_lock_is_held(hooked: Loop) -> None:
    topic_id, post_id = _request(hooked)
    with running_receiver(hooked.hub, hooked.db) as receiver:
        assert _deliver(receiver.hook("discourse"), post_id, topic_id).status_code == 200
    env = {**os.environ, **hooked.env, "CONTINUUM_DB_URL": hooked.db_url}
    command = [sys.executable, "-m", "continuum.cli", "inbox", "process", "--json"]
    with pipeline_lock(hooked.db, "community"):
        busy = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert busy.returncode == 75, busy.stderr[-2000:]
    assert json.loads(busy.stdout)["left_pending"] == 1
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["processed"] == 1
    status = subprocess.run([sys.executable, "-m", "continuum.cli", "inbox", "status", "--json"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert json.loads(status.stdout) == {"processed": 1}
    assert _interactions(hooked) == 1 and len(hooked.jira.issues()) == 1
