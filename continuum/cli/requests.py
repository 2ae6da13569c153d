"""``continuum requests``: feature requests: suggested matches people confirm, merges, splits, evaluation."""

from __future__ import annotations

import typer

requests_app = typer.Typer(help="Feature requests: confirm or reject suggested matches, merge, split, evaluate.",
                           no_args_is_help=True)
