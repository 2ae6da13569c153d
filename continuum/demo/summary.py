"""Readable summaries for people (the JSON forms are for machines)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

EFFECT_COLUMNS = ("created", "updated", "comments", "replies", "transitions", "notifications", "calls")


def print_demo_summary(summary: dict[str, Any], console: Console) -> None:
    console.rule("[bold]Continuum demo")
    replies = sum(counts.get("replies", 0) + counts.get("messages", 0) for counts in summary["effects"].values())
    shipped = summary.get("features_shipped", 0)
    console.print(
        f"{summary['customers']} customers wrote {summary['interactions']} interactions; "
        f"{summary['links']} links tie them to external objects. Staff answered {summary['staff_answers']} "
        f"tickets{f' and shipped {shipped} feature request(s)' if shipped else ''}; the hub posted {replies} "
        "replies in the customers' threads (an answer goes to every thread behind its ticket, and everyone "
        "who asked for a shipped feature is told).", highlight=False)
    reach = summary.get("shipped_voters_by_channel") or {}
    if reach:
        console.print(
            f"The community manager confirmed {summary.get('suggestions_confirmed', 0)} suggested matches (a post "
            f"without a title is matched by a person's confirmation). The shipped feature had "
            f"{sum(reach.values())} voices: " + ", ".join(f"{n} on {system}" for system, n in reach.items())
            + "; each was told on their own channel.", highlight=False)
    pages = summary.get("knowledge_pages") or {}
    if pages:
        index = " with their index" if "feature_index" in pages else ""
        console.print(
            f"The wiki holds {pages.get('customer_page', 0)} customer history pages and "
            f"{pages.get('feature_page', 0)} feature-request pages{index} and {pages.get('faq_page', 0)} draft FAQ "
            "pages; a page is written only when what it shows changed, and staff notes around the hub's part stay.",
            highlight=False)
    for system, crm in (summary.get("crm") or {}).items():
        console.print(
            f"The CRM ({system}) has {crm.get('contacts_created', 0)} contacts the hub created and "
            f"{crm.get('contacts_linked', 0)} it linked to a customer it knew, {crm.get('timeline_entries', 0)} "
            f"timeline entries (one per kept interaction) and {crm.get('cases', 0)} cases the rules filed; a "
            "closed case's public answer goes back to the customer's channel.", highlight=False)
    status = Table(title="Interactions by status")
    status.add_column("status")
    status.add_column("count", justify="right")
    for name, count in summary["by_status"].items():
        status.add_row(name, str(count))
    console.print(status)
    effects = Table(title="Effects counted by the simulators")
    effects.add_column("system", no_wrap=True)
    extra = sorted({k for counts in summary["effects"].values() for k in counts} - set(EFFECT_COLUMNS))
    columns = (*EFFECT_COLUMNS[:-1], *extra, EFFECT_COLUMNS[-1])  # e.g. Messenger's messages; calls last
    # Only what some system counted: a dozen systems' every kind of effect is wider than a terminal.
    columns = tuple(c for c in columns if any(counts.get(c, 0) for counts in summary["effects"].values()))
    for column in columns:
        effects.add_column(column, justify="right", no_wrap=True)
    for system, counts in summary["effects"].items():
        effects.add_row(system, *(str(counts.get(c, 0)) for c in columns))
    console.print(effects)
    verdict = "[green]idempotent[/green]" if summary["rerun_effects"] == 0 else "[red]NOT idempotent[/red]"
    console.print(f"Two more full syncs applied {summary['rerun_effects']} external effects "
                  f"({summary['rerun_calls']} read calls): {verdict}.")
    console.print(f"Outbox pending: {summary['outbox_pending']}; dead letters: {summary['dead_letters']} "
                  f"(see `continuum dead-letters`).")
    if summary.get("report"):
        console.print(f"Report with charts: {summary['report']}", highlight=False, soft_wrap=True)
