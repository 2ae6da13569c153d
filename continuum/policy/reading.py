"""What the text says against what the channel says: the kind triage starts from, and when to ask a person.

The classifier reads every inbound message; a forum category (the mapping's
kind) stays a strong hint where there is one.  Pure: the engine passes in
the prediction, this decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from continuum.policy.rulebook import ClassifierPolicy

NOISE = "noise"
UNKNOWN = "unknown"
# Decisions a doubtful reading must not take alone: a real message ignored or dropped as banter, or
# a customer's words sent to HR or sales, is the worst error the community manager can make.
NEEDS_A_PERSON = ("ignore", "drop", "notify")


@dataclass(frozen=True)
class Reading:
    kind: str
    confidence: float
    source: str  # "classifier", "category", "both" or "mapping" (classifier off or no prediction)
    doubtful: bool  # below the confidence floor, or banter without the banter floor

    def explain(self) -> dict[str, object]:
        return {"kind": self.kind, "confidence": round(self.confidence, 3), "from": self.source,
                "doubtful": self.doubtful}


def read_kind(hint: str | None, predicted: str | None, confidence: float, policy: ClassifierPolicy,
              language: str | None = None) -> Reading:
    """The kind to triage with.

    ``hint`` is the mapping's kind (from a forum category; ``unknown`` or None
    when the channel has none), ``predicted``/``confidence`` the classifier's.
    """
    hint = None if hint in (None, UNKNOWN) else hint
    if predicted is None or not policy.enabled:
        return Reading(hint or UNKNOWN, 1.0 if hint else 0.0, "mapping", hint is None)
    foreign = language is not None and language not in policy.languages
    if hint is None or predicted == hint:
        kind, source, sure = predicted, "both" if hint else "classifier", confidence
    elif confidence >= policy.category_override or hint == NOISE:
        # An off-topic category is no proof of banter: there the text decides.
        kind, source, sure = predicted, "classifier", confidence
    else:
        kind, source, sure = hint, "category", max(confidence, policy.confidence_floor)
    doubtful = foreign or sure < policy.confidence_floor
    if kind == NOISE and not (predicted == NOISE and confidence >= policy.banter_floor):
        doubtful = True  # nothing is ignored as banter unless the text itself is confidently banter
    return Reading(kind, sure, source, doubtful)
