"""Issue #10, item 7: simulators let customers write and staff answer through each system's own API."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from connectors.discourse.simulator import (
    SIM_API_USERNAME,
    SIM_CUSTOMER_KEY,
    SIM_STAFF_KEY,
    SIM_STAFF_USERNAME,
    DiscourseSimulator,
)
from connectors.jira.simmodel import SIM_STAFF_LOGIN, SIM_STAFF_TOKEN, STAFF_ACCOUNT
from connectors.jira.simulator import JiraSimulator
from connectors.slack.seed import seed as seed_slack
from connectors.slack.simulator import SIM_STAFF_TOKEN as SLACK_STAFF_TOKEN
from connectors.slack.simulator import SlackSimulator
from continuum.config import load_config
from continuum.demo.simulators import SeedFileError, read_seed_file, start_simulators


def test_discourse_customers_and_staff_post_through_the_api() -> None:
    with DiscourseSimulator() as sim:
        customer = {"Api-Key": SIM_CUSTOMER_KEY, "Api-Username": "new.customer"}
        made = requests.post(f"{sim.base_url}/posts.json", headers=customer, timeout=5,
                             json={"title": "Where is the export?", "raw": "I cannot find it.", "category": 3})
        assert made.status_code == 200 and made.json()["username"] == "new.customer"
        topic = made.json()["topic_id"]
        staff = {"Api-Key": SIM_STAFF_KEY, "Api-Username": SIM_STAFF_USERNAME}
        reply = requests.post(f"{sim.base_url}/posts.json", headers=staff, json={"topic_id": topic, "raw": "Menu"},
                              timeout=5)
        assert reply.json()["username"] == SIM_STAFF_USERNAME
        assert sim.effect_counts()["created"] == sim.effect_counts()["replies"] == 0  # people, not the hub
        impostor = {"Api-Key": SIM_CUSTOMER_KEY, "Api-Username": SIM_API_USERNAME}
        assert requests.get(f"{sim.base_url}/posts.json", headers=impostor, timeout=5).status_code == 403
        assert [p["username"] for p in sim.posts(topic)] == ["new.customer", SIM_STAFF_USERNAME]


def test_jira_staff_answer_through_the_api_as_themselves() -> None:
    with JiraSimulator() as sim:
        key = sim.get_issue(sim.add_staff_issue("Export crashes"))["key"]
        body = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "On it"}]}]}
        done = requests.post(f"{sim.base_url}/rest/api/3/issue/{key}/comment", json={"body": body},
                             auth=(SIM_STAFF_LOGIN, SIM_STAFF_TOKEN), timeout=5)
        assert done.status_code == 201 and done.json()["author"]["accountId"] == STAFF_ACCOUNT["accountId"]
        assert sim.effect_counts()["comments"] == 0
        assert requests.get(f"{sim.base_url}/rest/api/3/myself", auth=(SIM_STAFF_LOGIN, "wrong"),
                            timeout=5).status_code == 401


def test_slack_staff_post_with_a_user_token() -> None:
    with SlackSimulator() as sim:
        seed_slack(sim)
        answer = requests.post(f"{sim.base_url}/api/chat.postMessage", timeout=5,
                               headers={"Authorization": f"Bearer {SLACK_STAFF_TOKEN}"},
                               data={"channel": "#hr", "text": "I will take this one"}).json()
        assert answer["ok"] and "bot_id" not in answer["message"]
        assert sim.effect_counts()["notifications"] == 0


def test_a_seed_file_replaces_the_shipped_story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = load_config()
    for system in hub.systems.values():  # starting simulators points these at them: undone after the test
        monkeypatch.setenv(f"AIRFLOW_CONN_{system.connection.upper()}", "")
    seed = tmp_path / "seed.json"
    seed.write_text('{"discourse": {"topics": [{"author": "zoe", "category": "bugs", "title": "T", "raw": "R"}]},'
                    ' "jira": {"projects": ["OPS"]}}')
    running = start_simulators(hub, seed_data=read_seed_file(seed, hub))
    try:
        assert [p["username"] for p in running["discourse"].posts()] == ["zoe"]
        assert set(running["jira"].projects) == {"PROD", "OPS"}
        assert running["slack"].channel_id("#hr")  # not in the file: the shipped workspace
    finally:
        for sim in running.values():
            sim.stop()
    seed.write_text("nosuch: {}\n")
    with pytest.raises(SeedFileError, match="no system nosuch"):
        read_seed_file(seed, hub)
