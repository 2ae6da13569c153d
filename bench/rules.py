"""Triage rules: microseconds per interaction for ``decide`` over the shipped rule book.

``python -m bench.rules [--rounds N]``: runs the shipped ``mappings/rules.yaml`` over the held-out triage texts
(``continuum/datasets/triage/test.jsonl``) and prints the best of the rounds, per record.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib.resources import files
from pathlib import Path

from bench.common import emit
from continuum.config import load_rulebook
from continuum.policy.rules import decide

RULES = Path(__file__).resolve().parent.parent / "mappings" / "rules.yaml"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rules", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="more rounds")
    args = parser.parse_args(argv)
    rules = load_rulebook(RULES).rules
    lines = files("continuum.datasets.triage").joinpath("test.jsonl").read_text(encoding="utf-8").splitlines()
    items = [{"kind": row.get("kind"), "title": "", "text": row["text"], "channel": row.get("channel"),
              "source_system": row.get("channel"), "direction": "inbound", "is_thread_start": True}
             for row in map(json.loads, filter(None, lines))]
    best = float("inf")
    for _ in range(args.rounds * (3 if args.full else 1)):
        started = time.perf_counter()
        for item in items:
            decide(rules, item)
        best = min(best, time.perf_counter() - started)
    emit("rules", len(items), {"decide_us_per_record": round(best / len(items) * 1e6, 2), "rules": len(rules)})


if __name__ == "__main__":
    main()
