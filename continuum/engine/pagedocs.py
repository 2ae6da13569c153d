"""What a knowledge page says, as a plain document: the customer's history, a feature request, the index.

A document is data, not markup (``{"intro": ..., "blocks": [...]}``; a block is a ``heading`` with ``facts``,
a table of ``columns`` and ``rows``, or ``text``; a cell is text or ``{"text", "url"}``).  The wiki's connector
renders it in its own markup and escapes every value there: customer text goes in as the customer wrote it.
Everything in a document comes from the store, and nothing from the clock but what the store recorded, so the
same store gives the same document (and content hash): an unchanged page is not written again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.store import knowledge
from continuum.store.customers import identities_of
from continuum.store.deletions import DELETED
from continuum.store.interactions import voices
from continuum.store.rows import CustomerRow, FeatureRequestRow, InteractionRow, LinkRow

MAX_TEXT = 2000  # characters of one interaction a page shows (the source link has the rest)


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    stamp = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def link_cell(text: str, url: str | None) -> Any:
    return {"text": text, "url": url} if url else text


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT].rstrip() + " …"


def sla_outcome(row: InteractionRow, now: datetime) -> str:
    """Met, breached, or still running: what happened to the interaction's service level."""
    due, answered = row["sla_due"], row["answered_at"]
    if due is None:
        return ""
    due = due if due.tzinfo else due.replace(tzinfo=UTC)
    if answered is not None:
        answered = answered if answered.tzinfo else answered.replace(tzinfo=UTC)
        return "met" if answered <= due else f"breached (answered {when(answered)})"
    return "breached (no answer yet)" if now > due else f"due {when(due)}"


def _ticket_row(conn: Connection, link: LinkRow, about: str) -> list[Any]:
    state = knowledge.ticket_state(conn, link) or "open"
    return [link_cell(link["external_id"], link["url"]), link["system"], state, about]


def customer_document(
    conn: Connection, customer: CustomerRow, limit: int, ticket_systems: Iterable[str], now: datetime
) -> JSON:
    """The customer's history: identities, kept interactions, tickets, requests voted for, service levels."""
    systems = list(ticket_systems)
    rows, total = knowledge.kept_interactions(conn, customer["id"], limit)
    request_ids = sorted({r["feature_request_id"] for r in rows if r["feature_request_id"]})
    requests = {r["id"]: r for r in knowledge.requests_with_votes(conn, request_ids)}
    titles = {r["id"]: (r["title"] or r["text"][:80]) for r in rows}
    tickets = knowledge.tickets_for(conn, [r["id"] for r in rows], request_ids, systems)
    ticket_rows = [
        _ticket_row(
            conn,
            t,
            f"request: {requests[t['record_id']]['title']}"
            if t["record_type"] == "feature_request" and t["record_id"] in requests
            else titles.get(t["record_id"], ""),
        )
        for t in tickets
    ]
    intro = f"Everything the hub keeps about {customer['display_name'] or 'this customer'}, across channels."
    if total > len(rows):
        intro += f" The latest {len(rows)} of {total} interactions are shown."
    dates = {r["id"]: r["created_at"] for r in rows}
    identities = sorted(identities_of(conn, customer["id"]), key=lambda i: (i["system"], i["account_id"]))
    return {
        "intro": intro,
        "blocks": [
            {
                "heading": "Customer",
                "facts": [
                    ["Name", customer["display_name"]],
                    ["Tier", customer["tier"]],
                    ["E-mail", customer["primary_email"] or ""],
                    ["Customer id", str(customer["id"])],
                ],
            },
            {
                "heading": "Identities",
                "columns": ["System", "Handle", "Account", "E-mail"],
                "rows": [[i["system"], i["handle"] or "", i["account_id"], i["email"] or ""] for i in identities],
                "empty": "No identities yet.",
            },
            {
                "heading": "Interactions",
                "columns": ["Date", "Channel", "Kind", "Status", "Text", "Source"],
                "rows": [
                    [
                        when(r["created_at"]),
                        r["channel"] or r["source_system"],
                        r["kind"],
                        _progress(r),
                        _short(r["text"]),
                        link_cell("open", r["url"]),
                    ]
                    for r in rows
                ],
                "empty": "No interactions kept.",
            },
            {
                "heading": "Files",
                "columns": ["Date", "File", "Size", "Stored"],
                "rows": [
                    [
                        when(dates.get(f["interaction_id"])),
                        link_cell(f["name"], f["url"]),
                        human_size(f["size"]),
                        f["system"] or "not stored",
                    ]
                    for f in knowledge.files_of(conn, customer["id"], dates)
                ],
                "empty": "No files.",
            },
            {
                "heading": "Tickets",
                "columns": ["Ticket", "System", "State", "For"],
                "rows": ticket_rows,
                "empty": "No tickets.",
            },
            {
                "heading": "Feature requests voted for",
                "columns": ["Request", "Votes", "Status"],
                "rows": [[r["title"], str(r["votes"]), _status(r)] for r in requests.values()],
                "empty": "None.",
            },
            {
                "heading": "Service levels",
                "columns": ["Date", "Channel", "Policy", "Due", "Outcome"],
                "rows": [
                    [
                        when(r["created_at"]),
                        r["channel"] or r["source_system"],
                        r["sla_policy"] or "",
                        when(r["sla_due"]),
                        sla_outcome(r, now),
                    ]
                    for r in rows
                    if r["sla_due"] is not None
                ],
                "empty": "No service levels applied.",
            },
        ],
    }


