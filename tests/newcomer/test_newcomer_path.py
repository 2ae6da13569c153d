"""Issue #10, item 7 and the newcomer's road, end to end through the command line:

`continuum simulate --seed` (own conversations) → an own config folder → validate → plan → sync → a staff
answer through the simulator's own API → the answer back on the customer's thread → history.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.discourse.simulator import SIM_API_USERNAME, SIM_CUSTOMER_KEY
from connectors.jira.simmodel import SIM_STAFF_LOGIN, SIM_STAFF_TOKEN
from tests.newcomer.conftest import cli

SEED = """
discourse:
  users:
    - {username: ann.lee, name: Ann Lee, email: ann@lee.example}
  topics:
    - author: ann.lee
      category: bugs
      title: Export crashes on big files
      raw: The CSV export crashes every time the file is over 10 MB.
      replies:
        - {author: bob, raw: Same here since Monday., reply_to: 1}
"""


@pytest.fixture
def simulate(own_folder: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    seed = tmp_path / "my-conversations.yaml"
    seed.write_text(SEED)
    proc = subprocess.Popen([sys.executable, "-m", "continuum.cli", "simulate", "--json", "--seed", str(seed)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line, "continuum simulate printed nothing"
        yield json.loads(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_from_the_simulator_to_an_own_sync_and_back(simulate: dict[str, Any], own_folder: Path,
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, system in simulate.items():
        monkeypatch.setenv(system["env"], system["value"])
        # Every system names the hub's own account; the two this story works in also a staff member's.
        assert {a["role"] for a in system["accounts"]} >= ({"hub", "staff"} if name in ("discourse", "jira")
                                                           else {"hub"})
    monkeypatch.setenv("CONTINUUM_DB_URL", f"sqlite:///{tmp_path / 'my-store.db'}")
    forum, jira = simulate["discourse"]["url"], simulate["jira"]["url"]
    customer = {"Api-Key": SIM_CUSTOMER_KEY, "Api-Username": "ann.lee"}
    latest = requests.get(f"{forum}/posts.json", headers=customer, timeout=10).json()["latest_posts"]
    assert {p["username"] for p in latest} == {"ann.lee", "bob"}  # the seed file's story, not the shipped one

    assert cli("validate").exit_code == 0
    plan = cli("plan")
    assert plan.exit_code == 0, plan.output
    assert "new jira issue" in plan.output and "Export crashes on big files" in plan.output
    assert cli("sync").exit_code == 0

    staff = (SIM_STAFF_LOGIN, SIM_STAFF_TOKEN)
    found = requests.get(f"{jira}/rest/api/3/search/jql", auth=staff, timeout=10,
                         params={"jql": "project = PROD", "fields": "summary"}).json()["issues"]
    assert [i["fields"]["summary"] for i in found] == ["Export crashes on big files"]
    key = found[0]["key"]
    answer = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "Fixed in 2.4: please update and tell us if it still crashes."}]}]}
    requests.post(f"{jira}/rest/api/3/issue/{key}/comment", json={"body": answer}, auth=staff,
                  timeout=10).raise_for_status()
    assert cli("sync").exit_code == 0

    topic = latest[-1]["topic_id"]
    thread = requests.get(f"{forum}/t/{topic}.json", headers=customer, timeout=10).json()["post_stream"]["posts"]
    ours = [p for p in thread if p["username"] == SIM_API_USERNAME]
    assert len(ours) == 1 and "Fixed in 2.4" in ours[0]["cooked"]
    story = cli("history", key)
    assert story.exit_code == 0, story.output
    assert "answer from jira" in story.output and "reply discourse post: done" in story.output
