"""Members' own posts that mention the company page (``mentions: true``), read from the simulator over real HTTP."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import requests

from connectors.linkedin.connector import LinkedInConnector
from connectors.linkedin.mentions import OVERLAP_MS
from connectors.linkedin.plugin import PLUGIN, SIM_ORGANIZATION, SIM_TOKEN
from connectors.linkedin.simulator import MEMBER_TOKEN, LinkedInSimulator
from continuum.connector import ConnectionInfo, Effect, SourceRecord
from tests.connectors import test_linkedin_reply as reply_tests

INES = "urn:li:person:ines-duarte-3"
MENTION = f"@[Acme App]({SIM_ORGANIZATION})"


sim = reply_tests.sim  # the same simulator fixture: seeded, and every exchange checked afterwards


def make(sim: LinkedInSimulator, **options: Any) -> LinkedInConnector:
    data = PLUGIN.simulator_connection(sim.base_url)
    connector = PLUGIN.create(ConnectionInfo("li", data["host"], data["login"], data["password"]),
                              {"mentions": True, **options})
    assert isinstance(connector, LinkedInConnector)
    return connector


def read(connector: LinkedInConnector, cursor: Any) -> tuple[list[SourceRecord], Any]:
    records: list[SourceRecord] = []
    for page in connector.read_changes("posts", cursor):
        assert len(page.records) <= connector.config.page_size
        records += page.records
        cursor = page.cursor
    return records, cursor


def mentions(records: list[SourceRecord]) -> list[SourceRecord]:
    return [r for r in records if r.payload["continuum"]["kind"] == "mention"]


def finder_calls(sim: LinkedInSimulator) -> list[str]:
    return [unquote(x.query_string) for x in sim.calls("GET", "/organizationalEntityNotifications")]


def test_a_mention_is_read_once_as_the_member_s_own_thread(sim: LinkedInSimulator) -> None:
    records, cursor = read(make(sim), None)
    [found] = mentions(records)
    c = found.payload["continuum"]
    assert found.external_id.startswith("urn:li:share:") and c["thread_id"] == found.external_id == found.parent_id
    assert c["is_thread_start"] and c["parent_id"] is None and c["author"] == INES  # the member's URN, not the page
    assert c["text"].startswith("Our team moved its reporting to @Acme App this quarter") and "@[" not in c["text"]
    assert c["url"] == f"https://www.linkedin.com/feed/update/{found.external_id}/"
    assert len([r for r in records if r.payload["continuum"]["kind"] == "post"]) == 2  # the page's posts as before
    [query] = finder_calls(sim)
    assert "q=criteria" in query and f"organizationalEntity={SIM_ORGANIZATION}" in query
    assert "actions=List(SHARE_MENTION)" in query and "timeRange=(start:0,end:" in query
    assert sim.calls("GET", f"/posts/{found.external_id}")  # the post itself, for its text and author

    again, cursor = read(make(sim), cursor)
    assert again == [], "a re-run reads nothing new"
    assert f"timeRange=(start:{found.payload['createdAt'] - OVERLAP_MS}," in finder_calls(sim)[-1]


def test_mentions_are_off_by_default(sim: LinkedInSimulator) -> None:
    records, _ = read(make(sim, mentions=False), None)
    assert not mentions(records) and not finder_calls(sim)


def test_only_new_mentions_are_read_and_comments_on_the_page_s_posts_are_no_mentions(sim: LinkedInSimulator) -> None:
    _, cursor = read(make(sim), None)
    kenji = "urn:li:person:kenji-watanabe-9"
    sim.add_comment(kenji, next(iter(sim.posts.values())).urn, f"{MENTION} when does CSV export ship?")
    later = sim.add_post(f"Day two with {MENTION}: the Safari dashboard is still blank for me.", author=kenji)
    records, cursor = read(make(sim), cursor)
    assert [r.external_id for r in mentions(records)] == [later]
    assert [r.payload["continuum"]["kind"] for r in records] == ["mention", "comment"]
    assert read(make(sim), cursor)[0] == []


def test_a_notification_filed_late_within_the_overlap_is_still_read(sim: LinkedInSimulator) -> None:
    _, cursor = read(make(sim), None)
    newest = cursor["mention_newest"]
    late = sim.add_post(f"{MENTION} is our favourite tool this year.", author="urn:li:person:sofia-marin-22")
    lost = sim.add_post(f"{MENTION} got us through the audit.", author="urn:li:person:henrik-larsen-7")
    *_, late_note, lost_note = sim.notifications.values()
    late_note.at, lost_note.at = newest - OVERLAP_MS // 2, newest - OVERLAP_MS - 1  # LinkedIn filed them late
    records, cursor = read(make(sim), cursor)
    assert [r.external_id for r in records] == [late]  # past the overlap a late notification is not seen
    assert lost not in cursor["mention_seen"] and read(make(sim), cursor)[0] == []


def test_a_mention_deleted_before_it_is_read_is_skipped_and_the_rest_still_read(sim: LinkedInSimulator) -> None:
    _, cursor = read(make(sim), None)
    gone = sim.add_post(f"{MENTION} wrong account, sorry", author=INES)
    kept = sim.add_post(f"{MENTION} export to CSV, please!", author=INES)
    sim.delete_post(gone)
    records, cursor = read(make(sim), cursor)
    assert [r.external_id for r in records] == [kept]
    assert gone in cursor["mention_seen"] and [x.status for x in sim.calls("GET", f"/posts/{gone}")] == [404]
    assert read(make(sim), cursor)[0] == []


def test_many_mentions_page_through_the_finder_and_each_is_read_once(sim: LinkedInSimulator) -> None:
    made = [sim.add_post(f"{MENTION} question {n}: can reports be exported?", author=INES) for n in range(24)]
    sim.set_paging_faults("repeat", rate=1.0)  # every later page starts a little before where the last ended
    records, cursor = read(make(sim, page_size=10), None)
    ids = [r.external_id for r in mentions(records)]
    assert len(ids) == len(set(ids)) == 25 and set(made) <= set(ids)  # Ines's seeded mention and these 24
    assert len(finder_calls(sim)) >= 3, "the finder was paged"
    sim.set_paging_faults(None)
    assert mentions(read(make(sim, page_size=10), cursor)[0]) == []


def test_the_answer_to_a_mention_is_a_comment_on_the_member_s_post_as_the_page(sim: LinkedInSimulator) -> None:
    records, _ = read(make(sim), None)
    [found] = mentions(records)
    effect = Effect(key="m1", action="reply", object_type="post", fields={"text": "CSV export ships in May!"},
                    target_id=found.external_id, context={"in_reply_to": found.external_id})
    [result] = make(sim).write([effect])
    assert result.ok, result
    [ours] = [c for c in sim.comments_by(SIM_ORGANIZATION) if c["object"] == found.external_id]
    assert ours["message"]["text"] == "CSV export ships in May!" and "parentComment" not in ours
    assert ours["actor"] == SIM_ORGANIZATION and result.external_id == ours["commentUrn"]
    # A retry that may have landed finds the comment instead of posting it again.
    [retry] = make(sim).write([Effect(**{**effect.__dict__, "maybe_applied": True})])
    assert retry.external_id == ours["commentUrn"] and len(sim.comments_by(SIM_ORGANIZATION)) == 1


def test_comments_under_a_mention_thread_under_it_and_an_answer_lands_in_their_branch(sim: LinkedInSimulator) -> None:
    records, cursor = read(make(sim), None)
    [found] = mentions(records)
    kenji = sim.add_comment("urn:li:person:kenji-watanabe-9", found.external_id, "Same here, CSV would be great.")
    records, cursor = read(make(sim), cursor)
    [comment] = records
    assert comment.external_id == kenji and comment.payload["continuum"]["thread_id"] == found.external_id
    assert comment.payload["continuum"]["parent_id"] == found.external_id == comment.parent_id
    [result] = make(sim).write([Effect(key="m2", action="reply", object_type="post", fields={"text": "Noted!"},
                                       target_id=found.external_id, context={"in_reply_to": kenji})])
    [ours] = sim.comments_by(SIM_ORGANIZATION)
    assert result.ok and ours["parentComment"] == kenji and ours["object"] == found.external_id
    records, cursor = read(make(sim), cursor)  # the page's own answer comes back once, as the company's voice
    assert [(r.external_id, r.payload["continuum"]["author"]) for r in records] == [(ours["commentUrn"],
                                                                                      SIM_ORGANIZATION)]
    assert read(make(sim), cursor)[0] == []
    sim.delete_post(found.external_id)  # gone: its thread is no longer listed, and nothing fails
    records, cursor = read(make(sim), cursor)
    assert found.external_id not in cursor["mention_posts"] and all(r.deleted for r in records)


def test_only_the_newest_mentions_have_their_comments_read(sim: LinkedInSimulator) -> None:
    for n in range(3):
        sim.add_post(f"{MENTION} note {n}", author=INES)
    _, cursor = read(make(sim, posts_watched=2), None)
    newest_two = [p.urn for p in sim.posts.values()][-2:]
    assert list(cursor["mention_posts"]) == newest_two
    older = [p.urn for p in sim.posts.values() if p.author == INES][:-2]
    listed = {x.path.split("/")[3] for x in sim.calls("GET", "/comments") if "ids=" not in x.query_string}
    assert set(newest_two) <= listed and not set(older) & listed and len(older) == 2


def test_the_finder_is_the_page_admin_s_and_takes_only_documented_actions(sim: LinkedInSimulator) -> None:
    url = f"{sim.base_url}/rest/organizationalEntityNotifications"
    org = SIM_ORGANIZATION.replace(":", "%3A")

    def ask(token: str, actions: str) -> requests.Response:
        return requests.get(f"{url}?q=criteria&organizationalEntity={org}&actions=List({actions})", timeout=5,
                            headers={"Authorization": f"Bearer {token}", "LinkedIn-Version": "202511",
                                     "X-Restli-Protocol-Version": "2.0.0"})

    assert ask(f"{MEMBER_TOKEN}ines-duarte-3", "SHARE_MENTION").status_code == 403
    assert ask(SIM_TOKEN, "COMMENT_MENTION").status_code == 400
    answer = ask(SIM_TOKEN, "SHARE_MENTION,COMMENT").json()
    assert {n["action"] for n in answer["elements"]} == {"SHARE_MENTION", "COMMENT"}
    assert "total" not in answer["paging"]


def test_the_mapping_makes_the_mention_a_customer_s_thread_start(sim: LinkedInSimulator) -> None:
    from continuum.mapping import load_mapping
    from continuum.mapping.render import map_inbound

    [found] = mentions(read(make(sim), None)[0])
    row = map_inbound(load_mapping("linkedin.post.yaml"), found.payload)
    assert row["is_thread_start"] and row["thread_id"] == found.external_id and row["parent_id"] is None
    assert row["author_account_id"] == row["author_handle"] == INES and "CSV export" in row["text"]


def test_a_seed_file_section_loads_mentions() -> None:
    from connectors.linkedin.seed import load

    sim = LinkedInSimulator()
    load(sim, {"people": [{"id": "ann-1", "name": "Ann"}], "mentions": [{"author": "ann-1", "text": "Dark mode?"}]})
    [post] = sim.posts.values()
    [note] = sim.notifications.values()
    assert post.author == "urn:li:person:ann-1" and note.action == "SHARE_MENTION" and note.generated == post.urn
