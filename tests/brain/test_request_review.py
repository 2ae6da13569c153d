"""Suggested matches a person confirms or rejects, end to end: Discourse → store → CLI → Jira; scopes never merge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from continuum.cli import app
from continuum.config import pipeline_rulebook
from continuum.store.request_matching import request_reviews
from tests.brain.helpers import feature_request_rows, interaction
from tests.e2e.conftest import Loop

runner = CliRunner()


def use_rules(loop: Loop, tmp_path: Path, **feature_requests: Any) -> None:
    """The pipeline runs with a copy of the shipped rule book whose feature_requests section is changed."""
    book = pipeline_rulebook(loop.hub, "community")
    data = yaml.safe_load(loop.hub.file(loop.hub.pipelines["community"].rules or "").read_text())
    data["feature_requests"] = {**data["feature_requests"], **feature_requests}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data))
    loop.hub.pipelines["community"].rules = str(path)
    assert pipeline_rulebook(loop.hub, "community").feature_requests != book.feature_requests


def cli(*args: str) -> Any:
    result = runner.invoke(app, ["requests", *args])
    assert result.exit_code == 0, result.output
    return result


def by_title(loop: Loop) -> dict[str, dict[str, Any]]:
    return {fr["title"]: fr for fr in feature_request_rows(loop)}


def test_suggestions_wait_for_a_person_who_confirms_or_rejects_and_each_decision_is_kept(
        loop: Loop, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    # Every request with a candidate is a suggestion here: nothing above 99.9 votes on its own.
    use_rules(loop, tmp_path, threshold=99.9, suggest_threshold=1, synonyms={})
    for user in ("mara", "hana", "deshawn"):
        loop.discourse.add_user(user, user.title(), None)
    loop.discourse.create_topic("mara", "feature-requests", "Dark mode please!", "The white screen hurts at night.")
    _, hana_post = loop.discourse.create_topic("hana", "feature-requests", "Night theme",
                                               "Could the app get darker colours for evening work?")
    loop.sync()
    frs = by_title(loop)
    dark, night = frs["Dark mode please!"]["id"], frs["Night theme"]["id"]
    assert len(loop.jira.issues()) == 1  # the suggested one's ticket waits
    pending = json.loads(cli("suggest", "--json").stdout)
    assert [(p["feature_request"]["id"], p["candidate"]["id"]) for p in pending] == [(night, dark)]
    assert "waits for review" in cli("list").stdout

    cli("merge", str(dark), str(night))  # a person confirms
    loop.sync()
    assert len(loop.jira.issues()) == 1
    (issue,) = loop.jira.issues()
    assert "Votes: 2 customers" in json.dumps(issue["fields"]["description"])
    assert json.loads(cli("suggest", "--json").stdout) == []
    assert by_title(loop)["Night theme"]["status"] == "merged"
    shown = cli("show", str(dark)).stdout
    assert "founded" in shown and "merged" in shown and "Night theme" in shown

    loop.discourse.create_topic("deshawn", "feature-requests", "Export invoices to PDF in bulk",
                                "All invoices of a month as PDFs at once.")
    loop.sync()
    bulk = by_title(loop)["Export invoices to PDF in bulk"]["id"]
    assert len(loop.jira.issues()) == 1
    cli("split", str(bulk))  # a person rejects the suggestion: it stands alone, with its ticket
    loop.sync()
    assert len(loop.jira.issues()) == 2

    hana = interaction(loop, hana_post)["id"]
    cli("split", str(dark), str(hana))  # and undoes the earlier merge for one request
    loop.sync()
    assert len(loop.jira.issues()) == 3
    assert by_title(loop)["Dark mode please!"]["votes"] == 1
    with loop.db.connect() as conn:
        kept = [(r.origin, r.state) for r in conn.execute(select(request_reviews).order_by(request_reviews.c.id))]
    assert kept == [("suggestion", "confirmed"), ("suggestion", "rejected")]
    # Splitting out a request that founded its own feature request undoes no vote of the matcher: no new review.
    refused = runner.invoke(app, ["requests", "merge", str(dark), str(dark)])
    assert refused.exit_code == 1 and "itself" in refused.output


def test_a_wrong_automatic_vote_split_by_a_person_is_kept_as_a_rejection(loop: Loop, tmp_path: Path,
                                                                         monkeypatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    use_rules(loop, tmp_path, threshold=1, suggest_threshold=1, synonyms={})  # everything votes
    for user in ("ann", "bob"):
        loop.discourse.add_user(user, user.title(), None)
    loop.discourse.create_topic("ann", "feature-requests", "Dark invoice list", "A dark mode for the invoice list")
    _, post = loop.discourse.create_topic("bob", "feature-requests", "Invoice list to CSV",
                                          "A CSV export of the invoice list")
    loop.sync()
    (fr,) = feature_request_rows(loop)
    cli("split", str(fr["id"]), str(interaction(loop, post)["id"]))
    decisions = json.loads(cli("calibrate", "--json").stdout)
    assert decisions["reviews"] == 1 and decisions["current"]["threshold"] == 69.3
    with loop.db.connect() as conn:
        (review,) = conn.execute(select(request_reviews)).mappings().all()
    assert review["origin"] == "split" and review["state"] == "rejected" and review["score"] >= 1


def test_the_same_request_in_two_scopes_makes_two_feature_requests_and_two_tickets(loop: Loop,
                                                                                   tmp_path: Path) -> None:
    use_rules(loop, tmp_path, scope={"pattern": r"#(\w+)"})
    for user in ("ann", "bob", "cem"):
        loop.discourse.add_user(user, user.title(), None)
    loop.discourse.create_topic("ann", "feature-requests", "Dark mode #notes", "Please add a dark mode to notes")
    loop.discourse.create_topic("bob", "feature-requests", "Dark mode #calendar", "Please add a dark mode to notes")
    loop.discourse.create_topic("cem", "feature-requests", "Dark mode #notes", "Please add a dark mode to notes")
    loop.sync()
    frs = sorted(feature_request_rows(loop), key=lambda r: r["id"])
    assert [fr["votes"] for fr in frs] == [2, 1]  # ann and cem in #notes; bob alone in #calendar
    assert len(loop.jira.issues()) == 2


def test_the_plan_shows_a_suggested_match_and_the_ticket_it_holds_back(loop: Loop, tmp_path: Path) -> None:
    from continuum.ops.plan import plan

    use_rules(loop, tmp_path, threshold=99.9, suggest_threshold=1, synonyms={})
    for user in ("ann", "bob"):
        loop.discourse.add_user(user, user.title(), None)
    loop.discourse.create_topic("ann", "feature-requests", "Dark mode", "A dark theme for the invoice list")
    loop.discourse.create_topic("bob", "feature-requests", "Night theme", "Darker colours for the invoice list")
    result = plan(loop.hub, "community", loop.db)
    outcomes = [d["outcome"] for d in result["decisions"]]
    assert outcomes == ["new_feature_request", "suggested"], result["decisions"]
    assert "suggested match for feature request" in result["decisions"][1]["why"]
    assert len(result["effects"]["jira"]) == 1  # one ticket: the suggested request's waits for a person
