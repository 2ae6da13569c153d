"""Read a page of interactions' text once: cleaned words, tone, urgency, and the classifier's kind.

Batched per triage page (the classifier's n-gram and model steps are
vectorised), and only for inbound messages: the company's own posts need no
reading.  The model is loaded once per process (:mod:`continuum.nlp.model`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from continuum.nlp.model import default_model_path, kind_model
from continuum.nlp.signals import signals
from continuum.nlp.text import clean_text
from continuum.policy.reading import Reading, read_kind
from continuum.policy.rulebook import ClassifierPolicy
from continuum.store.db import data_dir
from continuum.store.rows import InteractionRow


@dataclass(frozen=True)
class TextFacts:
    """What the rules read instead of the raw text, and the kind triage starts from."""

    text: str  # the customer's own words: no leading @mentions, URLs, quoted history or signature
    sentiment: float
    urgent: bool
    reading: Reading

    def facts(self) -> dict[str, object]:
        return {"text": self.text, "sentiment": self.sentiment, "urgent": self.urgent,
                "needs_review": self.reading.doubtful}


def model_path(policy: ClassifierPolicy) -> Path:
    return Path(policy.model_path) if policy.model_path else default_model_path(data_dir())


def read_page(rows: Sequence[InteractionRow], policy: ClassifierPolicy) -> dict[int, TextFacts]:
    inbound = [r for r in rows if r["direction"] != "outbound"]
    if not inbound:
        return {}
    # A reply's title is its topic's: context, not the author's words.
    cleaned = [clean_text(f"{r.get('title') or '' if r.get('is_thread_start') else ''}\n{r.get('text') or ''}")
               for r in inbound]
    predictions = kind_model(model_path(policy)).predict(cleaned) if policy.enabled else [None] * len(inbound)
    found: dict[int, TextFacts] = {}
    for row, text, prediction in zip(inbound, cleaned, predictions, strict=True):
        tone = signals(text)
        reading = read_kind(row.get("kind"), prediction.kind if prediction else None,
                            prediction.confidence if prediction else 0.0, policy, row.get("language"))
        # Rules test the title and the text apart; keep the cleaned body without the title line.
        body = clean_text(row.get("text") or "")
        found[row["id"]] = TextFacts(text=body or text, sentiment=tone.sentiment, urgent=tone.urgency > 0,
                                     reading=reading)
    return found
