"""Issue #10, item 9: what the commands print reads well (and goes where it should)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from continuum.demo.summary import print_demo_summary
from tests.newcomer.conftest import Loop, cli


def test_results_on_stdout_bad_states_refused_and_migrate_says_what_it_did(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert "ok:" in cli("validate").stdout
    monkeypatch.setenv("CONTINUUM_DB_URL", f"sqlite:///{tmp_path / 'new.db'}")
    assert "created the store schema" in cli("migrate").stdout
    assert "up to date" in cli("migrate").stdout
    bogus = cli("dead-letters", "--state", "bogus")
    assert bogus.exit_code == 2 and "unknown state(s) bogus" in bogus.output


def test_status_plan_and_the_slack_notice_read_like_sentences(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann Lee", None)
    title = "The export of the monthly revenue report crashes whenever the date range spans a year boundary"
    loop.discourse.create_topic("ann", "bugs", title, "It crashes, every time, since the last update.")
    loop.discourse.create_topic("ann", "support", "Jobs", "Are you hiring support engineers? Where do I send my CV?")
    plan = cli("plan")
    assert plan.exit_code == 0, plan.output
    assert "new jira issue" in plan.output and "discourse post:" in plan.output
    assert "summary: The export of the monthly" in plan.output and "a year boundary" in plan.output  # not cut
    assert "interaction 1" not in plan.output and '{"' not in plan.output  # no scratch ids, no raw JSON
    assert cli("sync").exit_code == 0
    status = cli("status")
    assert "{'" not in status.output and "datetime.datetime(" not in status.output
    (message,) = [m for m in loop.sims["slack"].messages(loop.sims["slack"].channel_id("#hr"))
                  if m.get("metadata")]
    assert message["text"].startswith("New HR question from Ann Lee (discourse/support), for #hr:")


def test_the_demo_summary_agrees_with_its_own_table() -> None:
    summary = {"customers": 2, "interactions": 5, "links": 3, "staff_answers": 3, "features_shipped": 1,
               "by_status": {"answered": 4}, "rerun_effects": 0, "rerun_calls": 2, "outbox_pending": 0,
               "dead_letters": 0, "effects": {"discourse": {"replies": 6}, "jira": {"created": 3}}}
    buffer = io.StringIO()
    print_demo_summary(summary, Console(file=buffer, width=200))
    text = buffer.getvalue()
    assert "posted 6 replies in the customers' threads" in text and "answered 3 tickets" in text


def test_the_effects_table_shows_only_what_some_system_counted_and_fits_a_terminal() -> None:
    summary = {"customers": 2, "interactions": 5, "links": 3, "staff_answers": 0, "features_shipped": 0,
               "by_status": {"answered": 4}, "rerun_effects": 0, "rerun_calls": 2, "outbox_pending": 0,
               "dead_letters": 0, "effects": {"discourse": {"replies": 6, "created": 0},
                                              "jira": {"created": 3, "contacts_created": 0, "transitions": 0}}}
    buffer = io.StringIO()
    print_demo_summary(summary, Console(file=buffer, width=100))
    table = buffer.getvalue().split("Effects counted by the simulators")[1]
    assert "replies" in table and "created" in table
    assert "contacts_created" not in table and "transitions" not in table  # nobody counted one
    assert "…" not in table  # no header cut short
