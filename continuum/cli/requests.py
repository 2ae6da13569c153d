"""``continuum requests``: feature requests: suggested matches people confirm, merges, splits, evaluation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.table import Table

from continuum.cli.common import ConfigOption, fail, load_hub, out, print_json, say

T = TypeVar("T")
requests_app = typer.Typer(help="Feature requests: confirm or reject suggested matches, merge, split, evaluate.",
                           no_args_is_help=True)
PipelineOption = typer.Option(None, "--pipeline", "-p", help="Whose rule book (default: the first pipeline)")
JsonOption = typer.Option(False, "--json", help="Print the result as JSON")


def _policy(config: Path | None, pipeline: str | None) -> Any:
    from continuum.config import pipeline_rulebook

    hub = load_hub(config)
    return pipeline_rulebook(hub, pipeline or next(iter(hub.pipelines))).feature_requests


def _in_store(operation: Callable[[Any], T], write: bool = True) -> T:
    """One operation in one transaction; a refused one is a clear error and exit 1."""
    from continuum.ops.requests import RequestError
    from continuum.store.db import open_store

    db = open_store()
    try:
        with db.begin() if write else db.connect() as conn:
            return operation(conn)
    except RequestError as exc:
        fail(str(exc))
    finally:
        db.dispose()


@requests_app.command("suggest")
def suggest_cmd(as_json: bool = JsonOption) -> None:
    """Suggested matches waiting for a person (their tickets wait too): confirm with merge, reject with split."""
    from continuum.ops import requests

    pairs = _in_store(requests.suggest, write=False)
    if as_json:
        print_json(pairs)
        return
    if not pairs:
        say("no suggested matches wait for a person")
        return
    table = Table(title=f"{len(pairs)} suggested matches (confirm: `continuum requests merge CANDIDATE REQUEST`; "
                        "reject: `continuum requests split REQUEST`)")
    for column in ("request", "votes", "candidate", "votes ", "score", "why"):
        table.add_column(column)
    for pair in pairs:
        fr, candidate = pair["feature_request"], pair["candidate"]
        table.add_row(f"{fr['id']}: {fr['title'][:50]}", str(fr["votes"]),
                      f"{candidate['id']}: {candidate['title'][:50]}", str(candidate["votes"]),
                      f"{pair['score']:.1f}", pair["why"][:80])
    out.print(table)


@requests_app.command("merge")
def merge_cmd(keep: int, absorb: int, config: Path | None = ConfigOption,
              pipeline: str | None = PipelineOption) -> None:
    """ABSORB's requests and votes join KEEP (a person confirmed they ask for one thing)."""
    from continuum.ops import requests

    policy = _policy(config, pipeline)
    result = _in_store(lambda conn: requests.merge(conn, keep, absorb, policy))
    kept = result["kept"]
    say(f"feature request {absorb} is now part of {keep} ({kept['votes']} votes); its ticket is updated on the "
        "next sync")
    if result.get("absorbed_ticket"):
        say(f"feature request {absorb} already had ticket {result['absorbed_ticket']}: close it there as a "
            f"duplicate of {kept['ticket'] or 'the ticket of ' + str(keep)}")


@requests_app.command("split")
def split_cmd(feature_request: int,
              interaction: int | None = typer.Argument(None, help="Interaction to move out into a new feature "
                                                                  "request (default: reject the suggestion)")) -> None:
    """Reject a suggested match (the request keeps its own ticket), or move one request out of a feature request."""
    from continuum.ops import requests

    result = _in_store(lambda conn: requests.split(conn, feature_request, interaction))
    if interaction is None:
        say(f"feature request {feature_request} stands on its own; its ticket is made on the next sync")
    else:
        new = result["new_feature_request"]
        say(f"interaction {interaction} is now feature request {new['id']} ({new['votes']} votes)")


@requests_app.command("list")
def list_cmd(as_json: bool = JsonOption) -> None:
    """Open feature requests, most votes first."""
    from continuum.ops import requests

    rows = _in_store(requests.listing, write=False)
    if as_json:
        print_json(rows)
        return
    if not rows:
        say("no open feature requests")
        return
    table = Table(title=f"{len(rows)} open feature requests")
    for column in ("id", "votes", "title", "scope", "members", "ticket"):
        table.add_column(column)
    for row in rows:
        ticket = "waits for review" if row["waiting_for_review"] else (row["ticket"] or "next sync")
        table.add_row(str(row["id"]), str(row["votes"]), row["title"][:60], row["scope"], str(row["members"]),
                      ticket)
    out.print(table)


