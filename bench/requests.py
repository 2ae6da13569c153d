"""Figure: feature-request matching on real text, its cost, and what it installs.

- ``heldout``: the held-out part of the shipped real set, through the same index and decisions as the
  engine (``continuum requests evaluate``), with the shipped rule book and with its synonyms emptied;
- ``end_to_end``: the held-out requests posted as Discourse topics (scope as a tag the rule book reads),
  synced through the Discourse and Jira simulators with the shipped rule book: what the hub really made;
- ``community``: the thread-starting requests of tests/data/community.yaml, with and without synonyms;
- cost: embedding time per request, batched and one at a time; install size of the default model's
  packages.  The sentence-transformers extra is not installed here (it pulls torch and CUDA wheels).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from bench.common import Timer, emit
from continuum.cli.common import stdout_to_stderr
from continuum.config import load_config, pipeline_rulebook
from continuum.nlp.embeddings import WordLlamaEmbedder, embed_requests, load_embedder
from continuum.ops.request_eval import Labelled, evaluate, load_labelled, matcher_for, pairwise, prepare, stream

ROOT = Path(__file__).resolve().parent.parent
COMMUNITY = ROOT / "tests" / "data" / "community.yaml"
# The default model and what it brings that the hub did not already install.
MODEL_PACKAGES = ("wordllama", "tokenizers", "safetensors", "huggingface_hub", "hf-xet", "toml", "tqdm", "filelock",
                  "httpx2", "httpcore2", "truststore")


def figures_of(result: dict[str, Any], prefix: str) -> dict[str, float | int | None]:
    out: dict[str, float | int | None] = {}
    for part in ("automatic", "reviewed"):
        for name in ("precision", "recall", "f1", "cross_scope_merges"):
            out[f"{prefix}_{part}_{name}"] = result[part][name]
    out[f"{prefix}_vote_precision"] = result["vote_precision"]
    out[f"{prefix}_suggested_share"] = result["suggested_share"]
    for name, value in result["auc_same_scope"].items():
        out[f"{prefix}_auc_same_scope_{name}"] = value
    for name, value in result["auc_all_pairs"].items():
        out[f"{prefix}_auc_all_pairs_{name}"] = value
    return out


def community_requests() -> list[Labelled]:
    data = yaml.safe_load(COMMUNITY.read_text(encoding="utf-8"))
    return [Labelled(t["id"], "ledgerly", t["label"]["feature"], t["title"], t["body"], "community")
            for t in data["threads"] if t["label"]["kind"] == "feature_request"]


def community(policy: Any) -> dict[str, float | int | None]:
    items = community_requests()
    out: dict[str, float | int | None] = {"community_requests": len(items)}
    for label, synonyms in (("with_synonyms", True), ("no_synonyms", False)):
        matcher = matcher_for(policy, synonyms)
        prepared = prepare(matcher, load_embedder(), items)
        order = list(range(len(items)))
        random.Random(0).shuffle(order)
        figures = pairwise(items, stream(matcher, items, prepared, order).assignment)
        reviewed = pairwise(items, stream(matcher, items, prepared, order, "oracle").assignment)
        out.update({f"community_{label}_precision": round(figures["precision"], 3),
                    f"community_{label}_recall": round(figures["recall"], 3),
                    f"community_{label}_f1": round(figures["f1"], 3),
                    f"community_{label}_reviewed_f1": round(reviewed["f1"], 3)})
    return out


def end_to_end(items: list[Labelled], workdir: Path, prefix: str = "end_to_end",
               **feature_requests: Any) -> dict[str, float | int | None]:
    """Post the requests to the Discourse simulator, sync with the shipped rule book plus a scope tag, score."""
    from sqlalchemy import select

    from connectors.jira.seed import seed as seed_jira
    from connectors.slack.seed import seed as seed_slack
    from continuum.demo.simulators import start_simulators
    from continuum.engine.run import sync
    from continuum.store.db import open_store
    from continuum.store.request_matching import request_profiles
    from continuum.store.tables import interactions

    hub = load_config()
    rules = yaml.safe_load(hub.file(hub.pipelines["community"].rules or "").read_text(encoding="utf-8"))
    rules["feature_requests"].update(scope={"pattern": r"\[scope:([^\]]+)\]"}, **feature_requests)
    path = workdir / "rules.yaml"
    path.write_text(yaml.safe_dump(rules), encoding="utf-8")
    hub.pipelines["community"].rules = str(path)
    saved = {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}
    running = start_simulators(hub, seed=False)
    try:
        seed_jira(running["jira"])
        seed_slack(running["slack"])
        discourse = running["discourse"]
        order = list(range(len(items)))
        random.Random(0).shuffle(order)
        posts: dict[str, int] = {}
        for n in order:
            item = items[n]
            user = f"asker{n}"
            discourse.add_user(user, user, None)
            _, post = discourse.create_topic(user, "feature-requests", item.title,
                                             f"{item.body or item.title}\n\n[scope:{item.scope}]")
            posts[f"post:{post}"] = n
        db = open_store(f"sqlite:///{workdir / 'store.db'}")
        timer = Timer()
        sync("community", hub, db)
        seconds = timer.seconds
        with db.connect() as conn:
            found = {r.source_id: r.feature_request_id for r in conn.execute(
                select(interactions.c.source_id, interactions.c.feature_request_id))}
            held = len(conn.execute(select(request_profiles).where(request_profiles.c.held.is_(True))).all())
        db.dispose()
        assignment = [-1 - n for n in range(len(items))]  # not aggregated: alone
        for source_id, n in posts.items():
            if found.get(source_id) is not None:
                assignment[n] = int(found[source_id])
        figures = pairwise(items, assignment)
        return {f"{prefix}_precision": round(figures["precision"], 3),
                f"{prefix}_recall": round(figures["recall"], 3), f"{prefix}_f1": round(figures["f1"], 3),
                f"{prefix}_cross_scope_merges": figures["cross_scope_merges"],
                f"{prefix}_aggregated": sum(1 for s in posts if found.get(s) is not None),
                f"{prefix}_suggested_share": round(held / len(items), 3),
                f"{prefix}_jira_issues": len(running["jira"].issues()),
                f"{prefix}_sync_s": round(seconds, 2)}
    finally:
        for sim in running.values():
            sim.stop()
        for key in [k for k in os.environ if k.startswith("AIRFLOW_CONN_")]:
            os.environ.pop(key)
        os.environ.update(saved)


def cost(items: list[Labelled]) -> dict[str, float | int | None]:
    timer = Timer()
    WordLlamaEmbedder()  # a fresh load, not the process's cached one
    load_s = timer.seconds
    embedder = load_embedder()
    texts = [(i.title, i.body) for i in items] * max(1, 2000 // max(1, len(items)))
    timer = Timer()
    embed_requests(embedder, texts, 0.8)
    batched = timer.seconds / len(texts)
    timer = Timer()
    for pair in texts[:200]:
        embed_requests(embedder, [pair], 0.8)
    single = timer.seconds / min(200, len(texts))
    return {"model_load_s": round(load_s, 3), "embedding_ms_per_request_batched": round(batched * 1000, 4),
            "embedding_ms_per_request_single": round(single * 1000, 4)}


def install_mb() -> dict[str, float | int | None]:
    total = 0
    for name in MODEL_PACKAGES:
        try:
            files = metadata.distribution(name).files or []
        except metadata.PackageNotFoundError:
            continue
        total += sum(f.size or 0 for f in files)
    return {"install_default_model_mb": round(total / 1e6, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--requests", type=int, default=0, help="only this many held-out requests end to end "
                                                                "(0: all)")
    args = parser.parse_args(argv)
    policy = pipeline_rulebook(load_config(), "community").feature_requests
    items = load_labelled(split="heldout")
    figures: dict[str, float | int | None] = {}
    figures.update(figures_of(evaluate(policy, "heldout"), "heldout"))
    figures.update(figures_of(evaluate(policy, "heldout", synonyms=False), "heldout_no_synonyms"))
    figures.update(community(policy))
    posted = items[:args.requests] if args.requests else items
    with stdout_to_stderr(), tempfile.TemporaryDirectory(prefix="continuum-bench-requests-") as folder:
        figures.update(end_to_end(posted, Path(folder)))
    with stdout_to_stderr(), tempfile.TemporaryDirectory(prefix="continuum-bench-requests-") as folder:
        # The words-and-synonyms matcher alone, as before embeddings (its old single threshold).
        figures.update(end_to_end(posted, Path(folder), "end_to_end_words_only", semantic={"model": "none"},
                                  threshold=75, suggest_threshold=75))
    figures.update(cost(items))
    figures.update(install_mb())
    emit("feature_request_matching", len(items), figures, model=load_embedder().model_id,
         threshold=policy.threshold, suggest_threshold=policy.suggest_threshold,
         unavailable={"install_sentence_transformers_extra_mb": "not installed here: it pulls torch and about "
                                                                 "20 CUDA wheels (several GB)"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
