"""A company reply on the channel answers its own conversation, not every comment under the company's post."""

from __future__ import annotations

from continuum.engine.conversations import WHOLE_THREAD, ThreadMember, answered_by, branch_starts, member_of


def member(id: int, source: str, parent: str | None, direction: str = "inbound",
           start: bool = False) -> ThreadMember:
    return ThreadMember(id, source, parent, direction, start)


# The company's post P; Ann comments (A), Bob comments (B), Cat replies under Ann's comment (C),
# the company answers Ann (R, under A), and Dan replies under Ann's comment after that (D).
COMPANY_POST = [member(1, "P", None, "outbound", True), member(2, "A", "P"), member(3, "B", "P"),
                member(4, "C", "A"), member(5, "R", "A", "outbound"), member(6, "D", "C")]


def test_under_the_company_s_post_a_reply_answers_only_its_branch() -> None:
    assert answered_by("P", COMPANY_POST, 5) == [2, 4]  # Ann and Cat; not Bob, not Dan (who came later)


def test_a_reply_deep_in_a_branch_still_answers_the_whole_branch() -> None:
    thread = [*COMPANY_POST, member(7, "R2", "D", "outbound")]
    assert answered_by("P", thread, 7) == [2, 4, 6]


def test_a_new_top_level_comment_by_the_company_answers_nobody() -> None:
    thread = [*COMPANY_POST, member(7, "N", "P", "outbound")]
    assert answered_by("P", thread, 7) == []


def test_a_thread_a_customer_started_is_one_conversation() -> None:
    thread = [member(1, "T", None, "inbound", True), member(2, "U", "T"), member(3, "R", "U", "outbound")]
    assert answered_by("T", thread, 3) is WHOLE_THREAD


def test_an_unknown_shape_answers_the_whole_thread_as_before() -> None:
    # The start was never read, or the reply's parent is not one of the thread's messages (a post number).
    assert answered_by("P", COMPANY_POST[1:], 5) is WHOLE_THREAD
    assert answered_by("P", [*COMPANY_POST[:4], member(5, "R", "7", "outbound")], 5) is WHOLE_THREAD


def test_the_start_is_known_by_its_flag_or_by_being_the_thread_id() -> None:
    unflagged = [member(1, "P", None, "outbound", False), *COMPANY_POST[1:]]
    assert answered_by("P", unflagged, 5) == [2, 4]
    flagged = [member(1, "post-1", None, "outbound", True), member(2, "A", "post-1"), member(3, "B", "post-1"),
               member(4, "R", "A", "outbound")]
    assert answered_by("topic-9", flagged, 4) == [2]


def test_a_loop_in_bad_parent_data_does_not_hang() -> None:
    thread = [member(1, "P", None, "outbound", True), member(2, "A", "B"), member(3, "B", "A"),
              member(4, "R", "A", "outbound")]
    assert answered_by("P", thread, 4) is WHOLE_THREAD


def stored(id: int, source: str, parent: str | None, direction: str = "inbound", start: bool = False) -> dict:
    return {"id": id, "source_id": source, "parent_id": parent, "direction": direction, "is_thread_start": start}


def test_stored_rows_are_known_by_their_external_id_and_branches_found() -> None:
    # The store keeps `object_type:external_id`; parents are the platform's ids (a URN holds colons too).
    rows = [stored(1, "post:urn:li:share:1", None, "outbound", True), stored(2, "post:urn:li:comment:(1,2)",
            "urn:li:share:1"), stored(3, "post:urn:li:comment:(1,3)", "urn:li:comment:(1,2)"),
            stored(4, "post:urn:li:comment:(1,4)", "urn:li:share:1")]
    assert member_of(rows[2]) == ThreadMember(3, "urn:li:comment:(1,3)", "urn:li:comment:(1,2)", "inbound", False)
    assert branch_starts("urn:li:share:1", rows) == {3: 2}
    # A thread a customer started has no branches: its start is every reply's root.
    assert branch_starts("T", [stored(1, "post:T", None, "inbound", True), stored(2, "post:U", "T")]) == {}
