"""What staff look at without a terminal: ``continuum report``, one HTML page with charts (or ``--json``)."""

from __future__ import annotations

from pathlib import Path

import typer

from continuum.cli.common import print_json, say, stdout_to_stderr


def report(out_file: Path = typer.Option(Path("continuum-report.html"), "--out", "-o",
                                         help="Where to write the page"),
           as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON instead of a page")) -> None:
    """One self-contained HTML page (works offline) with charts: volume by channel and kind over time, time to
    first answer and SLA attainment by team, top feature requests, dead letters by system and reason, calls
    per system."""
    from continuum.ops.report import figures, write_report
    from continuum.store.db import open_store

    with stdout_to_stderr():
        db = open_store()
    with db.connect() as conn:
        if as_json:
            print_json(figures(conn))
            return
        write_report(conn, out_file)
    say(f"report written to {out_file.resolve()}")
