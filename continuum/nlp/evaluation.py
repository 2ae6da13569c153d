"""Scores of a kind model on held-out examples: the figures `continuum triage evaluate` prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from continuum.nlp.classifier import Example, KindModel

NOISE = "noise"


@dataclass(frozen=True)
class Evaluation:
    examples: int
    accuracy: float
    macro_f1: float
    per_kind: dict[str, dict[str, float]]  # kind -> precision, recall, f1, support
    confusion: dict[str, dict[str, int]]  # true kind -> predicted kind -> count
    needs_review_share: float  # share a person would be asked about (doubtful readings)
    accuracy_when_confident: float
    banter_precision: float  # of what would be ignored as banter, the share that really is banter
    complaint_recall: float

    def as_dict(self) -> dict[str, Any]:
        return {"examples": self.examples, "accuracy": round(self.accuracy, 3), "macro_f1": round(self.macro_f1, 3),
                "per_kind": {k: {m: round(v, 3) for m, v in s.items()} for k, s in self.per_kind.items()},
                "confusion": self.confusion, "needs_review_share": round(self.needs_review_share, 3),
                "accuracy_when_confident": round(self.accuracy_when_confident, 3),
                "banter_precision": round(self.banter_precision, 3),
                "complaint_recall": round(self.complaint_recall, 3)}


def evaluate(model: KindModel, examples: Sequence[Example], floor: float, banter_floor: float) -> Evaluation:
    """Score messages as a channel without categories would see them (tweets, e-mails, chat)."""
    from continuum.policy.reading import read_kind
    from continuum.policy.rulebook import ClassifierPolicy

    policy = ClassifierPolicy(confidence_floor=floor, banter_floor=banter_floor)
    predictions = model.predict([e.text for e in examples])
    readings = [read_kind(None, p.kind, p.confidence, policy) for p in predictions]
    truth = [e.kind for e in examples]
    guessed = [p.kind for p in predictions]
    kinds = sorted(set(truth) | set(guessed))
    confusion = {t: {g: 0 for g in kinds} for t in kinds}
    for t, g in zip(truth, guessed, strict=True):
        confusion[t][g] += 1
    per_kind: dict[str, dict[str, float]] = {}
    support = Counter(truth)
    for kind in kinds:
        tp = confusion[kind][kind]
        predicted = sum(confusion[t][kind] for t in kinds)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support[kind] if support[kind] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_kind[kind] = {"precision": precision, "recall": recall, "f1": f1, "support": float(support[kind])}
    scored = [k for k in kinds if support[k]]
    confident = [(t, r.kind) for t, r in zip(truth, readings, strict=True) if not r.doubtful]
    banter = [t for t, r in zip(truth, readings, strict=True) if r.kind == NOISE and not r.doubtful]
    return Evaluation(
        examples=len(examples),
        accuracy=sum(t == g for t, g in zip(truth, guessed, strict=True)) / len(examples) if examples else 0.0,
        macro_f1=sum(per_kind[k]["f1"] for k in scored) / len(scored) if scored else 0.0,
        per_kind=per_kind, confusion=confusion,
        needs_review_share=1 - len(confident) / len(examples) if examples else 0.0,
        accuracy_when_confident=sum(t == g for t, g in confident) / len(confident) if confident else 0.0,
        banter_precision=sum(t == NOISE for t in banter) / len(banter) if banter else 1.0,
        complaint_recall=per_kind.get("complaint", {}).get("recall", 0.0),
    )
