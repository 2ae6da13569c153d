"""Triage and routing rules, the dry-run plan, and human overrides that win on every later run."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from continuum.cli import app
from continuum.store.status import counts
from tests.brain.helpers import interaction, slack_texts
from tests.e2e.conftest import Loop

runner = CliRunner()


def test_hr_questions_go_to_hr_in_chat_and_never_to_jira(loop: Loop) -> None:
    loop.discourse.add_user("kwame", "Kwame Mensah", None)
    _, post = loop.discourse.create_topic("kwame", "feature-requests", "Are you hiring?",
                                          "Are you hiring support engineers? I would like to apply for the role.")
    loop.sync()
    row = interaction(loop, post)
    assert (row["kind"], row["team"], row["status"]) == ("hr", "hr", "routed")
    assert loop.jira.issues() == []
    (text,) = slack_texts(loop, "#hr")
    assert "Are you hiring support engineers" in text
    loop.sync()
    assert len(slack_texts(loop, "#hr")) == 1


def test_vips_get_the_tighter_sla(loop: Loop, monkeypatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("vip", "Very Important", "boss@bigcorp.example")
    loop.discourse.add_user("std", "Standard Sam", "sam@small.example")
    _, vip_post = loop.discourse.create_topic("vip", "support", "Totals", "Why are the totals rounded oddly?")
    _, std_post = loop.discourse.create_topic("std", "support", "Totals too", "Why are the totals rounded oddly?")
    loop.sync()
    vip = interaction(loop, vip_post)
    result = runner.invoke(app, ["customers", "tier", str(vip["customer_id"]), "vip"])
    assert result.exit_code == 0
    # The tier counts from the next interaction on: post again.
    _, vip_again = loop.discourse.create_topic("vip", "support", "Totals 2", "And the VAT line rounds too?")
    loop.sync()
    fast, slow = interaction(loop, vip_again), interaction(loop, std_post)
    assert fast["sla_policy"] == "vip" and slow["sla_policy"] in (None, "standard")
    assert fast["sla_due"] - fast["created_at"] < slow["sla_due"] - slow["created_at"]


def test_plan_shows_effects_and_why_without_writing_anything(loop: Loop, monkeypatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    loop.discourse.add_user("bob", "Bob", None)
    loop.discourse.create_topic("ann", "feature-requests", "Dark mode please", "A dark theme for late evenings")
    loop.discourse.create_topic("bob", "feature-requests", "Night theme", "Any night mode planned? Eyes hurt")
    loop.discourse.create_topic("bob", "support", "Hiring?", "Are you hiring? Where do I send my CV?")
    result = runner.invoke(app, ["plan", "--json"])
    assert result.exit_code == 0, result.output
    (plan,) = json.loads(result.stdout)
    assert [e["action"] for e in plan["effects"]["jira"]] == ["create"]  # ONE ticket for both requests
    assert [e["action"] for e in plan["effects"]["slack"]] == ["notify"]
    voted = [d for d in plan["decisions"] if d["outcome"] == "voted"]
    assert voted and voted[0]["score"] >= 75 and "dark-mode" in voted[0]["why"]
    # Nothing was written anywhere: no ticket, no message, an empty store.
    assert loop.jira.effect_counts()["created"] == 0 and loop.sims["slack"].effect_counts()["notifications"] == 0
    with loop.db.connect() as conn:
        assert counts(conn)["interactions"] == 0


def test_a_cli_override_wins_over_the_rules_on_every_later_run(loop: Loop, monkeypatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann", "Ann", None)
    _, post = loop.discourse.create_topic("ann", "support", "Invoices vanish", "Half our invoices vanished today")
    loop.sync()
    row = interaction(loop, post)
    assert row["kind"] == "question" and loop.jira.issues() == []
    result = runner.invoke(app, ["override", str(row["id"]), "--kind", "bug", "--priority", "urgent",
                                 "--route", "jira", "--action", "ticket"])
    assert result.exit_code == 0, result.output
    for _ in range(2):
        loop.sync()
    row = interaction(loop, post)
    assert (row["kind"], row["priority"], row["status"]) == ("bug", "urgent", "routed")
    (issue,) = loop.jira.issues()
    assert issue["fields"]["priority"]["name"] == "Highest"


def test_a_label_on_the_ticket_is_an_override(loop: Loop) -> None:
    loop.discourse.add_user("ann", "Ann", None)
    _, post = loop.discourse.create_topic("ann", "bugs", "Totals off", "The PDF total is off by a cent")
    loop.sync()
    assert interaction(loop, post)["priority"] == "normal"
    (issue,) = loop.jira.issues()
    loop.jira.add_label(issue["key"], "continuum-priority-urgent")
    loop.sync()
    loop.sync()
    row = interaction(loop, post)
    assert row["priority"] == "urgent" and row["override"] == {"priority": "urgent"}
