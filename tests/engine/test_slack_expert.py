"""The expert answers from a Slack thread: a routed ticket's notice starts the thread, replies become internal
comments on the ticket, and the reply marked with the answer reaction goes to the customer once.

The forum and tracker are the engine's in-memory fakes; Slack is the real connector over HTTP to its simulator.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select

from connectors.slack.connector import SlackConnector
from connectors.slack.plugin import PLUGIN, SIM_TOKEN
from connectors.slack.seed import seed
from connectors.slack.simulator import SlackSimulator
from continuum.config import HubConfig
from continuum.connector import ConnectionInfo, Effect, EffectResult
from continuum.engine.context import SyncContext
from continuum.engine.run import DEAD_LETTERED, run_pipeline
from continuum.mapping import load_mapping, map_outbound
from continuum.store.tables import cursors, dead_letters, interactions, links, outbox
from tests.engine.fakes import FakeForum, FakeTracker

HERE = Path(__file__).parent / "mappings"
REPO_MAPPINGS = Path(__file__).parents[2] / "mappings"
TRACKER_MAPPING = """system: tracker
object: issue
inbound:
  status: {path: status, type: str}
  summary: {path: summary, type: str}
outbound:
  create:
    fields:
      summary: {template: "{{ interaction.text | truncate(50, true) }}", required: true}
  comment:
    object_type: comment
    fields:
      body: {template: "{{ customer.display_name }}: {{ interaction.text }}", required: true}
  expert_comment:
    object_type: comment
    fields:
      body: {template: "{{ expert.author }} (internal): {{ expert.text }}", required: true}
"""


@dataclass
class NotingTracker(FakeTracker):
    """Keeps what each comment effect asked for: an expert's note must be marked internal."""

    asked: list[tuple[str, bool]] = field(default_factory=list)

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        self.asked += [(str(e.fields.get("body")), bool(e.context.get("internal"))) for e in effects
                       if e.action == "comment"]
        return super().write(effects)


def hub(tmp: Path) -> HubConfig:
    tracker = tmp / "tracker.issue.yaml"
    tracker.write_text(TRACKER_MAPPING, encoding="utf-8")
    slack = str(REPO_MAPPINGS / "slack.message.yaml")
    return HubConfig.model_validate({
        "systems": {"forum": {"connector": "fake", "connection": "none"},
                    "tracker": {"connector": "fake", "connection": "none"},
                    "slack": {"connector": "slack", "connection": "none",
                              "options": {"answer_reaction": "white_check_mark"}}},
        "pipelines": {"p": {
            "sources": [{"system": "forum", "stream": "posts", "mapping": str(HERE / "forum.post.yaml")}],
            "targets": [{"system": "tracker", "mapping": str(tracker),
                         "comment_mapping": str(HERE / "tracker.comment.yaml"), "stream": "issues"},
                        {"system": "slack", "mapping": slack, "stream": "messages"}],
            "reply_mapping": {"forum": str(HERE / "forum.post.yaml")},
            "routing": [{"name": "ideas", "when": {"kind": ["feature_request"]},
                         "then": {"route": "tracker", "team": "support"}}],
            "expert_threads": {"system": "slack", "mapping": slack, "channels": {"support": "#support"}},
        }},
    })


World = tuple[SyncContext, FakeForum, NotingTracker, SlackSimulator]


@pytest.fixture
def world(sqlite_db: Engine, tmp_path: Path) -> Iterator[World]:
    sim = SlackSimulator()
    seed(sim)
    with sim:
        slack = PLUGIN.create(ConnectionInfo("slack_test", sim.base_url, None, SIM_TOKEN),
                              {"listen_channels": ["#support"]})
        assert isinstance(slack, SlackConnector)
        forum, tracker = FakeForum(), NotingTracker()
        ctx = SyncContext(db=sqlite_db, hub=hub(tmp_path), pipeline_name="p",
                          connectors={"forum": forum, "tracker": tracker, "slack": slack})
        yield ctx, forum, tracker, sim


def notices(sim: SlackSimulator) -> list[dict[str, Any]]:
    return [m for m in sim.messages("#support") if m.get("bot_id") and m.get("metadata")
            and m.get("thread_ts") in (None, m["ts"])]


