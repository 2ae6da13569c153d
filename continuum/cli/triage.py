"""``continuum triage``: the kind classifier: rebuild it from examples and corrections, and score it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from continuum.policy.rulebook import ClassifierPolicy

triage_app = typer.Typer(help="The text classifier behind triage: retrain and evaluate it.", no_args_is_help=True)


def _policy() -> ClassifierPolicy:
    from continuum.config import load_config, pipeline_rulebook

    hub = load_config()
    pipeline = next(iter(hub.pipelines))
    return pipeline_rulebook(hub, pipeline).classifier


@triage_app.command()
def retrain(examples: Path | None = typer.Option(None, "--examples", help="JSON Lines of {text, kind} to learn "
                                                   "from instead of the shipped training set"),
            corrections: bool = typer.Option(True, help="Add every kind a person set (override or ticket label)")
            ) -> None:
    """Rebuild the kind model from the shipped examples plus the company's own corrections."""
    from continuum.engine.reading import model_path
    from continuum.nlp.classifier import Example
    from continuum.nlp.examples import load_examples, shipped_training
    from continuum.nlp.model import build
    from continuum.nlp.text import clean_text
    from continuum.store.corrections import kind_corrections
    from continuum.store.db import open_store

    learned = load_examples(examples) if examples else shipped_training()
    added: list[Example] = []
    if corrections:
        db = open_store()
        with db.connect() as conn:
            added = [Example(text=clean_text(f"{title}\n{text}") or text, kind=kind, source="correction")
                     for title, text, kind in kind_corrections(conn)]
        db.dispose()
    path = model_path(_policy())
    started = time.perf_counter()
    model = build([*learned, *added], path)
    typer.echo(f"kind model rebuilt from {len(learned)} examples and {len(added)} corrections in "
               f"{time.perf_counter() - started:.1f}s: {path} ({model.built_from})")


@triage_app.command()
def evaluate(examples: Path | None = typer.Option(None, "--examples", help="JSON Lines of {text, kind} to score "
                                                   "on instead of the shipped held-out set"),
             as_json: bool = typer.Option(False, "--json", help="Print the figures as one JSON object")) -> None:
    """Precision, recall and the confusion matrix of the current model on a held-out set."""
    from continuum.engine.reading import model_path
    from continuum.nlp.evaluation import evaluate as score
    from continuum.nlp.examples import load_examples, shipped_held_out
    from continuum.nlp.model import kind_model

    policy = _policy()
    held_out = load_examples(examples) if examples else shipped_held_out()
    result = score(kind_model(model_path(policy)), held_out, policy.confidence_floor, policy.banter_floor)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    console = Console(width=120)
    console.print(f"{result.examples} held-out messages: accuracy {result.accuracy:.3f}, "
                  f"macro-F1 {result.macro_f1:.3f}, banter precision {result.banter_precision:.3f}, "
                  f"sent to review {result.needs_review_share:.1%}")
    table = Table("kind", "precision", "recall", "F1", "support")
    for kind, row in result.per_kind.items():
        table.add_row(kind, f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}",
                      str(int(row["support"])))
    console.print(table)
    kinds = list(result.confusion)
    matrix = Table("true \\ predicted", *[k[:10] for k in kinds])
    for kind in kinds:
        matrix.add_row(kind, *[str(result.confusion[kind][other]) for other in kinds])
    console.print(matrix)