@requests_app.command("show")
def show_cmd(feature_request: int, as_json: bool = JsonOption) -> None:
    """One feature request: the requests it gathered (what it matches) and its suggestions."""
    from continuum.ops import requests

    data = _in_store(lambda conn: requests.show(conn, feature_request), write=False)
    if as_json:
        print_json(data)
        return
    fr = data["feature_request"]
    out.rule(f"feature request {fr['id']}: {fr['title']} ({fr['votes']} votes, {fr['status']})")
    for member in data["members"]:
        score = "" if member["score"] is None else f" {member['score']:.1f}"
        title = (member["title"] or member["text"] or "").replace("\n", " ")[:80]
        out.print(f"  {member['joined']}{score}: interaction {member['interaction_id']} {title}",
                  highlight=False, markup=False)
    for review in data["suggestions"]:
        out.print(f"  suggested match for {review['candidate_id']} at {review['score']:.1f}", highlight=False)


UntitledOption = typer.Option(False, "--untitled", help="Leave the titles out: how requests without one "
                                                         "(social posts, chat) fare, and their own thresholds")


@requests_app.command("evaluate")
def evaluate_cmd(split: str = typer.Option("heldout", help="Part of the labelled set to score"),
                 synonyms: bool = typer.Option(True, help="Use the rule book's synonyms"),
                 data: Path | None = typer.Option(None, "--data", help="JSON Lines of labelled requests (default: "
                                                                       "the shipped real set)"),
                 untitled: bool = UntitledOption,
                 config: Path | None = ConfigOption, pipeline: str | None = PipelineOption,
                 as_json: bool = JsonOption) -> None:
    """Pairwise precision, recall and F1 of the rule book's matching on the held-out labelled requests."""
    from continuum.ops.request_eval import evaluate

    try:
        figures = evaluate(_policy(config, pipeline), split, synonyms, data, untitled=untitled)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print_json(figures)
        return
    say(f"{figures['requests']} {split} requests{' without their titles' if untitled else ''}, "
        f"{figures['groups']} groups, {figures['scopes']} scopes; "
        f"model {figures['model']}; threshold {figures['threshold']}, suggest from {figures['suggest_threshold']}"
        f"; synonyms {'on' if figures['synonyms'] else 'off'}; mean of {figures['orders']} arrival orders")
    table = Table("suggestions", "precision", "recall", "F1", "wrong merges across scopes")
    for name in ("automatic", "reviewed"):
        row = figures[name]
        table.add_row("left alone" if name == "automatic" else "reviewed by a person", f"{row['precision']:.3f}",
                      f"{row['recall']:.3f}", f"{row['f1']:.3f}", str(row["cross_scope_merges"]))
    out.print(table)
    auc = figures["auc_same_scope"]
    say(f"automatic votes right: {figures['vote_precision']:.3f}; sent to suggestion: "
        f"{figures['suggested_share']:.1%}; AUC within a scope {auc.get('score', 0):.3f} (meaning "
        f"{auc.get('meaning', 0):.3f}, words {auc.get('words', 0):.3f}); embedding "
        f"{figures['embedding_ms_per_request']:.3f} ms a request (batched)")


@requests_app.command("calibrate")
def calibrate_cmd(target_precision: float = typer.Option(0.95, help="Share of automatic votes that must be right"),
                  target_recall: float = typer.Option(0.95, help="Share of right matches at least suggested"),
                  synonyms: bool = typer.Option(True, help="Use the rule book's synonyms"),
                  reviews: bool = typer.Option(True, help="Learn from the confirmations and rejections in the store"),
                  untitled: bool = UntitledOption,
                  config: Path | None = ConfigOption, pipeline: str | None = PipelineOption,
                  as_json: bool = JsonOption) -> None:
    """Thresholds from the calibration part of the labelled set and the people's decisions kept in the store."""
    from continuum.ops.request_eval import calibrate
    from continuum.store.request_matching import decided_reviews

    policy = _policy(config, pipeline)
    # People's decisions were taken on the requests as they came, titled or not: they calibrate the main pair.
    decided = _in_store(decided_reviews, write=False) if reviews and not untitled else []
    result = calibrate(policy, decided, synonyms, target_precision=target_precision, target_recall=target_recall,
                       untitled=untitled)
    now = policy.untitled if untitled and policy.untitled is not None else policy
    if as_json:
        print_json({**result.as_dict(), "untitled": untitled,
                    "current": {"threshold": now.threshold, "suggest_threshold": now.suggest_threshold}})
        return
    say(f"from {result.decisions} decisions ({result.reviews} by people in the store):")
    say(f"  threshold: {result.threshold}  (now {now.threshold}); automatic votes right "
        f"{result.vote_precision:.1%}")
    say(f"  suggest_threshold: {result.suggest_threshold}  (now {now.suggest_threshold}); right matches at "
        f"least suggested {result.suggested_recall:.1%}, {result.suggested_share:.1%} of requests suggested")
    say(f"set them under feature_requests:{' untitled:' if untitled else ''} in the rule book to use them")
