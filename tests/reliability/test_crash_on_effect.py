"""Kill -9 a sync the moment its effect lands in a simulator, before it can record it (issue #10, item 13).

Everything runs as separate processes, as in production: ``continuum simulate`` serves the systems, each
``continuum sync`` is its own process, and this test plays the customers (Discourse API, customer key) and
the staff (Jira API, staff token).  The simulators answer the hub's writes two seconds late, after making
them (the ``timeout`` fault), and the test watches the systems' APIs: the moment a new issue or reply
shows up, the sync is killed, so the write happened and its outbox row still says "sending".

Afterwards each object must exist once in the simulators and each interaction once in the store: the hub's
own reply, read back before it was linked, is known by the key marker it carries, not taken for a new post.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from connectors.discourse.simulator import SIM_API_USERNAME, SIM_CUSTOMER_KEY
from connectors.jira.simmodel import SIM_STAFF_LOGIN, SIM_STAFF_TOKEN
from continuum.store.db import make_engine
from continuum.store.tables import audit_events, interactions, outbox
from tests.reliability.world import HUB_PATH

ROOT = Path(__file__).resolve().parents[2]
TOPICS = 3
KILLS_ON_REPLY = 3
MARKER = "<!-- continuum:"


@pytest.fixture
def simulate(tmp_path: Path) -> Iterator[dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "continuum.cli", "simulate", "--json", "--no-seed", "--config", str(HUB_PATH),
         "--fault", "discourse:timeout:POST:/posts.json:2", "--fault", "jira:timeout:POST:/issue/bulk:2"],
        stdout=subprocess.PIPE, stderr=(tmp_path / "simulate.log").open("w"), text=True, cwd=tmp_path)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line, (tmp_path / "simulate.log").read_text()[-3000:]
        yield json.loads(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


class Customer:
    def __init__(self, url: str, name: str) -> None:
        self.url, self.headers = url, {"Api-Key": SIM_CUSTOMER_KEY, "Api-Username": name}

    def topic(self, title: str, raw: str, category: int) -> int:
        answer = requests.post(f"{self.url}/posts.json", json={"title": title, "raw": raw, "category": category},
                               headers=self.headers, timeout=10)
        answer.raise_for_status()
        return int(answer.json()["topic_id"])

    def hub_posts(self) -> list[dict[str, Any]]:
        posts = requests.get(f"{self.url}/posts.json", headers=self.headers, timeout=10).json()["latest_posts"]
        return [p for p in posts if p["username"] == SIM_API_USERNAME]

    def categories(self) -> dict[str, int]:
        listing = requests.get(f"{self.url}/categories.json", headers=self.headers, timeout=10).json()
        return {c["slug"]: c["id"] for c in listing["category_list"]["categories"]}


class Staff:
    def __init__(self, url: str) -> None:
        self.url, self.auth = url, (SIM_STAFF_LOGIN, SIM_STAFF_TOKEN)

    def issues(self) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.url}/rest/api/3/search/jql", auth=self.auth, timeout=10,
                              params={"jql": "project = PROD", "fields": "labels", "maxResults": 100})
        return list(answer.json()["issues"])

    def answer(self, key: str, text: str) -> None:
        body = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": text}]}]}
        requests.post(f"{self.url}/rest/api/3/issue/{key}/comment", json={"body": body}, auth=self.auth,
                      timeout=10).raise_for_status()


def sync(env: dict[str, str], log: Path, kill_when: Callable[[], bool] | None = None) -> int:
    with log.open("a") as out:
        proc = subprocess.Popen([sys.executable, "-m", "continuum.cli", "sync", "--max-dead-letters", "100"],
                                env=env, stdout=out, stderr=out, cwd=ROOT)
        deadline = time.monotonic() + 120
        while kill_when is not None and proc.poll() is None and time.monotonic() < deadline:
            if kill_when():
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.05)
        return proc.wait(timeout=120)


def test_kill_9_the_moment_an_effect_lands_then_rerun_is_exactly_once(simulate: dict[str, Any],
                                                                      tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'store.db'}"
    env = {**os.environ, "CONTINUUM_CONFIG": str(HUB_PATH), "CONTINUUM_DB_URL": db_url,
           **{system["env"]: system["value"] for system in simulate.values()}}
    log = tmp_path / "sync.log"
    customer = Customer(simulate["discourse"]["url"], "ann")
    staff = Staff(simulate["jira"]["url"])
    bugs = customer.categories()["bugs"]
    for n in range(TOPICS):
        customer.topic(f"Crash {n}", f"The export crashes with error {n}", bugs)

    # 1. Killed the moment Jira holds the new issues, before their links are committed.
    status = sync(env, log, kill_when=lambda: len(staff.issues()) > 0)
    assert status == -signal.SIGKILL, log.read_text()[-3000:]
    assert sync(env, log) == 0, log.read_text()[-3000:]
    issues = staff.issues()
    assert len(issues) == TOPICS, f"duplicate or missing issues: {[i['key'] for i in issues]}"

    # 2. Killed the moment the hub's reply is on the forum, before the outbox records it; again and again.
    for kill in range(KILLS_ON_REPLY):
        staff.answer(issues[kill]["key"], f"Fixed in release 2.{kill}, thanks for the report!")
        before = len(customer.hub_posts())
        status = sync(env, log, kill_when=lambda before=before: len(customer.hub_posts()) > before)
        assert status == -signal.SIGKILL, f"kill {kill}: the sync ended on its own\n{log.read_text()[-3000:]}"
    assert sync(env, log) == 0, log.read_text()[-3000:]
    assert sync(env, log) == 0, log.read_text()[-3000:]  # a quiet re-run: nothing new anywhere

    replies = customer.hub_posts()
    markers = Counter(p["raw"].split(MARKER, 1)[1] for p in replies if MARKER in (p.get("raw") or ""))
    assert len(replies) == KILLS_ON_REPLY and all(n == 1 for n in markers.values()), replies
    assert len(staff.issues()) == TOPICS
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            stored = Counter(conn.execute(select(interactions.c.source_system, interactions.c.direction)).all())
            created = conn.execute(select(func.count()).select_from(audit_events).where(
                audit_events.c.record_type == "interaction", audit_events.c.action == "created")).scalar_one()
            open_effects = conn.execute(select(func.count()).select_from(outbox).where(
                outbox.c.state != "done")).scalar_one()
    finally:
        engine.dispose()
    # The customers' topics and the staff answers read back from Jira: nothing for the hub's own replies.
    assert stored == {("discourse", "inbound"): TOPICS, ("jira", "outbound"): KILLS_ON_REPLY}, stored
    assert created == TOPICS and open_effects == 0
