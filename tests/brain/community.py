"""Plant the labelled Ledgerly community (tests/data/community.yaml) in the Discourse simulator and score the hub.

The labels say what a careful community manager would decide; the scores say
how close the hub gets: aggregation precision/recall over pairs of
interactions, how many tickets the interactions became, routing of HR and
sales, and identity joins.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, select

from continuum.store.tables import customers, identities, interactions, links

DATA = Path(__file__).resolve().parent.parent / "data" / "community.yaml"


@dataclass
class Planted:
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # "post:<id>" → label
    authors: dict[str, str] = field(default_factory=dict)  # "post:<id>" → customer id in the data set
    customers: list[dict[str, Any]] = field(default_factory=list)


def load() -> dict[str, Any]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def plant(discourse: Any, data: dict[str, Any]) -> Planted:
    planted = Planted(customers=data["customers"])
    people = {c["id"]: c for c in data["customers"]}
    for person in data["customers"]:
        for handle in person["handles"]:
            discourse.add_user(handle, person["name"], person.get("email"))
    for thread in data["threads"]:
        topic_id, post_id = discourse.create_topic(thread["handle"], thread["category"], thread["title"],
                                                   thread["body"])
        planted.labels[f"post:{post_id}"] = thread["label"]
        planted.authors[f"post:{post_id}"] = thread["author"]
        for reply in thread.get("replies") or []:
            reply_id = discourse.reply(reply["handle"], topic_id, reply["body"])
            planted.labels[f"post:{reply_id}"] = reply["label"]
            planted.authors[f"post:{reply_id}"] = reply["author"]
    assert all(a in people for a in planted.authors.values())
    return planted


def crm_export(data: dict[str, Any]) -> list[dict[str, Any]]:
    """What the CRM knows: the VIP accounts, by e-mail."""
    return [{"crm_id": f"CRM-{c['id']}", "name": c["name"], "email": c["email"], "tier": c["tier"]}
            for c in data["customers"] if c["tier"] == "vip" and c.get("email")]


def pairwise(truth: dict[str, str | None], predicted: dict[str, int | None]) -> tuple[float, float, int, int, int]:
    """Precision and recall of "these two interactions ask for the same feature"."""
    keys = sorted(set(truth) | set(predicted))
    tp = fp = fn = 0
    for a, b in combinations(keys, 2):
        same_truth = truth.get(a) is not None and truth.get(a) == truth.get(b)
        same_pred = predicted.get(a) is not None and predicted.get(a) == predicted.get(b)
        tp += same_truth and same_pred
        fp += same_pred and not same_truth
        fn += same_truth and not same_pred
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


def score(db: Engine, planted: Planted, jira_issue_count: int) -> dict[str, Any]:
    with db.connect() as conn:
        rows = {r.source_id: r for r in conn.execute(select(interactions).where(
            interactions.c.source_system == "discourse", interactions.c.direction == "inbound"))}
        ticketed = {r.record_id for r in conn.execute(select(links.c.record_id).where(
            links.c.system == "jira", links.c.record_type == "interaction"))}
        customer_of = {r.source_id: r.customer_id for r in rows.values()}
        tiers = dict(conn.execute(select(customers.c.id, customers.c.tier)).all())
        n_identities = conn.execute(select(identities.c.id)).all()
    truth = {k: (v.get("feature") if v["kind"] == "feature_request" else None) for k, v in planted.labels.items()}
    predicted = {k: rows[k].feature_request_id for k in planted.labels if k in rows}
    precision, recall, tp, fp, fn = pairwise(truth, predicted)
    kinds_right = sum(1 for k, v in planted.labels.items() if k in rows and rows[k].kind == v["kind"])
    hr = [k for k, v in planted.labels.items() if v["kind"] == "hr"]
    # One person, one customer: the same data-set author must map to one customer, different ones apart.
    by_person: dict[str, set[int]] = {}
    for key, person in planted.authors.items():
        if key in customer_of:
            by_person.setdefault(person, set()).add(customer_of[key])
    owners = Counter(cid for ids in by_person.values() for cid in ids)
    return {
        "interactions": len(planted.labels), "stored": len(rows),
        "customers_in_data": len(planted.customers), "customers_resolved": len({c for c in customer_of.values()}),
        "identities": len(n_identities),
        "people_split_across_customers": sum(1 for ids in by_person.values() if len(ids) > 1),
        "customers_shared_by_people": sum(1 for n in owners.values() if n > 1),
        "aggregation_precision": round(precision, 3), "aggregation_recall": round(recall, 3),
        "pairs": {"true_positive": tp, "false_positive": fp, "false_negative": fn},
        "feature_requests_labelled": len({v for v in truth.values() if v}),
        "feature_requests_made": len({v for v in predicted.values() if v}),
        "jira_issues": jira_issue_count,
        "kind_accuracy": round(kinds_right / max(1, len(rows)), 3),
        "hr_in_jira": sum(1 for k in hr if k in rows and (rows[k].id in ticketed or rows[k].feature_request_id)),
        "hr_total": len(hr),
        "vip_interactions_on_vip_sla": sum(1 for k, v in planted.authors.items() if k in rows
                                           and tiers.get(rows[k].customer_id) == "vip"
                                           and rows[k].sla_policy == "vip"),
    }
