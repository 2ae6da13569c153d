"""A person's rights over what the hub holds: ``continuum export`` (access) and ``continuum erase`` (erasure)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from continuum.cli.common import ConfigOption, fail, load_hub, out, print_json, say, stdout_to_stderr
from continuum.cli.errors import EXIT_CONFIG

CustomerArgument = typer.Argument(..., help="Customer id, or a name, handle or e-mail that names one customer")


def _store() -> Any:
    from continuum.store.db import open_store

    with stdout_to_stderr():
        return open_store()


def _customer(conn: Any, reference: str) -> int:
    from continuum.ops.customers import CustomerError
    from continuum.ops.gdpr import find_customer

    try:
        return find_customer(conn, reference)
    except CustomerError as exc:
        fail(str(exc), EXIT_CONFIG)


def export(customer: str = CustomerArgument,
           out_file: Path | None = typer.Option(None, "--out", "-o",
                                                help="Write the JSON here (default: customer-ID.json)")) -> None:
    """Everything held about a person as one JSON file (right of access): identities, interactions, tickets,
    files, audit, and the other records that mention them."""
    from continuum.ops.gdpr import export as export_person

    with _store().connect() as conn:
        found = export_person(conn, _customer(conn, customer))
    path = out_file or Path(f"customer-{found['customer']['id']}.json")
    path.write_text(json.dumps(found, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8")
    say(f"customer {found['customer']['id']}: {len(found['interactions'])} interactions, "
        f"{len(found['identities'])} identities exported to {path.resolve()}")


def erase(customer: str = CustomerArgument,
          dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be erased; change nothing"),
          as_json: bool = typer.Option(False, "--json"),
          config: Path | None = ConfigOption) -> None:
    """Erase a person's personal data (right to erasure): purge their texts, names, handles and e-mails from the
    store, keep anonymous tombstones so old posts are not read again, update the tickets their words reached,
    and list what could not be erased remotely."""
    from continuum.ops.gdpr import erase as erase_person

    hub = load_hub(config)
    db = _store()
    with db.connect() as conn:
        customer_id = _customer(conn, customer)
    with stdout_to_stderr():
        result = erase_person(db, hub, customer_id, dry_run=dry_run)
    if as_json:
        print_json(result)
        return
    verb = "would erase" if dry_run else "erased"
    say(f"customer {customer_id}: {verb} {result['interactions_purged']} interactions, "
        f"{result['deleted']['identities']} identities, redacted "
        f"{sum(result['rows_redacted'].values())} rows that mention them")
    for update in result["updates"]:
        state = "planned" if dry_run else "sent"
        out.print(f"  {update['action']} {state}: {update['system']} ({update['key'][:12]})",
                  highlight=False, markup=False)
    if result["pages_rewritten"]:
        state = "planned" if dry_run else "done"
        out.print(f"  {len(result['pages_rewritten'])} wiki pages that showed them written again, their earlier "
                  f"versions deleted: {state}", highlight=False, markup=False)
    for left in result["not_erased_remotely"]:
        out.print(f"  not erased remotely: {left['system']} {left['action']} {left['id'] or ''} — {left['why']}",
                  highlight=False, markup=False)
