"""Dead letters, replay, per-record ordering and expiry, through the CLI as an operator uses it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from continuum.cli import app
from continuum.engine.context import SyncContext, build_connectors
from continuum.engine.outbound import record_effect
from continuum.store.tables import interactions
from continuum.store.tables import outbox as outbox_table
from tests.reliability.conftest import seed_for
from tests.reliability.world import HUB_PATH, World, world

runner = CliRunner()


def _two_comments_for_one_record(w: World) -> tuple[str, str]:
    """A ticket, then two comment effects for the SAME record on it (a later change behind an earlier one)."""
    w.new_user()
    w.discourse.create_topic(w.users[0], "feature-requests", "Dark mode", "Dark mode please")
    w.sync()
    (issue_key,) = w.hub_issues()
    issue_id = w.jira.get_issue(issue_key)["id"]
    ctx = SyncContext(db=w.db, hub=w.hub, pipeline_name="community", connectors=build_connectors(w.hub))
    with w.db.begin() as conn:
        record = conn.execute(select(interactions.c.id)).scalar_one()
        keys = tuple(record_effect(conn, ctx, system="jira", action="comment", object_type="comment",
                                   record_type="interaction", record_id=record, subject=f"ordering-test:{n}",
                                   fields={"body": f"change {n}"}, target_id=issue_id) for n in (1, 2))
    return keys[0], keys[1]


def _comment_texts(w: World, issue_key: str) -> list[str]:
    return [json.dumps(c["body"]) for c in w.jira.comments(issue_key)]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def use(w: World) -> None:
        monkeypatch.setenv("CONTINUUM_DB_URL", w.db_url)
        monkeypatch.setenv("CONTINUUM_CONFIG", str(HUB_PATH))
    return use


def test_a_later_change_waits_behind_its_failed_earlier_one_and_replay_releases_it(tmp_path: Path, cli_env) -> None:
    with world(tmp_path, seed_for("dead-letters")) as w:
        cli_env(w)
        first, _second = _two_comments_for_one_record(w)
        (issue_key,) = w.hub_issues()
        w.jira.inject("500", times=50, path_contains="/comment", method="POST")  # the first change keeps failing
        seen = len(w.jira.exchanges)
        stats = w.sync()
        w.jira.faults.queued.clear()  # Jira is well again
        assert stats.counts.get("effects_failed", 0) >= 1 and stats.counts.get("effects_waiting") >= 1
        posts = [x for x in w.jira.exchanges[seen:] if x.method == "POST" and "/comment" in x.path]
        assert posts and all(b"change 1" in x.request_body for x in posts)  # the second one was not even tried
        letters = json.loads(runner.invoke(app, ["dead-letters", "--json"]).stdout)
        (letter,) = letters
        assert letter["system"] == "jira" and letter["stage"] == "apply" and letter["state"] == "open"
        assert letter["record"].startswith("interaction/") and first in letter["record"]
        assert "comment on" in letter["error"] and "500" in letter["error"] and "attempt " in letter["error"]
        table = runner.invoke(app, ["dead-letters"]).stdout
        assert "interaction/" in table and "jira" in table

        assert "nothing to replay" in runner.invoke(app, ["replay", "--system", "discourse"]).output
        assert "nothing to replay" in runner.invoke(app, ["replay", "--error", "no such error"]).output
        assert "requeued=1" in runner.invoke(app, ["replay", "--system", "jira", "--error", "500"]).output
        stats = w.sync()
        assert stats.counts.get("comment_applied") == 2 and not stats.counts.get("effects_waiting")
        texts = _comment_texts(w, issue_key)
        assert "change 1" in texts[-2] and "change 2" in texts[-1]  # in order
        assert json.loads(runner.invoke(app, ["dead-letters", "--json"]).stdout) == []
        with w.db.connect() as conn:
            assert {r.state for r in conn.execute(select(outbox_table.c.state))} == {"done"}


def test_retries_expire_into_a_visible_final_state_and_the_queue_moves_on(tmp_path: Path, cli_env,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with world(tmp_path, seed_for("expiry")) as w:
        cli_env(w)
        first, second = _two_comments_for_one_record(w)
        (issue_key,) = w.hub_issues()
        w.jira.inject("500", times=2, path_contains="/comment", method="POST")
        w.sync()
        monkeypatch.setenv("CONTINUUM_RETRY_PERIOD", "1s")
        time.sleep(1.2)
        stats = w.sync()
        assert stats.counts.get("effects_expired") == 1
        with w.db.connect() as conn:
            states = {r.idempotency_key: r.state for r in conn.execute(select(outbox_table))}
        assert states[first] == "expired" and states[second] == "done"  # never dropped; the queue moved on
        assert "change 2" in _comment_texts(w, issue_key)[-1]
        letters = json.loads(runner.invoke(app, ["dead-letters", "--json"]).stdout)
        (letter,) = letters
        assert letter["state"] == "expired" and "expired: still failing after the retry period of 1s" in letter["error"]
        assert json.loads(runner.invoke(app, ["dead-letters", "--json", "--state", "open"]).stdout) == []
        status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
        assert status["outbox_expired"] == 1 and status["dead_letters_expired"] == 1
        monkeypatch.setenv("CONTINUUM_RETRY_PERIOD", "7d")
        assert "requeued=1" in runner.invoke(app, ["replay", "--expired"]).output  # on purpose, it runs again
        w.sync()
        with w.db.connect() as conn:
            assert conn.execute(select(outbox_table.c.state).where(
                outbox_table.c.idempotency_key == first)).scalar_one() == "done"
