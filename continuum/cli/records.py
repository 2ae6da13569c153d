"""One record's story: ``continuum history``."""

from __future__ import annotations

from typing import Any

import typer

from continuum.cli.common import fail, out, print_json, stdout_to_stderr
from continuum.cli.errors import EXIT_CONFIG


def history(reference: str = typer.Argument(..., help="Interaction id, post URL or source id (post:12), "
                                                       "or ticket key (PROD-12) or URL"),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """One interaction's whole story: read, triage and its rules, effects with ids and URLs, answers, notices,
    dead letters."""
    from continuum.ops.history import NotFound, history_of
    from continuum.store.db import open_store

    with stdout_to_stderr():
        db = open_store()
    try:
        with db.connect() as conn:
            found = history_of(conn, reference)
    except NotFound as exc:
        fail(str(exc), EXIT_CONFIG)
    if as_json:
        print_json(found)
        return
    if found["feature_request"]:
        feature = found["feature_request"]
        ticket = feature["ticket"]
        out.rule(f"feature request {feature['title']!r}: {feature['votes']} votes, ticket "
                 f"{ticket['url'] or ticket['external_id']}")
    for story in found["stories"]:
        _print_story(story)
    for letter in found["dead_letters"]:
        out.print(f"{_when(letter['updated_at'])}  dead letter ({letter['state']}, {letter['stage']}): "
                  f"{letter['error']}", highlight=False, markup=False)


def _when(moment: Any) -> str:
    return str(moment or "")[:19].replace("T", " ")


def _print_story(story: dict[str, Any]) -> None:
    row = story["interaction"]
    title = (row["title"] or row["text"] or "").replace("\n", " ")[:80]
    out.rule(f"interaction {row['id']}: {row['source_system']} {row['source_id']}")
    lines = [f"{_when(row['created_at'])}  read: {row['direction']} {row['kind']} on {row['channel'] or '?'}: "
             f"{title}", f"    {row['url'] or ''}",
             f"    now: {row['status']}, team {row['team'] or '-'}, priority {row['priority'] or '-'}"
             + (f", due {_when(row['sla_due'])}" if row["sla_due"] else "")
             + (f", answered {_when(row['answered_at'])}" if row["answered_at"] else "")]
    for event in story["events"]:
        changes = event["changes"] or {}
        rules = changes.get("rules")
        why = f" by {', '.join(rules)}" if rules else ""
        what = {k: v for k, v in changes.items() if k not in ("rules", "text") and v not in (None, "", [], {})}
        detail = ", ".join(f"{k}={v}" for k, v in what.items())
        lines.append(f"{_when(event['at'])}  {event['action']}{why}" + (f": {detail}" if detail else ""))
    for effect in story["effects"]:
        lines.append(_effect_line(effect))
    for answer in story["answers"]:
        lines.append(f"{_when(answer['created_at'])}  answer from {answer['source_system']} "
                     f"{answer['source_id']}: {(answer['text'] or '').replace(chr(10), ' ')[:80]}")
    for post in story["posts_in_thread"]:
        lines.append(_effect_line(post, what=post["purpose"] or "reply"))
    for letter in story["dead_letters"]:
        lines.append(f"{_when(letter['updated_at'])}  dead letter ({letter['state']}, {letter['stage']}): "
                     f"{letter['error']}")
    for line in lines:
        out.print(line, highlight=False, markup=False)


def _effect_line(effect: dict[str, Any], what: str | None = None) -> str:
    where = effect["url"] or effect["external_id"] or effect["target"] or ""
    error = f" ({effect['error']})" if effect["error"] and effect["state"] != "done" else ""
    return (f"{_when(effect['at'])}  {what or effect['action']} {effect['system']} {effect['object']}: "
            f"{effect['state']} {where}{error}").rstrip()
