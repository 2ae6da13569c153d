"""Commands for people doing triage: customers, overrides, and the plan."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.table import Table

from continuum.cli.common import (
    ConfigOption,
    console,
    fail,
    load_hub,
    out,
    pipelines_of,
    print_json,
    say,
    stdout_to_stderr,
)
from continuum.cli.errors import EXIT_CONFIG

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
    say(f"customer {absorb} is now part of customer {keep}")


@customers_app.command("split")
def split_cmd(customer: int, identity: str = typer.Argument(
        ..., help="SYSTEM:ACCOUNT to move out, as `customers show` prints it (account id, handle or e-mail)")) -> None:
    """Move one identity (and what it wrote) out of a customer: back to the customer it was merged from, or
    into a new one."""
    from continuum.ops import customers

    system, _, account = identity.partition(":")
    if not account.strip():
        fail(f"{identity!r} is not SYSTEM:ACCOUNT (e.g. discourse:mara.lindqvist)", EXIT_CONFIG)
    new_id = _in_store(lambda conn: customers.split(conn, customer, system.strip(), account.strip()))
    say(f"{identity} is now customer {new_id}")


@customers_app.command("list")
def list_cmd(limit: int = typer.Option(100, min=1), as_json: bool = typer.Option(False, "--json")) -> None:
    """Every customer: id, name, tier, identities (as `split` takes them), e-mail, interactions."""
    _print_customers(None, limit, as_json)


@customers_app.command("find")
def find_cmd(text: str = typer.Argument(..., help="Part of a handle, an e-mail address or a name"),
             limit: int = typer.Option(100, min=1), as_json: bool = typer.Option(False, "--json")) -> None:
    """Customers whose handle, e-mail or name contains TEXT (any case)."""
    _print_customers(text, limit, as_json)


def _print_customers(text: str | None, limit: int, as_json: bool) -> None:
    from continuum.store.customers import summaries

    with _store().connect() as conn:
        people = summaries(conn, text, limit)
    if as_json:
        print_json(people)
        return
    title = f"{len(people)} customers" + (f" matching {text!r}" if text else "")
    table = Table(title=title)
    for column in ("id", "name", "tier", "identities", "e-mail", "interactions"):
        table.add_column(column, overflow="fold")
    for person in people:
        table.add_row(str(person["id"]), person["display_name"], person["tier"],
                      "\n".join(f"{i['system']}:{i['handle'] or i['account_id']}" for i in person["identities"]),
                      person["primary_email"] or next((i["email"] for i in person["identities"] if i["email"]), ""),
                      str(person["interactions"]))
    out.print(table)


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
    out.print(table)


@customers_app.command("show")
def show_cmd(customer: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """One customer's unified timeline across channels and systems."""
    from continuum.ops import customers

    data = _in_store(lambda conn: customers.timeline(conn, customer))
    if as_json:
        print_json(data)
        return
    person = data["customer"]
    owner = f", CRM owner {person['owner']}" if person.get("owner") else ""
    out.rule(f"{person['display_name']} (customer {person['id']}, {person['tier']}{owner})")
    for identity in data["identities"]:  # SYSTEM:HANDLE first: what `customers split` takes
        verified = " (verified)" if identity["email_verified"] else ""
        out.print(f"  {identity['system']}:{identity['handle'] or identity['account_id']}  "
                  f"account {identity['account_id']}  {identity['email'] or ''}{verified}".rstrip(),
                  highlight=False, markup=False)
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
    say(f"customer {customer} is {tier}")


IMPORT_DEPRECATED = ("warning: `continuum customers import` is deprecated and will be removed: the CRM sync reads "
                     "contacts continuously (the pipeline's `crm:` setting, see the HubSpot and Salesforce pages)")


@customers_app.command("import")
def import_cmd(path: Path, system: str = typer.Option("crm", help="Name of the CRM the ids come from")) -> None:
    """(Deprecated: the CRM sync, the pipeline's `crm:`, replaces it.) Import known customers (YAML or JSON
    list: crm_id, name, email, tier) from a CRM export."""
    import yaml

    from continuum.ops import customers

    # A one-off export goes stale the day after; the sync does not (and writes back what the hub learns).
    console.print(IMPORT_DEPRECATED, highlight=False, markup=False, soft_wrap=True)

    records = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(records, list):
        fail(f"{path}: expected a list of customer records")
    count = _in_store(lambda conn: customers.import_records(conn, records, system))
    say(f"imported {count} customers from {path}")


