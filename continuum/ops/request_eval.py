"""How well feature requests are matched, on real text: evaluation and threshold calibration.

The labelled set (``continuum/datasets/feature_requests``) holds real
feature requests from public issue trackers, grouped the way their
maintainers marked duplicates, with singletons and look-alike traps, split
by group into a *calibration* part and a *held-out* part.  Thresholds are
chosen on the calibration part (:func:`calibrate`); the held-out part is
only scored (:func:`evaluate`).

Requests are streamed through the same :class:`RequestIndex` and the same
decisions as the engine, in a few fixed shuffled orders (arrival order
matters: a feature request grows with its members).  Figures are pairwise:
two requests are "the same" when they end in one feature request.
Suggestions are counted two ways: left alone (each founds its own feature
request, as before a person looks) and reviewed (a person confirms the
right ones and rejects the others).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

import numpy as np

from continuum.nlp.embeddings import Embedder, embed_requests, load_embedder
from continuum.policy.request_index import Request, RequestIndex
from continuum.policy.similarity import MatchConfig, Matcher

DATASET = Path(__file__).resolve().parent.parent / "datasets" / "feature_requests" / "requests.jsonl"
ORDERS = 5  # shuffled arrival orders, seeds 0..4
MATCH_CHARS = 600  # as the engine reads a request (continuum.engine.aggregate)


@dataclass(frozen=True)
class Labelled:
    id: str
    scope: str
    group: str
    title: str
    body: str
    split: str


def load_labelled(path: Path | None = None, split: str | None = None, untitled: bool = False) -> list[Labelled]:
    """The labelled requests; ``untitled`` leaves their titles out, as a social post or a chat message has none."""
    rows = [json.loads(line) for line in (path or DATASET).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Labelled(r["id"], r["scope"], r["group"], "" if untitled else r["title"], r["body"], r.get("split", ""))
            for r in rows if split is None or r.get("split") == split]


def matcher_for(config: MatchConfig, synonyms: bool = True) -> Matcher:
    return Matcher(config if synonyms else config.model_copy(update={"synonyms": {}}))


def embedder_for(config: MatchConfig) -> Embedder | None:
    semantic = config.semantic
    return None if semantic.model == "none" else load_embedder(semantic.model, semantic.model_path)


@dataclass
class Prepared:
    requests: list[Request]
    seconds_per_request: float  # embedding cost, batched


def prepare(matcher: Matcher, embedder: Embedder | None, items: Sequence[Labelled]) -> Prepared:
    started = time.perf_counter()
    vectors = None
    if embedder is not None:
        texts = [(matcher.semantic_text(i.title), matcher.semantic_text(i.body[:MATCH_CHARS])) for i in items]
        vectors = embed_requests(embedder, texts, matcher.config.semantic.title_weight)
    cost = (time.perf_counter() - started) / max(1, len(items))
    requests = [Request(i.scope, matcher.fingerprint(i.body[:MATCH_CHARS], title=i.title),
                        None if vectors is None else vectors[n], titled=bool(i.title.strip()))
                for n, i in enumerate(items)]
    return Prepared(requests, cost)


@dataclass
class Streamed:
    assignment: list[int]  # request → feature request (its own index when it founded one)
    decisions: list[tuple[float, bool, str]] = field(default_factory=list)  # (score, best was right, decision)
    votes: int = 0
    right_votes: int = 0
    suggestions: int = 0
    right_suggestions: int = 0


def stream(matcher: Matcher, items: Sequence[Labelled], prepared: Prepared, order: Sequence[int],
           review: Literal["none", "oracle", "truth"] = "none") -> Streamed:
    """Feed requests in ``order``: the outcome of the engine's decisions, with suggestions left alone
    (``none``) or reviewed by a person who knows (``oracle``); ``truth`` joins exactly the right ones,
    whatever the score (for calibration: every score is seen against the feature request it should join)."""
    dim = next((r.vector.shape[0] for r in prepared.requests if r.vector is not None), 0)
    index = RequestIndex(matcher, dim)
    founder: dict[int, int] = {}  # feature request → the request that founded it
    result = Streamed(assignment=[-1] * len(items))
    for n in order:
        request = prepared.requests[n]
        best, score = index.best(request)
        right = best is not None and items[founder[best]].group == items[n].group
        titled = request.titled and best is not None and index.titled(best)
        decision = matcher.config.decide(score.total, best is not None, titled)
        result.decisions.append((score.total, right, decision))
        if decision == "vote":
            result.votes += 1
            result.right_votes += right
        elif decision == "suggest":
            result.suggestions += 1
            result.right_suggestions += right
        if review == "truth":
            joins = right
        else:
            joins = decision == "vote" or (decision == "suggest" and review == "oracle" and right)
        fr = best if joins and best is not None else n
        founder.setdefault(fr, n)
        index.add(fr, request)
        result.assignment[n] = fr
    return result


def pairwise(items: Sequence[Labelled], assignment: Sequence[int]) -> dict[str, Any]:
    tp = fp = fn = cross = 0
    for a, b in combinations(range(len(items)), 2):
        truth = items[a].group == items[b].group
        same = assignment[a] == assignment[b]
        tp += truth and same
        fp += same and not truth
        fn += truth and not same
        cross += same and items[a].scope != items[b].scope
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_positive": tp, "false_positive": fp,
            "false_negative": fn, "cross_scope_merges": cross}


def auc(items: Sequence[Labelled], matcher: Matcher, prepared: Prepared, same_scope: bool = True) -> dict[str, float]:
    """How well one request-to-request score separates duplicates from the rest (1.0: perfectly)."""
    scores: dict[str, tuple[list[float], list[float]]] = {"score": ([], []), "meaning": ([], []), "words": ([], [])}
    for a, b in combinations(range(len(items)), 2):
        if same_scope and items[a].scope != items[b].scope:
            continue
        ra, rb = prepared.requests[a], prepared.requests[b]
        semantic = None if ra.vector is None or rb.vector is None else float(ra.vector @ rb.vector) * 100
        score = matcher.combine(ra.fingerprint, rb.fingerprint, semantic)
        bucket = 0 if items[a].group == items[b].group else 1
        scores["score"][bucket].append(score.total)
        scores["words"][bucket].append(score.word_score)
        if semantic is not None:
            scores["meaning"][bucket].append(semantic)
    return {name: _auc(pos, neg) for name, (pos, neg) in scores.items() if pos and neg}


def _auc(positive: list[float], negative: list[float]) -> float:
    pos, neg = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(np.mean(pos > neg) + 0.5 * np.mean(pos == neg))


def orders(n: int, count: int = ORDERS) -> list[list[int]]:
    found = []
    for seed in range(count):
        order = list(range(n))
        random.Random(seed).shuffle(order)
        found.append(order)
    return found


def _mean(dicts: Iterable[dict[str, Any]]) -> dict[str, float]:
    rows = list(dicts)
    return {key: round(float(np.mean([r[key] for r in rows])), 3) for key in rows[0]}


def evaluate(config: MatchConfig, split: str = "heldout", synonyms: bool = True, path: Path | None = None,
             runs: int = ORDERS, untitled: bool = False) -> dict[str, Any]:
    """Pairwise precision, recall and F1 of ``config`` on one part of the labelled set, and what it costs."""
    items = load_labelled(path, split, untitled)
    if not items:
        raise ValueError(f"no labelled requests in split {split!r}")
    matcher = matcher_for(config, synonyms)
    embedder = embedder_for(config)
    prepared = prepare(matcher, embedder, items)
    automatic, reviewed, shares, vote_precision = [], [], [], []
    for order in orders(len(items), runs):
        left = stream(matcher, items, prepared, order, "none")
        automatic.append(pairwise(items, left.assignment))
        reviewed.append(pairwise(items, stream(matcher, items, prepared, order, "oracle").assignment))
        shares.append(left.suggestions / len(items))
        vote_precision.append(left.right_votes / left.votes if left.votes else 1.0)
    return {
        "split": split, "requests": len(items), "groups": len({i.group for i in items}),
        "scopes": len({i.scope for i in items}), "model": embedder.model_id if embedder else "none",
        "synonyms": synonyms and bool(config.synonyms),
        "untitled": untitled, **_thresholds(config, untitled), "orders": runs,
        "automatic": _mean(automatic), "reviewed": _mean(reviewed),
        "vote_precision": round(float(np.mean(vote_precision)), 3),
        "suggested_share": round(float(np.mean(shares)), 3),
        "auc_same_scope": {k: round(v, 3) for k, v in auc(items, matcher, prepared, True).items()},
        "auc_all_pairs": {k: round(v, 3) for k, v in auc(items, matcher, prepared, False).items()},
        "embedding_ms_per_request": round(prepared.seconds_per_request * 1000, 3),
    }


def _thresholds(config: MatchConfig, untitled: bool) -> dict[str, float]:
    levels = config.untitled if untitled and config.untitled is not None else config
    return {"threshold": levels.threshold, "suggest_threshold": levels.suggest_threshold}


@dataclass(frozen=True)
class Calibration:
    threshold: float
    suggest_threshold: float
    vote_precision: float  # of the decisions at or above `threshold`
    suggested_recall: float  # share of the right matches at or above `suggest_threshold`
    suggested_share: float  # share of decisions between the two
    decisions: int
    reviews: int  # of which people's decisions kept in the store

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def calibrate(config: MatchConfig, reviews: Sequence[tuple[float, bool]] = (), synonyms: bool = True,
              path: Path | None = None, target_precision: float = 0.95, target_recall: float = 0.95,
              runs: int = ORDERS, untitled: bool = False) -> Calibration:
    """Thresholds from the calibration part and from people's confirmations and rejections (``reviews``).

    Every arrival is a decision: the best candidate's score, and whether it was the right feature request
    (replayed as if every earlier decision had been right, so each score is seen against the feature
    request it should join).  ``threshold`` is the lowest score from which votes are right at least
    ``target_precision`` of the time: a wrong vote hides a customer's request in someone else's ticket,
    so it gets the margin.  ``suggest_threshold`` is the highest score from which ``target_recall`` of the
    right matches are at least suggested to a person.  ``untitled`` calibrates the thresholds for requests
    without a title, on the same requests with their titles left out.
    """
    items = load_labelled(path, "calibration", untitled)
    matcher = matcher_for(config, synonyms)
    prepared = prepare(matcher, embedder_for(config), items)
    decisions = [(score, right) for order in orders(len(items), runs)
                 for score, right, _ in stream(matcher, items, prepared, order, "truth").decisions]
    # A person's decision weighs as much as one request of the shipped set (replayed once per order).
    decisions += [(score, right) for score, right in reviews for _ in range(runs)]
    scores = np.asarray([s for s, _ in decisions])
    rights = np.asarray([r for _, r in decisions], dtype=bool)
    grid = sorted({round(float(s), 1) for s in scores} | {100.0})
    high = next((t for t in grid if rights[scores >= t].size and rights[scores >= t].mean() >= target_precision),
                100.0)
    total_right = max(1, int(rights.sum()))
    low = next((t for t in reversed(grid) if t <= high and rights[scores >= t].sum() / total_right >= target_recall),
               0.0)
    above = rights[scores >= high]
    return Calibration(high, low, float(above.mean()) if above.size else 1.0,
                       float(rights[scores >= low].sum() / total_right),
                       float(((scores >= low) & (scores < high)).mean()), len(decisions), len(reviews))