def human_size(size: int) -> str:
    """A file size for people: bytes, KB or MB."""
    if size >= 1_048_576:
        return f"{size / 1_048_576:.1f} MB"
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} bytes"


def _progress(row: InteractionRow) -> str:
    """Where the interaction is in the loop: new, triaged, routed, answered (when), closed."""
    return f"answered {when(row['answered_at'])}" if row["answered_at"] else row["status"]


def _status(request: FeatureRequestRow) -> str:
    return f"shipped {when(request['shipped_at'])}" if request["shipped_at"] else request["status"]


def feature_document(conn: Connection, request: FeatureRequestRow, ticket_systems: Iterable[str]) -> JSON:
    """One feature request: votes, status, shipped or not, its ticket, and every customer voice behind it."""
    tickets = knowledge.tickets_for(conn, [], [request["id"]], list(ticket_systems))
    said = voices(conn, request["id"])
    return {
        "intro": request["summary"] or request["title"],
        "blocks": [
            {
                "heading": "Request",
                "facts": [
                    ["Votes", str(request["votes"])],
                    ["Status", request["status"]],
                    ["Shipped", when(request["shipped_at"]) or "not yet"],
                    ["Ticket", link_cell(tickets[0]["external_id"], tickets[0]["url"]) if tickets else "none yet"],
                    ["Ticket state", (knowledge.ticket_state(conn, tickets[0]) or "open") if tickets else ""],
                ],
            },
            {
                "heading": "Customer voices",
                "columns": ["Date", "Customer", "Channel", "What they said"],
                "rows": [
                    [when(v.created_at), v.display_name or "", v.channel or "", link_cell(_short(v.text or ""), v.url)]
                    for v in said
                ],
                "empty": "No voices.",
            },
        ],
    }


def index_document(
    conn: Connection, requests: list[FeatureRequestRow], pages: dict[int, LinkRow], ticket_systems: Iterable[str]
) -> JSON:
    """Every feature request with votes, most votes first, each linked to its page once that page exists."""
    systems = list(ticket_systems)
    rows = []
    for request in requests:
        tickets = knowledge.tickets_for(conn, [], [request["id"]], systems)
        page = pages.get(request["id"])
        rows.append(
            [
                link_cell(request["title"], page["url"] if page else None),
                str(request["votes"]),
                _status(request),
                link_cell(tickets[0]["external_id"], tickets[0]["url"]) if tickets else "",
            ]
        )
    return {
        "intro": "Feature requests customers asked for, by votes (distinct customers).",
        "blocks": [
            {
                "heading": "Feature requests",
                "columns": ["Request", "Votes", "Status", "Ticket"],
                "rows": rows,
                "empty": "No feature requests yet.",
            }
        ],
    }


QUESTION_REMOVED = "question removed"


def faq_document(question: InteractionRow, answer: InteractionRow, ticket: LinkRow | None) -> JSON:
    """A draft FAQ entry: the customer's question (not who asked) and the staff's answer, for staff to review.
    A question its author deleted, or whose author was erased, is left out, with its link (a post's address
    names its author); the staff's answer stays."""
    if question["status"] == DELETED:
        question = {**question, "title": "", "url": None,
                    "text": "(The question was removed: the person who asked deleted it or asked to be forgotten.)"}
    return {
        "intro": "Draft: captured from a staff answer to a customer's question. Review it, then edit the page "
        "outside the hub's section (or copy it) to publish it as an FAQ.",
        "blocks": [
            {"heading": "Question", "text": question["title"] or question["text"]},
            {
                "heading": "Asked",
                "facts": [
                    ["Where", link_cell(question["channel"] or question["source_system"], question["url"])],
                    ["When", when(question["created_at"])],
                    ["Ticket", link_cell(ticket["external_id"], ticket["url"]) if ticket else "none"],
                ],
            },
            {"heading": "Answer", "text": answer["text"]},
        ],
    }
