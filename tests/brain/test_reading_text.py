"""Triage reads the text: kind, tone and urgency from what the customer wrote, and a person for the doubtful."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from continuum.cli import app
from continuum.nlp.classifier import KindModel
from continuum.nlp.examples import shipped_training
from continuum.nlp.model import kind_model
from continuum.nlp.signals import signals
from continuum.nlp.text import clean_text
from continuum.policy.reading import read_kind
from continuum.policy.rulebook import ClassifierPolicy
from tests.brain.helpers import interaction, slack_texts
from tests.e2e.conftest import Loop

runner = CliRunner()
POLICY = ClassifierPolicy()


def test_the_rules_read_the_customers_own_words_not_the_wrapping() -> None:
    tweet = "@acme_help @jo_b hey, my card was charged twice https://t.co/x9 pls fix"
    assert clean_text(tweet) == "hey, my card was charged twice pls fix"
    mail = ("Hi team,\nThe export button does nothing since Monday.\n\nBest regards,\nAnna Meyer\nACME GmbH\n\n"
            "On Tue, 3 Mar 2026 at 10:02, Support <help@acme.example> wrote:\n> Did you try again?\n")
    assert clean_text(mail) == "Hi team,\nThe export button does nothing since Monday."
    assert clean_text("Thanks,\nthat fixed it") == "Thanks,\nthat fixed it"  # a sign-off word mid-text stays


def test_tone_and_urgency_cues() -> None:
    angry = signals("This is the THIRD time you charged me twice!!! Worst service ever, I'm cancelling.")
    happy = signals("Loved the new calendar view, thank you so much 😍")
    assert angry.sentiment < -0.5 < 0.5 < happy.sentiment
    assert angry.urgency >= 2 and happy.urgency == 0
    assert signals("Ich bin ausgesperrt und kann mich nicht anmelden, dringend!").urgency >= 1


@pytest.mark.parametrize(("hint", "predicted", "confidence", "expected", "doubtful"), [
    (None, "complaint", 0.9, "complaint", False),        # a tweet: the text decides
    (None, "complaint", 0.3, "complaint", True),         # ... unless it is not sure
    ("feature_request", "question", 0.6, "feature_request", False),  # the category stands against a weak guess
    ("feature_request", "bug", 0.9, "bug", False),       # ... but not against a sure one
    ("noise", "complaint", 0.6, "complaint", False),     # an off-topic category is no proof of banter
    (None, "noise", 0.6, "noise", True),                 # banter only when the text is confidently banter
    (None, "noise", 0.9, "noise", False),
])
def test_what_the_text_says_against_what_the_channel_says(hint: str | None, predicted: str, confidence: float,
                                                          expected: str, doubtful: bool) -> None:
    reading = read_kind(hint, predicted, confidence, POLICY)
    assert (reading.kind, reading.doubtful) == (expected, doubtful)
    assert read_kind(None, "question", 0.99, POLICY, language="ja").doubtful  # a language it was not taught


def test_the_model_is_built_offline_from_the_shipped_examples_and_is_deterministic(tmp_path: Path) -> None:
    examples = shipped_training()
    assert len(examples) >= 1000 and len({e.kind for e in examples}) == 8
    model = kind_model(tmp_path / "kind.joblib")
    assert (tmp_path / "kind.joblib").exists()
    again = KindModel.load(tmp_path / "kind.joblib")
    texts = ["the app crashes when I open settings", "are you hiring interns?", "lol happy friday"]
    assert [p.kind for p in model.predict(texts)] == [p.kind for p in again.predict(texts)] == \
        ["bug", "hr", "noise"]


def test_a_complaint_in_the_lounge_is_heard_and_gets_high_priority(loop: Loop) -> None:
    loop.discourse.add_user("mara", "Mara", None)
    _, post = loop.discourse.create_topic(
        "mara", "lounge", "Charged twice again",
        "You charged my card twice for the same month AGAIN. Nobody answers my emails. Refund me or I cancel.")
    loop.sync()
    row = interaction(loop, post)
    assert (row["kind"], row["priority"], row["team"]) == ("complaint", "high", "support")
    assert row["status"] != "ignored"


def test_a_doubtful_message_waits_for_a_person_who_decides_and_teaches_the_model(loop: Loop, monkeypatch,
                                                                             tmp_path: Path) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    monkeypatch.setenv("CONTINUUM_DATA_DIR", str(tmp_path))  # the retrained model stays this test's own
    text = "Event registrations here 🌸"
    (guess,) = kind_model(tmp_path / "models" / "kind.joblib").predict([text])
    assert not (guess.kind == "noise" and guess.confidence >= POLICY.banter_floor), guess  # the premise
    loop.discourse.add_user("tom", "Tom", None)
    _, post = loop.discourse.create_topic("tom", "lounge", "hmm", text)
    loop.sync()
    row = interaction(loop, post)
    assert row["status"] == "needs_review", row  # neither ignored as banter nor sent anywhere
    status = runner.invoke(app, ["status", "--json"])
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["needs_review"] == 1
    done = runner.invoke(app, ["override", str(row["id"]), "--kind", "noise", "--action", "ignore"])
    assert done.exit_code == 0, done.output
    loop.sync()
    assert interaction(loop, post)["status"] == "ignored"
    retrained = runner.invoke(app, ["triage", "retrain"])
    assert retrained.exit_code == 0, retrained.output
    assert "and 1 corrections" in retrained.output


def test_hr_and_sales_are_never_notified_on_a_doubtful_reading(loop: Loop) -> None:
    loop.discourse.add_user("li", "Li", None)
    _, post = loop.discourse.create_topic("li", "lounge", "?", "ok")
    loop.sync()
    assert slack_texts(loop, "#hr") == [] and slack_texts(loop, "#sales") == []
    assert interaction(loop, post)["status"] in ("needs_review", "ignored")


def test_triage_evaluate_scores_the_held_out_set(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONTINUUM_DATA_DIR", str(tmp_path))
    done = runner.invoke(app, ["triage", "evaluate", "--json"])
    assert done.exit_code == 0, done.output
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["examples"] >= 300
    assert set(figures["per_kind"]) == {"question", "complaint", "bug", "feature_request", "praise", "sales_lead",
                                        "hr", "noise"}
    assert figures["macro_f1"] >= 0.75 and figures["banter_precision"] >= 0.9  # a broken model cannot pass
