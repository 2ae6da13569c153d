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
    needs_review_share: float  # share below the confidence floor
    accuracy_when_confident: float

    def as_dict(self) -> dict[str, Any]:
        return {"examples": self.examples, "accuracy": round(self.accuracy, 3), "macro_f1": round(self.macro_f1, 3),
                "per_kind": {k: {m: round(v, 3) for m, v in s.items()} for k, s in self.per_kind.items()},
                "confusion": self.confusion, "needs_review_share": round(self.needs_review_share, 3),
                "accuracy_when_confident": round(self.accuracy_when_confident, 3)}


def evaluate(model: KindModel, examples: Sequence[Example], floor: float) -> Evaluation:
    predictions = model.predict([e.text for e in examples])
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
    confident = [(t, p.kind) for t, p in zip(truth, predictions, strict=True) if p.confidence >= floor]
    return Evaluation(
        examples=len(examples),
        accuracy=sum(t == g for t, g in zip(truth, guessed, strict=True)) / len(examples) if examples else 0.0,
        macro_f1=sum(per_kind[k]["f1"] for k in scored) / len(scored) if scored else 0.0,
        per_kind=per_kind, confusion=confusion,
        needs_review_share=1 - len(confident) / len(examples) if examples else 0.0,
        accuracy_when_confident=sum(t == g for t, g in confident) / len(confident) if confident else 0.0,
    )
