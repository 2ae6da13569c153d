"""Feature-request matching on real wording: fingerprints, meaning, growth, scopes, evaluation, offline model."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from continuum.cli import app
from continuum.nlp.embeddings import embed_requests, load_embedder
from continuum.ops.request_eval import embedder_for, load_labelled, matcher_for, orders, pairwise, prepare, stream
from continuum.policy.request_index import Request, RequestIndex
from continuum.policy.similarity import MatchConfig, Matcher

runner = CliRunner()
SHIPPED = MatchConfig()


def _request(matcher: Matcher, title: str, body: str, scope: str = "") -> Request:
    embedder = load_embedder()
    vector = embed_requests(embedder, [(matcher.semantic_text(title), matcher.semantic_text(body))],
                            matcher.config.semantic.title_weight)[0]
    return Request(scope, matcher.fingerprint(body, title=title), vector)


def test_stop_words_are_dropped_before_the_plural_stem_so_none_survives_as_a_stub() -> None:
    words = Matcher(SHIPPED).fingerprint("This does not work: exports of invoices please, thanks", title="").words
    assert "thi" not in words and "doe" not in words and "thank" not in words
    assert words == ("work", "export", "invoice")


def test_real_look_alike_groups_in_one_project_stay_apart_and_each_gathers_its_members() -> None:
    # PowerToys: "minimize any app to the tray" (g-005) vs "hide PowerToys' own tray icon" (g-027).
    ids = {"fr-017", "fr-018", "fr-019", "fr-020", "fr-021", "fr-094", "fr-095", "fr-096", "fr-097", "fr-098",
           "fr-099"}
    items = [i for i in load_labelled() if i.id in ids]
    matcher = matcher_for(SHIPPED)
    prepared = prepare(matcher, embedder_for(SHIPPED), items)
    for order in orders(len(items), 3):
        figures = pairwise(items, stream(matcher, items, prepared, order).assignment)
        assert figures["false_positive"] == 0, order
        assert figures["recall"] >= 0.6, (order, figures)


def test_a_feature_request_grows_with_its_members_so_later_wording_matches_it() -> None:
    matcher = Matcher(SHIPPED)
    founder = _request(matcher, "Dark theme", "The white background is too bright for me.")
    member = _request(matcher, "Night mode", "Working late at night, the screen hurts my eyes.")
    later = _request(matcher, "Easier on the eyes at night", "Late evenings the screen hurts my eyes.")
    alone = RequestIndex(matcher, founder.vector.shape[0])  # type: ignore[union-attr]
    alone.add(1, founder)
    grown = RequestIndex(matcher, founder.vector.shape[0])  # type: ignore[union-attr]
    grown.add(1, founder)
    grown.add(1, member)
    _, before = alone.best(later)
    _, after = grown.best(later)
    assert after.semantic is not None and before.semantic is not None
    assert after.semantic > before.semantic + 5


def test_requests_in_different_scopes_are_never_compared() -> None:
    matcher = Matcher(SHIPPED)
    index = RequestIndex(matcher, 256)
    index.add(1, _request(matcher, "Dark mode", "Please add a dark mode", scope="notes"))
    same_words_other_product = _request(matcher, "Dark mode", "Please add a dark mode", scope="calendar")
    assert index.best(same_words_other_product)[0] is None
    assert index.best(_request(matcher, "Dark mode", "Please add a dark mode", scope="notes"))[0] == 1
    with pytest.raises(ValueError, match="scope"):
        index.add(1, same_words_other_product)


def test_a_configured_scope_reads_a_field_a_hashtag_and_aliases() -> None:
    by_channel = MatchConfig.model_validate({"scope": {"field": "channel", "aliases": {
        "ledgerly": ["discourse/feature-requests", "slack/#product"]}}}).scope
    assert by_channel.of({"channel": "discourse/feature-requests"}) == by_channel.of({"channel": "slack/#product"})
    assert by_channel.of({"channel": "discourse/lounge"}) == "discourse/lounge"
    by_tag = MatchConfig.model_validate({"scope": {"pattern": r"#(\w+)"}}).scope
    assert by_tag.of({"title": "Dark mode #Mobile", "text": "please"}) == "mobile"
    assert by_tag.of({"title": "Dark mode", "text": "please"}) == ""


def test_two_thresholds_vote_suggest_or_found() -> None:
    config = MatchConfig(threshold=70, suggest_threshold=50)
    assert [config.decide(s) for s in (70, 69.9, 50, 49.9)] == ["vote", "suggest", "suggest", "new"]
    assert config.decide(99, has_candidate=False) == "new"
    with pytest.raises(ValueError, match="suggest_threshold"):
        MatchConfig(threshold=50, suggest_threshold=60)


def test_evaluate_prints_pairwise_figures_on_the_held_out_part() -> None:
    result = runner.invoke(app, ["requests", "evaluate", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["split"] == "heldout" and figures["requests"] == len(load_labelled(split="heldout"))
    for name in ("automatic", "reviewed"):
        assert set(figures[name]) >= {"precision", "recall", "f1", "cross_scope_merges"}
        assert 0 <= figures[name]["f1"] <= 1 and figures[name]["cross_scope_merges"] == 0
    assert {"vote_precision", "suggested_share", "auc_same_scope", "embedding_ms_per_request"} <= set(figures)
    people = runner.invoke(app, ["requests", "evaluate", "--no-synonyms"])
    assert people.exit_code == 0 and "precision" in people.stdout and "synonyms off" in people.stdout


def test_the_shipped_thresholds_are_what_calibration_chooses_on_the_calibration_part() -> None:
    from continuum.config import load_config, pipeline_rulebook
    from continuum.ops.request_eval import calibrate

    policy = pipeline_rulebook(load_config(), "community").feature_requests
    chosen = calibrate(policy)
    assert (chosen.threshold, chosen.suggest_threshold) == (policy.threshold, policy.suggest_threshold), (
        "the rule book's thresholds must come from `continuum requests calibrate`; it now says "
        f"threshold {chosen.threshold}, suggest_threshold {chosen.suggest_threshold}")
    assert chosen.vote_precision >= 0.95


def test_untitled_requests_have_their_own_calibrated_thresholds() -> None:
    from continuum.config import load_config, pipeline_rulebook
    from continuum.ops.request_eval import calibrate, evaluate

    policy = pipeline_rulebook(load_config(), "community").feature_requests
    assert policy.untitled is not None
    chosen = calibrate(policy, untitled=True)
    assert (chosen.threshold, chosen.suggest_threshold) == (policy.untitled.threshold,
                                                           policy.untitled.suggest_threshold), (
        "feature_requests.untitled must come from `continuum requests calibrate --untitled`; it now says "
        f"threshold {chosen.threshold}, suggest_threshold {chosen.suggest_threshold}")
    # On held-out text without titles, a person reviewing the suggestions finds far more of the right
    # matches than the titled thresholds would let through.
    own = evaluate(policy, untitled=True, runs=2)
    borrowed = evaluate(policy.model_copy(update={"untitled": None}), untitled=True, runs=2)
    assert own["untitled"] and own["threshold"] == policy.untitled.threshold
    assert own["reviewed"]["f1"] > borrowed["reviewed"]["f1"] + 0.1
    assert own["automatic"]["precision"] >= borrowed["automatic"]["precision"]


def test_decide_uses_the_untitled_thresholds_only_without_a_title() -> None:
    config = MatchConfig(threshold=70, suggest_threshold=50, untitled={"threshold": 80, "suggest_threshold": 30})
    assert [config.decide(75), config.decide(75, titled=False)] == ["vote", "suggest"]
    assert [config.decide(40), config.decide(40, titled=False)] == ["new", "suggest"]
    assert config.decide(85, has_candidate=False, titled=False) == "new"
    assert MatchConfig(threshold=70, suggest_threshold=50).decide(60, titled=False) == "suggest"
    with pytest.raises(ValueError, match=r"untitled\.suggest_threshold"):
        MatchConfig(untitled={"threshold": 40, "suggest_threshold": 60})


def test_a_comparison_is_on_the_titled_scale_only_when_both_sides_have_a_title() -> None:
    matcher = Matcher(SHIPPED)
    index = RequestIndex(matcher, load_embedder().dim)
    tweet = _request(matcher, "", "any chance I can pull my weekly reports out as a csv file?")
    index.add(1, dataclasses.replace(tweet, titled=False))
    assert not index.titled(1) and not index.titled(99)
    index.add(2, _request(matcher, "Export reports to CSV", "We need the monthly report in Excel."))
    assert index.titled(2)
    index.add(1, _request(matcher, "CSV export", "A csv download please."))  # a titled member joins
    assert index.titled(1)


def test_the_default_model_loads_offline_from_the_package(tmp_path: Path) -> None:
    # A fresh HOME has no model cache, the hub is offline, and any connection attempt fails loudly.
    code = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network used")
socket.socket.connect = refuse
socket.create_connection = refuse
from continuum.nlp.embeddings import load_embedder
model = load_embedder()
vectors = model.embed(["dark mode please", ""])
print(model.model_id, vectors.shape[1], round(float((vectors[0] ** 2).sum()), 3), float(abs(vectors[1]).sum()))
"""
    env = {**os.environ, "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["wordllama:l2_supercat:256", "256", "1.0", "0.0"]
    assert not (tmp_path / ".cache").exists()


def test_the_optional_transformer_model_names_what_is_missing(tmp_path: Path) -> None:
    import importlib.util

    from continuum.nlp.embeddings import EmbeddingError, SentenceTransformerEmbedder

    with pytest.raises(EmbeddingError, match="not a folder"):
        SentenceTransformerEmbedder(str(tmp_path / "nowhere"))
    with pytest.raises(EmbeddingError, match="model_path"):
        load_embedder("sentence-transformers", None)
    if importlib.util.find_spec("sentence_transformers") is None:
        with pytest.raises(EmbeddingError, match=r"continuum-hub\[sentence-transformers\]"):
            SentenceTransformerEmbedder(str(tmp_path))
