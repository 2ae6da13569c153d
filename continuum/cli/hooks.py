"""Real time: ``continuum serve`` (the webhook receiver) and ``continuum inbox`` (what it received)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import typer

from continuum.cli.common import ConfigOption, load_hub, print_json, say, stdout_to_stderr
from continuum.cli.errors import EXIT_DEAD_LETTERS, EXIT_LOCKED, SettingError

inbox_app = typer.Typer(help="Webhook deliveries the receiver committed: process them, count them.",
                        no_args_is_help=True)


def serve(host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 in a container)"),
          port: int = typer.Option(8085, "--port", min=1, max=65535),
          config: Path | None = ConfigOption,
          max_body: int | None = typer.Option(None, "--max-body", min=1,
                                              help="Largest body taken, in bytes (default: "
                                                   "CONTINUUM_WEBHOOK_MAX_BODY or 1048576); larger is 413")) -> None:
    """Receive signed webhooks: POST /hooks/<system> for each configured system that can push.

    Each delivery is verified (signature, time window, replay), committed to the inbox, then answered 200;
    `continuum inbox process` (the continuum_inbox DAG) runs the pipelines it wakes.  Stateless: run as many
    as you like behind a load balancer, on the same store."""
    import uvicorn

    from continuum.receiver.app import ReceiverSettings, build_app, max_body_from_env
    from continuum.store.db import open_store

    hub = load_hub(config)
    try:
        limit = max_body or max_body_from_env()
    except ValueError as exc:
        raise SettingError(str(exc)) from None
    app = build_app(hub, open_store(), ReceiverSettings(max_body=limit))
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


@inbox_app.command("process")
def process(config: Path | None = ConfigOption, as_json: bool = typer.Option(False, "--json")) -> None:
    """Run the pipelines woken by pending deliveries (their systems' streams), then settle the deliveries.

    Exits 75 when a pipeline's lock was taken (its deliveries stay pending for the next pass), and 6 when
    the runs dead-lettered records or effects."""
    from continuum.engine.inbox import process_inbox
    from continuum.engine.run import DEAD_LETTERED, max_dead_letters
    from continuum.store.db import open_store

    hub = load_hub(config)
    with stdout_to_stderr() if as_json else nullcontext():
        result = process_inbox(hub, open_store())
    if as_json:
        print_json(result.as_json())
    else:
        say(f"inbox: {result.deliveries} pending, {result.processed} processed, {result.skipped} skipped, "
            f"{result.left_pending} left pending")
        for name, stats in result.runs.items():
            say(f"[bold]{name}[/bold]: " + ", ".join(f"{k}={v}" for k, v in sorted(stats.counts.items())))
    if result.locked:
        raise typer.Exit(EXIT_LOCKED)
    if any(stats.counts.get(DEAD_LETTERED, 0) > max_dead_letters() for stats in result.runs.values()):
        raise typer.Exit(EXIT_DEAD_LETTERS)


@inbox_app.command("status")
def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Deliveries in the inbox by state (pending, processed, skipped)."""
    from continuum.store import inbox
    from continuum.store.db import open_store

    with stdout_to_stderr():
        db = open_store()
    with db.connect() as conn:
        counts = inbox.counts(conn)
    if as_json:
        print_json(counts)
    else:
        say(", ".join(f"{state}={n}" for state, n in sorted(counts.items())) or "the inbox is empty")
