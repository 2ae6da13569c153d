"""Discourse ⇄ GitHub through the engine: an SDK bug becomes one issue, a staff comment goes back to the customer
as an answer, closing it as completed tells the customer it shipped, and syncing again changes nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
import yaml
from sqlalchemy import Engine

from connectors.discourse.simulator import DiscourseSimulator
from connectors.github.simulator import GithubSimulator
from continuum.config import HubConfig, load_config
from continuum.demo.simulators import start_simulators
from continuum.engine.run import sync
from continuum.mapping import mappings_dir
from continuum.store.db import open_store

RULES = {
    "banter": "ignore",
    "rules": [
        {"name": "crashes are bugs", "when": {"regex": "\\bcrash(es|ed|ing)?\\b"}, "then": {"kind": "bug"}},
        {"name": "SDK bugs go to the SDK's GitHub issues", "when": {"kind": ["bug"], "channel": ["discourse/sdk"]},
         "then": {"team": "rnd", "priority": "high", "route": "github"}, "stop": True},
    ],
}
HUB = {
    "systems": {
        "discourse": {"connector": "discourse", "connection": "continuum_discourse"},
        "github": {"connector": "github", "connection": "continuum_github", "options": {"repository": "acme/sdk"}},
    },
    "pipelines": {"sdk": {
        "sources": [{"system": "discourse", "stream": "posts", "mapping": "discourse.post.yaml"}],
        "targets": [{"system": "github", "mapping": "github.issue.yaml", "comment_mapping": "github.comment.yaml",
                     "stream": "issues"}],
        "reply_mapping": {"discourse": "discourse.post.yaml"},
    }},
}


@dataclass
class World:
    hub: HubConfig
    db: Engine
    discourse: DiscourseSimulator
    github: GithubSimulator

    def sync(self) -> None:
        sync("sdk", self.hub, self.db)

    def effects(self) -> dict[str, dict[str, int]]:
        return {name: {k: v for k, v in sim.effect_counts().items() if k != "calls"}
                for name, sim in (("discourse", self.discourse), ("github", self.github))}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(RULES))
    hub_file = tmp_path / "continuum.yaml"
    pipeline = {**cast(dict[str, dict[str, object]], HUB["pipelines"])["sdk"], "rules": str(tmp_path / "rules.yaml")}
    hub_file.write_text(yaml.safe_dump({**HUB, "mappings_dir": str(mappings_dir()), "pipelines": {"sdk": pipeline}}))
    hub = load_config(hub_file)
    saved = {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}
    running = start_simulators(hub, seed=False)
    db = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        yield World(hub, db, cast(DiscourseSimulator, running["discourse"]), cast(GithubSimulator, running["github"]))
    finally:
        db.dispose()
        for sim in running.values():
            sim.stop()
        for name in [k for k in os.environ if k.startswith("AIRFLOW_CONN_")]:
            os.environ.pop(name)
        os.environ.update(saved)


def test_an_sdk_bug_round_trips_through_github(world: World) -> None:
    discourse, github = world.discourse, world.github
    discourse.add_user("mara", "Mara Lindqvist", None)
    discourse.add_category("SDK", "sdk")
    topic_id, _ = discourse.create_topic(
        "mara", "sdk", "Python SDK crashes on import", "It crashes with @octocat in the path, see #12 <b>x</b>")
    world.sync()
    (issue,) = github.issues()
    assert issue["title"].startswith("Python SDK crashes on import")
    assert "@octocat" not in issue["body"] and "#12" not in issue["body"] and "<b>" not in issue["body"]
    assert {label["name"] for label in issue["labels"]} == {"customer-request", "continuum"}

    github.add_comment(issue["number"], "Fixed in **2.4.1**: upgrade and it imports.")
    world.sync()
    replies = [p for p in discourse.posts(topic_id) if p["username"] == "continuum"]
    assert len(replies) == 1 and "Fixed in 2.4.1" in replies[0]["raw"]

    github.close(issue["number"], "completed")
    world.sync()
    posts = [p for p in discourse.posts(topic_id) if p["username"] == "continuum"]
    assert len(posts) == 2, [p["raw"] for p in posts]  # the answer, then the shipped notice

    effects = world.effects()
    for _ in range(2):
        world.sync()
    assert world.effects() == effects
    assert len(github.issues()) == 1 and len(github.comments()) == 1