def test_the_expert_answers_in_the_tickets_thread_once(world: World) -> None:
    ctx, forum, tracker, sim = world
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    assert tracker.created == 1
    [notice] = notices(sim)  # the routed ticket's notice, in its team's channel
    [ticket] = tracker.issues
    assert f"New ticket {ticket}" in notice["text"] and "dark mode" in notice["text"]
    with ctx.db.connect() as conn:
        thread = conn.execute(select(links.c.external_id, links.c.record_type).where(
            links.c.system == "slack", links.c.object_type == "thread")).one()
    assert thread.external_id == f"{sim.channel_id('#support')}:{notice['ts']}"

    lena = next(u.id for u in sim.users.values() if u.name == "lena.fischer")
    diego = next(u.id for u in sim.users.values() if u.name == "diego.alvarez")
    sim.reply("#support", notice["ts"], diego, "Is this the same as the theme request?")
    answer_ts = sim.reply("#support", notice["ts"], lena, "Dark mode ships in 2.5, next month.")
    stats = run_pipeline(ctx)
    assert (stats.counts["expert_replies"], stats.counts.get("expert_answers", 0)) == (2, 0)
    assert forum.replies == 0  # a reply is a note until someone marks it as the answer
    sim.react("#support", answer_ts, diego, "white_check_mark")  # marked after it was read
    stats = run_pipeline(ctx)
    assert stats.counts["expert_answers"] == 1
    run_pipeline(ctx)  # the tracker's comments planned while reading Slack back go out in the next run's apply

    notes = [(body, internal) for body, internal in tracker.asked if "(internal)" in body]
    assert [internal for _, internal in notes] == [True, True]  # both replies, each an internal comment
    assert any("Dark mode ships in 2.5" in body for body, _ in notes)
    assert forum.replies == 1  # the marked reply went to the customer, on their own channel
    with ctx.db.connect() as conn:
        asker = conn.execute(select(interactions.c.status, interactions.c.answered_at).where(
            interactions.c.source_system == "forum")).one()
        replies = conn.execute(select(outbox.c.payload).where(outbox.c.system == "forum",
                                                             outbox.c.action == "reply")).all()
    assert asker.answered_at is not None  # the SLA clock stopped
    assert len(replies) == 1 and "Dark mode ships in 2.5" in str(replies[0].payload)

    sim.react("#support", answer_ts, lena, "white_check_mark")  # marked again, and the thread re-read
    sim.reply("#support", notice["ts"], diego, "Thanks!")
    run_pipeline(ctx)
    with ctx.db.begin() as conn:  # and Slack read again from the start: every reply, the answer among them, again
        conn.execute(delete(cursors).where(cursors.c.system == "slack"))
    run_pipeline(ctx)
    assert forum.replies == 1  # still once
    assert len([1 for body, _ in tracker.asked if "(internal)" in body]) == 3  # only the new reply is added
    assert len(notices(sim)) == 1  # one thread per ticket


def test_the_shipped_jira_mapping_makes_an_experts_reply_an_internal_comment() -> None:
    mapping = load_mapping(REPO_MAPPINGS / "jira.issue.yaml")
    fields = map_outbound(mapping, "expert_comment", {"expert": {
        "author": "U0LENA", "text": "Ships in 2.5 {color:red}", "url": "https://x.slack.com/archives/C1/p1"}},
        lambda text: text.replace("{", "\\{"))
    assert fields["visibility"] == {"type": "role", "value": "Administrators"}  # not public on the ticket
    assert "Ships in 2.5 \\{color:red}" in fields["body"]  # the expert's text escaped like any


def test_a_reply_that_does_not_map_is_a_dead_letter_and_the_others_go_on(world: World) -> None:
    ctx, forum, _, sim = world
    forum.post("ann", 1, "Please add dark mode")
    run_pipeline(ctx)
    [notice] = notices(sim)
    lena = next(u.id for u in sim.users.values() if u.name == "lena.fischer")
    sim.reply("#support", notice["ts"], "", "a reply whose author Slack did not say")  # no user: cannot map
    sim.reply("#support", notice["ts"], lena, "Looking into it")
    stats = run_pipeline(ctx)
    assert stats.counts["expert_replies"] == 1 and stats.counts[DEAD_LETTERED] == 1
    with ctx.db.connect() as conn:
        [letter] = conn.execute(select(dead_letters.c.error)).all()
    assert "expert thread" in letter.error and "author_account_id" in letter.error


@pytest.mark.parametrize(("change", "says"), [
    (lambda p: p["sources"].append({"system": "slack", "stream": "messages", "mapping": "slack.message.yaml"}),
     "is also a source"),
    (lambda p: p["targets"].pop(), "must also be a target with a stream"),
])
def test_expert_threads_that_could_not_work_are_refused_in_one_line(tmp_path: Path, change: Any, says: str) -> None:
    data = hub(tmp_path).model_dump(exclude_none=True)
    change(data["pipelines"]["p"])
    with pytest.raises(ValueError, match=says):
        HubConfig.model_validate(data)
