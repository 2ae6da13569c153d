"""The shipped simulators serve the kit's paging faults on every list endpoint their connector pages.

Plain ``requests`` clients walk each listing the way the connectors do, over
real loopback HTTP: a clean walk sees everything once, "repeat" serves items
twice and loses none, "shift" changes the data between two pages.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pytest
import requests

from connectors.discourse.plugin import SIM_API_KEY, SIM_API_USERNAME
from connectors.discourse.seed import seed as seed_discourse
from connectors.discourse.simulator import DiscourseSimulator
from connectors.jira.plugin import SIM_LOGIN, SIM_TOKEN
from connectors.jira.simulator import JiraSimulator
from connectors.slack.plugin import SIM_TOKEN as SLACK_TOKEN
from connectors.slack.seed import seed as seed_slack
from connectors.slack.simulator import SlackSimulator


@pytest.fixture
def slack() -> Iterator[SlackSimulator]:
    sim = SlackSimulator()
    seed_slack(sim)
    for n in range(9):
        sim.add_channel(f"team-{n}", private=n % 3 == 0)
    people = [u.id for u in sim.users.values() if not u.is_bot]
    for n in range(23):
        sim.say("support", people[n % len(people)], f"message {n}")
    with sim:
        yield sim


def slack_walk(sim: SlackSimulator, method: str, key: str, **params: str) -> list[str]:
    seen: list[str] = []
    cursor = ""
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {SLACK_TOKEN}"
        for _ in range(50):
            body = http.get(f"{sim.base_url}/api/{method}", params={**params, "cursor": cursor}, timeout=5).json()
            assert body["ok"], body
            seen += [item[key] for item in body["channels" if method == "conversations.list" else "messages"]]
            cursor = (body.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                return seen
    raise AssertionError("the listing never ended")


def channels(sim: SlackSimulator) -> list[str]:
    return slack_walk(sim, "conversations.list", "id", limit="3", types="public_channel,private_channel")


def history(sim: SlackSimulator) -> list[str]:
    return slack_walk(sim, "conversations.history", "ts", channel=sim.channel_id("support"), limit="5")


@pytest.mark.parametrize("walk", [channels, history])
def test_slack_listings_honour_repeat(slack: SlackSimulator, walk: Callable[[SlackSimulator], list[str]]) -> None:
    clean = walk(slack)
    assert len(clean) == len(set(clean)) > 10

    slack.set_paging_faults("repeat", rate=1.0)
    repeated = walk(slack)

    assert set(repeated) == set(clean) and len(repeated) > len(clean)
    assert slack.faults.injected["paging_repeat"] >= 3


def test_slack_history_shift_is_someone_posting_meanwhile(slack: SlackSimulator) -> None:
    before = {m["ts"] for m in slack.messages("support")}
    slack.set_paging_faults("shift", rate=1.0)

    seen = history(slack)

    after = {m["ts"] for m in slack.messages("support")}
    assert before <= set(seen), "a message was lost"
    assert len(after - before) == slack.faults.injected["paging_shift"] >= 3  # newer than the cursor: unseen


def test_slack_channel_list_shift_is_a_channel_made_meanwhile(slack: SlackSimulator) -> None:
    before, existing = set(channels(slack)), len(slack.channels)
    slack.set_paging_faults("shift", rate=1.0)

    seen = channels(slack)

    assert before <= set(seen)
    assert len(slack.channels) - existing == slack.faults.injected["paging_shift"] >= 3


def test_discourse_latest_posts_honour_repeat_and_shift() -> None:
    sim = DiscourseSimulator()
    seed_discourse(sim)
    sim.latest_limit = 7
    headers = {"Api-Key": SIM_API_KEY, "Api-Username": SIM_API_USERNAME}

    def walk() -> list[int]:
        seen: list[int] = []
        while True:
            params = {"before": min(seen) - 1} if seen else {}
            posts = requests.get(f"{sim.base_url}/posts.json", params=params, headers=headers, timeout=5).json()
            ids = [p["id"] for p in posts["latest_posts"]]
            if not set(ids) - set(seen):
                return seen
            seen += ids

    with sim:
        clean = walk()
        assert clean == sorted(clean, reverse=True) == [p["id"] for p in sim.posts()][::-1]
        sim.set_paging_faults("repeat", rate=1.0)
        repeated = walk()
        assert set(repeated) == set(clean) and len(repeated) > len(clean)
        sim.set_paging_faults("shift", rate=1.0)
        assert set(clean) <= set(walk()) and len(sim.posts()) > len(clean)  # posts arrived meanwhile


def test_jira_search_honours_repeat_and_shift() -> None:
    sim = JiraSimulator()
    for n in range(20):
        sim.add_staff_issue(f"Issue {n}")
    auth = "Basic " + base64.b64encode(f"{SIM_LOGIN}:{SIM_TOKEN}".encode()).decode()

    def walk() -> list[str]:
        seen: list[str] = []
        token = None
        while True:
            body = {"jql": "project = PROD ORDER BY updated ASC", "maxResults": 4, "fields": ["summary"],
                    **({"nextPageToken": token} if token else {})}
            page = requests.post(f"{sim.base_url}/rest/api/3/search/jql", json=body, headers={"Authorization": auth},
                                 timeout=5).json()
            seen += [issue["key"] for issue in page["issues"]]
            token = page.get("nextPageToken")
            if not token:
                return seen

    with sim:
        clean = walk()
        assert len(clean) == len(set(clean)) == 20
        sim.set_paging_faults("repeat", rate=1.0)
        repeated = walk()
        assert set(repeated) == set(clean) and len(repeated) > 20
        sim.set_paging_faults("shift", rate=1.0)
        assert set(walk()) < set(clean), "an edit between pages moves an unseen issue past an offset reader"
