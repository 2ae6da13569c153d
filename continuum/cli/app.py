"""The ``continuum`` command: one Typer app, its commands grouped by who runs them.

- :mod:`.setup`: migrate, validate, schema, pools;
- :mod:`.runs`: sync, status, dead-letters, replay, reconcile;
- :mod:`.people`: customers, override, plan;
- :mod:`.records`: history (one interaction's whole story);
- :mod:`.report`: report (the HTML page with charts);
- :mod:`.gdpr`: export and erase (a person's right of access and erasure);
- :mod:`.demo`: simulate, demo;
- :mod:`.triage`: the text classifier (retrain, evaluate);
- :mod:`.requests`: feature-request matching (suggest, merge, split, evaluate);
- :mod:`.hooks`: real time: serve (the webhook receiver), inbox (process, status).

Commands import the engine only when they run, so ``--help`` stays quick.
"""

from __future__ import annotations

import typer

from continuum.cli import demo, gdpr, hooks, people, records, report, runs, setup
from continuum.cli.errors import CliGroup, epilog
from continuum.cli.requests import requests_app
from continuum.cli.triage import triage_app

app = typer.Typer(help="Continuum: the Social CRM integration hub.", no_args_is_help=True, add_completion=False,
                  cls=CliGroup, epilog=epilog())


@app.callback()
def _options(ctx: typer.Context,
             debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error")) -> None:
    ctx.obj = {"debug": debug}


app.add_typer(people.customers_app, name="customers")
app.add_typer(triage_app, name="triage")
app.add_typer(requests_app, name="requests")
app.add_typer(hooks.inbox_app, name="inbox")
app.command()(people.override)
app.command()(people.plan)
app.command()(setup.migrate)
app.command()(setup.validate)
app.command()(setup.schema)
app.command()(runs.sync)
app.command()(runs.status)
app.command("dead-letters")(runs.dead_letters)
app.command()(runs.replay)
app.command()(runs.reconcile)
app.command()(records.history)
app.command()(report.report)
app.command()(gdpr.export)
app.command()(gdpr.erase)
app.command()(demo.simulate)
app.command()(demo.demo)
app.command()(setup.pools)
app.command()(hooks.serve)