def override(interaction: int, kind: str | None = None, team: str | None = None,
             priority: str | None = None, sla: str | None = None, route: str | None = None,
             action: str | None = None, pipeline: str | None = typer.Option(
                 None, help="Pipeline whose rule book (SLA policies) applies (default: the first)"),
             config: Path | None = ConfigOption) -> None:
    """Override a triage decision; the override wins over the rules on every later run, and a ticket that
    exists already is updated on the next sync."""
    from continuum.config import pipeline_rulebook
    from continuum.engine.overrides import override as keep_override

    hub = load_hub(config)
    names = pipelines_of(hub, pipeline)
    if not names:
        fail("the hub config has no pipeline", EXIT_CONFIG)
    book = pipeline_rulebook(hub, names[0])
    db = _store()
    try:
        with db.begin() as conn:
            merged = keep_override(conn, interaction, {"kind": kind, "team": team, "priority": priority,
                                                       "sla": sla, "route": route, "action": action}, book.sla)
            planned = _update_ticket(conn, hub, names[0], interaction)
    except ValueError as exc:
        fail(str(exc))
    say(f"interaction {interaction} override: " + ", ".join(f"{k}={v}" for k, v in merged.items())
        + ("; its ticket is updated on the next sync" if planned else ""))


def _update_ticket(conn: Any, hub: Any, pipeline: str, interaction: int) -> str | None:
    """The update of the interaction's existing ticket, planned now and sent by the next sync."""
    from continuum.engine.context import SyncContext, build_connectors
    from continuum.engine.overrides import plan_ticket_update
    from continuum.store.interactions import get_interaction

    row = get_interaction(conn, interaction)
    if row is None or not row["route"] or row["route"] not in hub.systems:
        return None
    ctx = SyncContext(db=conn.engine, hub=hub, pipeline_name=pipeline,
                      connectors=build_connectors(hub, [row["route"]]))  # nothing connects: it only escapes text
    return plan_ticket_update(conn, ctx, interaction)


def plan(pipeline: str | None = typer.Argument(None, help="Pipeline (default: all)"),
         as_json: bool = typer.Option(False, "--json"),
         config: Path | None = ConfigOption) -> None:
    """Dry run: every effect the next sync would apply, per system, and why. Writes nothing anywhere.

    Exits 2 when an effect or record would fail (a template that does not render, a missing mapping)."""
    from continuum.ops.plan import plan as make_plan

    hub = load_hub(config)
    names = pipelines_of(hub, pipeline)
    with stdout_to_stderr():
        db = _store()
        plans = [make_plan(hub, name, db) for name in names]
    if as_json:
        print_json(plans)
    else:
        _print_plans(plans)
    if any(result["errors"] for result in plans):
        raise typer.Exit(EXIT_CONFIG)


def _print_plans(plans: list[dict[str, Any]]) -> None:
    for result in plans:
        out.rule(f"plan for {result['pipeline']}")
        for system, effects in result["effects"].items():
            table = Table(title=f"{system}: {len(effects)} effects", expand=False)
            for column in ("action", "on", "about", "what"):
                table.add_column(column, overflow="fold")
            for effect in effects:
                table.add_row(effect["action"], effect["target"], effect["about"], summarise(effect["fields"]))
            out.print(table)
        for decision in result["decisions"]:
            why = f" score {decision['score']} ({decision['why']})" if "score" in decision else ""
            out.print(f"  {decision['about']}: {decision['kind']} → {decision['outcome']} by "
                      f"{', '.join(decision['rules']) or 'no rule'}{why}", highlight=False, markup=False)
        for error in result["errors"]:
            console.print(f"[red]error[/red] {error['error']}", highlight=False, soft_wrap=True)


def summarise(fields: dict[str, Any], width: int = 100) -> str:
    """An effect's fields as a person reads them: the title-like ones first, each on one line."""
    lines = []
    for name, value in _flatten(fields):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = ", ".join(value)
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        text = " ".join(text.split())
        lines.append(f"{name}: {text if len(text) <= width else text[:width - 1] + '…'}")
    lines.sort(key=lambda line: (not line.startswith(("summary", "title", "channel")), ))
    return "\n".join(lines)


def _flatten(fields: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for name, value in fields.items():
        if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
            found += _flatten(value, f"{prefix}{name}.")
        else:
            found.append((f"{prefix}{name}", value))
    return found
