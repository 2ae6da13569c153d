"""A small world for reliability tests: both simulators, a store, customer activity, and an oracle.

The oracle counts what must exist exactly once from the *simulators'* state
(what customers and staff did), not from the store, and compares both the
simulators' effects and the store with it:

* one Jira issue per routed topic (found by its key label), with one remote link;
* one hub comment on that issue per customer reply in the topic (comment property key);
* one Discourse reply per public staff comment on the issue (hidden marker key);
* one interaction per customer post, one customer per author, every effect done.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from continuum.config import HubConfig, load_config
from continuum.demo.simulators import start_simulators
from continuum.engine.context import RunStats
from continuum.engine.run import sync
from continuum.store.db import open_store
from continuum.store.status import counts as store_counts
from continuum.store.tables import customers, dead_letters, interactions, outbox

HUB_PATH = Path(__file__).with_name("hub.yaml")
ROUTED = ("feature-requests", "bugs")
CATEGORIES = ("feature-requests", "bugs", "support", "lounge")
BOT = "continuum"
_MARKER = re.compile(r"<!-- continuum:([^ ]+) -->")


def reliability_hub() -> HubConfig:
    return load_config(HUB_PATH)


@dataclass
class Tally:
    """What an oracle check found; every number but ``checked`` must be zero."""

    checked: int = 0
    duplicates: int = 0
    lost: int = 0
    problems: list[str] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        self.checked += other.checked
        self.duplicates += other.duplicates
        self.lost += other.lost
        self.problems += other.problems

    def dup(self, what: str, n: int = 1) -> None:
        self.duplicates += n
        self.problems.append(f"duplicate: {what}")

    def miss(self, what: str, n: int = 1) -> None:
        self.lost += n
        self.problems.append(f"lost: {what}")


@dataclass
class World:
    hub: HubConfig
    db: Engine
    db_url: str
    discourse: Any
    jira: Any
    rng: random.Random
    users: list[str] = field(default_factory=list)
    topics: list[int] = field(default_factory=list)
    serial: int = 0

    @property
    def env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}

    def sync(self, pipeline: str = "community", db: Engine | None = None) -> RunStats:
        return sync(pipeline, self.hub, db or self.db)

    # -- what customers and staff do ------------------------------------------------
    def new_user(self) -> str:
        self.serial += 1
        name = f"user{self.serial}"
        self.discourse.add_user(name, f"Customer {self.serial}", f"{name}@example.com")
        self.users.append(name)
        return name

    def activity(self, topics: int = 2, replies: int = 1, staff_comments: int = 1, text: str = "") -> None:
        """A little of everything: new topics, a follow-up, a staff answer (and sometimes an internal note)."""
        rng = self.rng
        if not self.users or rng.random() < 0.3:
            self.new_user()
        for _ in range(topics):
            self.serial += 1
            category = rng.choice(CATEGORIES)
            topic, _ = self.discourse.create_topic(rng.choice(self.users), category, f"Topic {self.serial}",
                                                   f"Message {self.serial} {text}".strip())
            self.topics.append(topic)
        for _ in range(replies if self.topics else 0):
            self.serial += 1
            self.discourse.reply(rng.choice(self.users), rng.choice(self.topics), f"Follow-up {self.serial} {text}")
        made = self.hub_issues()
        for _ in range(staff_comments if made else 0):
            self.serial += 1
            self.jira.add_staff_comment(rng.choice(made), f"Answer {self.serial} {text}",
                                        public=rng.random() < 0.8)

    def hub_issues(self) -> list[str]:
        with self.jira.lock:
            return [i.key for i in self.jira._issues.values()
                    if any(str(label).startswith("continuum-ck-") for label in i.fields.get("labels") or [])]

    # -- the oracle ---------------------------------------------------------------------
    def check(self, pipelines: tuple[str, ...] = ("community",)) -> Tally:
        tally = Tally()
        posts = self.discourse.posts()
        by_topic: dict[int, list[dict[str, Any]]] = {}
        for post in posts:
            by_topic.setdefault(post["topic_id"], []).append(post)
        slugs = {c.id: c.slug for c in self.discourse.categories.values()}
        routed = {tid for tid, ps in by_topic.items() if slugs.get(ps[0]["category_id"]) in ROUTED
                  and ps[0]["username"] != BOT}
        with self.jira.lock:
            issues = [i for i in self.jira._issues.values()
                      if any(str(label).startswith("continuum-ck-") for label in i.fields.get("labels") or [])]
            # Issues per topic, through the remote link back to the topic's first post.
            per_topic: Counter[int] = Counter()
            labels: Counter[str] = Counter()
            for issue in issues:
                labels.update(label for label in issue.fields.get("labels") or [] if label.startswith("continuum-ck-"))
                globals_ = Counter(link.get("globalId") for link in issue.links)
                if not issue.links:
                    tally.miss(f"remote link of {issue.key}")
                for gid, n in globals_.items():
                    if n > 1:
                        tally.dup(f"remote link {gid} on {issue.key}", n - 1)
                topic = _topic_of(issue)
                if topic is not None:
                    per_topic[topic] += 1
                tally.checked += 1 + len(issue.links)
                self._check_comments(issue, topic, by_topic, tally)
                self._check_replies(issue, topic, by_topic, tally)
            for label, n in labels.items():
                if n > 1:
                    tally.dup(f"Jira issue with label {label}", n - 1)
        for topic in routed:
            if per_topic[topic] == 0:
                tally.miss(f"Jira issue for topic {topic}")
            elif per_topic[topic] > 1:
                tally.dup(f"Jira issue for topic {topic}", per_topic[topic] - 1)
        for topic in set(per_topic) - routed:
            tally.problems.append(f"unexpected issue for topic {topic}")
        self._check_store(posts, tally, pipelines)
        return tally

    def _check_comments(self, issue: Any, topic: int | None, by_topic: dict[int, list[Any]], tally: Tally) -> None:
        keys = Counter(p["value"]["key"] for c in issue.comments for p in c.properties
                       if p.get("key") == "continuum" and isinstance(p.get("value"), dict))
        for key, n in keys.items():
            if n > 1:
                tally.dup(f"Jira comment {key} on {issue.key}", n - 1)
        expected = sum(1 for p in by_topic.get(topic or -1, []) if p["post_number"] > 1 and p["username"] != BOT)
        tally.checked += expected
        if len(keys) < expected:
            tally.miss(f"{expected - len(keys)} follow-up comment(s) on {issue.key}", expected - len(keys))
        elif len(keys) > expected:
            tally.dup(f"{len(keys) - expected} extra comment(s) on {issue.key}", len(keys) - expected)

    def _check_replies(self, issue: Any, topic: int | None, by_topic: dict[int, list[Any]], tally: Tally) -> None:
        public = sum(1 for c in issue.comments if c.visibility is None and c.author.get("accountId")
                     != self._bot_account())
        ours = [p for p in by_topic.get(topic or -1, []) if p["username"] == BOT]
        markers = Counter(m.group(1) for p in ours for m in [_MARKER.search(p["raw"])] if m)
        for marker, n in markers.items():
            if n > 1:
                tally.dup(f"Discourse reply {marker} in topic {topic}", n - 1)
        tally.checked += public
        if len(ours) < public:
            tally.miss(f"{public - len(ours)} reply(ies) in topic {topic}", public - len(ours))
        elif len(ours) > public:
            tally.dup(f"{len(ours) - public} extra reply(ies) in topic {topic}", len(ours) - public)

    @staticmethod
    def _bot_account() -> str:
        from connectors.jira.simmodel import BOT_ACCOUNT

        return str(BOT_ACCOUNT["accountId"])

    def _check_store(self, posts: list[dict[str, Any]], tally: Tally, pipelines: tuple[str, ...]) -> None:
        customer_posts = {f"post:{p['id']}" for p in posts if p["username"] != BOT}
        authors = {p["username"] for p in posts if p["username"] != BOT}
        with self.db.connect() as conn:
            stored = Counter(r.source_id for r in conn.execute(
                select(interactions.c.source_id).where(interactions.c.source_system == "discourse")))
            n_customers = conn.execute(select(func.count()).select_from(customers).where(
                customers.c.merged_into.is_(None))).scalar_one()
            open_effects = conn.execute(select(outbox.c.idempotency_key, outbox.c.state, outbox.c.last_error).where(
                outbox.c.state != "done", outbox.c.pipeline.in_(pipelines))).all()
            letters = conn.execute(select(dead_letters.c.error).where(dead_letters.c.state != "resolved")).all()
        tally.checked += len(customer_posts)
        for source_id in customer_posts - set(stored):
            tally.miss(f"interaction for {source_id}")
        for source_id, n in stored.items():
            if n > 1:
                tally.dup(f"interaction {source_id}", n - 1)
        if n_customers != len(authors):
            (tally.dup if n_customers > len(authors) else tally.miss)(
                f"customers: {n_customers} in the store for {len(authors)} authors")
        for key, state, error in open_effects:
            tally.miss(f"effect {key} still {state}: {error}")
        for (error,) in letters:
            tally.problems.append(f"dead letter: {error}")

    def summary(self) -> dict[str, Any]:
        """What a quiet re-run must not change: the simulators' effects and the store's counts, audit included."""
        with self.db.connect() as conn:
            stored = store_counts(conn)
        return {"sims": {"jira": self.jira.effect_counts(), "discourse": self.discourse.effect_counts()},
                "store": stored}


def _topic_of(issue: Any) -> int | None:
    for link in issue.links:
        url = str((link.get("object") or {}).get("url") or "")
        match = re.search(r"/t/[^/]+/(\d+)/1$", url)
        if match:
            return int(match.group(1))
    return None


@contextmanager
def world(tmp_path: Path, seed: int, db_url: str | None = None) -> Iterator[World]:
    """Unseeded simulators (plus the Jira project) and a fresh, migrated store."""
    hub = reliability_hub()
    saved = {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}
    running = start_simulators(hub, seed=False)
    from connectors.jira.seed import seed as seed_jira

    seed_jira(running["jira"])
    url = db_url or f"sqlite:///{tmp_path / 'store.db'}"
    db = open_store(url)
    try:
        yield World(hub, db, url, running["discourse"], running["jira"], random.Random(seed))
    finally:
        db.dispose()
        for sim in running.values():
            sim.stop()
        for key in [k for k in os.environ if k.startswith("AIRFLOW_CONN_")]:
            os.environ.pop(key, None)
        os.environ.update(saved)


def dump(tally: Tally) -> str:
    return json.dumps({"duplicates": tally.duplicates, "lost": tally.lost, "problems": tally.problems[:20]},
                      indent=1)
