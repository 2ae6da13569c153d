"""The labelled examples the kind classifier learns from, and the held-out set it is scored on.

Both ship inside the package (``continuum/datasets/triage``): ``train.jsonl``
to learn from, ``test.jsonl`` written separately and never used to tune.  A
company's own corrections (every ``continuum override --kind`` and ticket
label) are added to the shipped training examples by ``continuum triage
retrain``.
"""

from __future__ import annotations

import json
from pathlib import Path

from continuum.nlp.classifier import Example

DATASETS = Path(__file__).resolve().parent.parent / "datasets" / "triage"
KINDS = ("question", "complaint", "bug", "feature_request", "praise", "sales_lead", "hr", "noise")


def load_examples(path: Path) -> list[Example]:
    """Examples from a JSON Lines file; a bad line is an error naming the file, the line and the field."""
    found: list[Example] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from None
        text, kind = data.get("text"), data.get("kind")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{path}:{number}: text: missing or empty")
        if kind not in KINDS:
            raise ValueError(f"{path}:{number}: kind: {kind!r} is not one of {', '.join(KINDS)}")
        found.append(Example(text=text, kind=kind))
    return found


def shipped_training() -> list[Example]:
    return load_examples(DATASETS / "train.jsonl")


def shipped_held_out() -> list[Example]:
    return load_examples(DATASETS / "test.jsonl")
