"""``continuum triage``: the kind classifier: rebuild it from examples and corrections, and score it."""

from __future__ import annotations

import typer

triage_app = typer.Typer(help="The text classifier behind triage: retrain and evaluate it.", no_args_is_help=True)
