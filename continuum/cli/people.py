"""Commands for people doing triage: customers, overrides, and the plan."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from continuum.cli.common import console, fail, print_json, stdout_to_stderr
from continuum.config import load_config

T = TypeVar("T")
customers_app = typer.Typer(help="Know the customer: merge, split, suggestions, import, timeline.",
                            no_args_is_help=True)


def _store() -> Any:
    from continuum.store.db import open_store

    return open_store()


def _in_store(operation: Callable[[Any], T]) -> T:
    """Run one customer operation in a transaction; a refused one is a clear error and exit 1."""
    from continuum.ops.customers import CustomerError

    try:
        with _store().begin() as conn:
            return operation(conn)
    except CustomerError as exc:
        fail(str(exc))


@customers_app.command("merge")
def merge_cmd(keep: int, absorb: int) -> None:
    """Join customer ABSORB into KEEP (a person confirmed they are one)."""
    from continuum.ops import customers

    _in_store(lambda conn: customers.merge(conn, keep, absorb))
    console.print(f"customer {absorb} is now part of customer {keep}")


@customers_app.command("split")
def split_cmd(customer: int, identity: str = typer.Argument(..., help="SYSTEM:ACCOUNT_ID to move out")) -> None:
    """Move one identity (and what it wrote) out of a customer into a new one."""
    from continuum.ops import customers

    system, _, account = identity.partition(":")
    new_id = _in_store(lambda conn: customers.split(conn, customer, system, account))
    console.print(f"{identity} is now customer {new_id}")


@customers_app.command("suggest")
def suggest_cmd(threshold: float = 88.0, as_json: bool = typer.Option(False, "--json")) -> None:
    """Customers who may be one person (fuzzy names and handles): suggestions only, never merged."""
    from continuum.ops import customers

    with _store().connect() as conn:
        pairs = customers.suggest(conn, threshold)
    if as_json:
        print_json(pairs)
        return
    table = Table(title=f"{len(pairs)} possible duplicates (confirm with `continuum customers merge A B`)")
    for column in ("a", "b", "score", "a names", "b names"):
        table.add_column(column)
    for pair in pairs:
        table.add_row(str(pair["a"]), str(pair["b"]), str(pair["score"]), pair["a_names"], pair["b_names"])
    Console().print(table)


@customers_app.command("show")
def show_cmd(customer: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """One customer's unified timeline across channels and systems."""
    from continuum.ops import customers

    data = _in_store(lambda conn: customers.timeline(conn, customer))
    if as_json:
        print_json(data)
        return
    person = data["customer"]
    out = Console()
    out.rule(f"{person['display_name']} (customer {person['id']}, {person['tier']})")
    for identity in data["identities"]:
        verified = " (verified)" if identity["email_verified"] else ""
        out.print(f"  {identity['system']}: {identity['handle'] or identity['account_id']} "
                  f"{identity['email'] or ''}{verified}", highlight=False)
    for event in data["timeline"]:
        arrow = "→" if event["direction"] == "inbound" else "←"
        text = (event["text"] or "").replace("\n", " ")[:100]
        out.print(f"{str(event['created_at'] or '')[:16]} {arrow} {event['channel'] or event['source_system']} "
                  f"[{event['status']}/{event['kind']}] {text}", highlight=False, markup=False)
    for ticket in data["tickets"]:
        out.print(f"  ticket {ticket['system']} {ticket['url'] or ticket['external_id']}", highlight=False)


@customers_app.command("tier")
def tier_cmd(customer: int, tier: str) -> None:
    """Set a customer's tier (e.g. vip); rules and SLA policies can use it."""
    from continuum.ops import customers

    _in_store(lambda conn: customers.set_tier(conn, customer, tier))
    console.print(f"customer {customer} is {tier}")


@customers_app.command("import")
def import_cmd(path: Path, system: str = typer.Option("crm", help="Name of the CRM the ids come from")) -> None:
    """Import known customers (YAML or JSON list: crm_id, name, email, tier) from a CRM export."""
    import yaml

    from continuum.ops import customers

    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(records, list):
        fail(f"{path}: expected a list of customer records")
    count = _in_store(lambda conn: customers.import_records(conn, records, system))
    console.print(f"imported {count} customers from {path}")


def override(interaction: int, kind: str | None = None, team: str | None = None,
             priority: str | None = None, sla: str | None = None, route: str | None = None,
             action: str | None = None, pipeline: str = "community",
             config: Path | None = typer.Option(None, "--config", "-c")) -> None:
    """Override a triage decision; the override wins over the rules on every later run."""
    from continuum.config import pipeline_rulebook
    from continuum.engine.overrides import override as keep_override

    hub = load_config(config)
    book = pipeline_rulebook(hub, pipeline)
    try:
        with _store().begin() as conn:
            merged = keep_override(conn, interaction, {"kind": kind, "team": team, "priority": priority,
                                                       "sla": sla, "route": route, "action": action}, book.sla)
    except ValueError as exc:
        fail(str(exc))
    console.print(f"interaction {interaction} override: {merged}")


def plan(pipeline: str | None = typer.Argument(None, help="Pipeline (default: all)"),
         as_json: bool = typer.Option(False, "--json"),
         config: Path | None = typer.Option(None, "--config", "-c")) -> None:
    """Dry run: every effect the next sync would apply, per system, and why. Writes nothing anywhere."""
    from continuum.ops.plan import plan as make_plan

    hub = load_config(config)
    with stdout_to_stderr():
        db = _store()
        plans = [make_plan(hub, name, db) for name in ([pipeline] if pipeline else list(hub.pipelines))]
    if as_json:
        print_json(plans)
        return
    out = Console()
    for result in plans:
        out.rule(f"plan for {result['pipeline']}")
        for system, effects in result["effects"].items():
            table = Table(title=f"{system}: {len(effects)} effects")
            for column in ("action", "object", "target", "about", "what"):
                table.add_column(column)
            for effect in effects:
                what = json.dumps(effect["fields"], ensure_ascii=False, default=str)[:120]
                table.add_row(effect["action"], effect["object"], effect["target"] or "", effect["about"], what)
            out.print(table)
        for decision in result["decisions"]:
            why = f" score {decision['score']} ({decision['why']})" if "score" in decision else ""
            out.print(f"  {decision['source']}: {decision['kind']} → {decision['outcome']} by "
                      f"{', '.join(decision['rules']) or 'no rule'}{why}", highlight=False, markup=False)
