"""Text crossing systems, directly: staff's rich Jira text flattened for customers, customer text made inert."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.discourse.markup import escape_text, idempotency_marker, marked_key
from connectors.jira.adf import adf_to_text, text_to_adf
from continuum.policy.sla import Calendar


def t(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def p(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


BREAK = {"type": "hardBreak"}
RICH = {"type": "doc", "version": 1, "content": [
    p(BREAK, t("Hi "), {"type": "mention", "attrs": {"id": "557058:abc", "text": "@Ann"}}, t(", fixed "),
      {"type": "emoji", "attrs": {"shortName": ":tada:"}}),
    p(t("line one"), BREAK, t("line two")),
    p(),
    {"type": "bulletList", "content": [{"type": "listItem", "content": [p(t("first")), p(t("more"))]},
                                       {"type": "listItem", "content": [p(t("second"))]}]},
    {"type": "orderedList", "content": [{"type": "listItem", "content": [p(t("step"))]},
                                        {"type": "listItem", "content": [p(t("again"), BREAK, t("wrapped"))]}]},
    {"type": "rule"},
    {"type": "table", "content": [
        {"type": "tableRow", "content": [{"type": "tableHeader", "content": [p(t("Plan"))]},
                                         {"type": "tableHeader", "content": [p(t("Seats"))]}]},
        {"type": "tableRow", "content": [{"type": "tableCell", "content": [p(t("Pro"), BREAK, t("yearly"))]},
                                         {"type": "tableCell", "content": [p(t("5"))]}]}]},
    {"type": "blockquote", "content": [p(t("quoted"))]},
    p({"type": "mention", "attrs": {"id": "557058:xyz"}}, t(" see "),
      {"type": "inlineCard", "attrs": {"url": "https://x.test/a"}}, t(" on "),
      {"type": "date", "attrs": {"timestamp": "1767225600000"}}, t(" "), {"type": "status", "attrs": {"text": "DONE"}},
      {"type": "emoji", "attrs": {}}),
    p(t("last"), BREAK),
]}


def test_staffs_rich_text_flattens_to_what_a_reader_sees() -> None:
    assert adf_to_text(RICH) == (
        "Hi @Ann, fixed :tada:\n\nline one\nline two\n\n- first\n  \n  more\n- second\n\n1. step\n2. again\n"
        "  wrapped\n\n---\n\nPlan | Seats\nPro yearly | 5\n\nquoted\n\n"
        "@557058:xyz see https://x.test/a on 1767225600000 DONE\n\nlast")


def test_plain_and_odd_bodies_flatten_too() -> None:
    assert adf_to_text("already plain (REST v2)") == "already plain (REST v2)"
    assert adf_to_text(None) == "" and adf_to_text(["not", "adf"]) == ""
    assert adf_to_text({"type": "doc", "content": [p(BREAK, t("x"), BREAK)]}) == "x"


def test_customer_text_becomes_literal_adf() -> None:
    assert text_to_adf("a\r\nb\rc\n\n\n  \nd\x00e\x1f\n\n{code}") == {"type": "doc", "version": 1, "content": [
        p(t("a"), BREAK, t("b"), BREAK, t("c")), p(t("de")), p(t("{code}"))]}
    assert text_to_adf("\n\n") == {"type": "doc", "version": 1, "content": []}
    assert text_to_adf("x\n\ny")["content"] == [p(t("x")), p(t("y"))]


def test_line_ends_are_normalised_before_escaping() -> None:
    assert escape_text("a\rb\r\nc") == "a\nb\nc"


def test_the_key_marker_is_exact_and_reads_back() -> None:
    assert idempotency_marker("ck-1a") == "<!-- continuum:ck%2D1a -->"
    assert idempotency_marker("p:a/b.c_d e") == "<!-- continuum:p:a/b.c_d%20e -->"
    for key in ("ck-0123456789abcdef01234567", "p:a/b.c_d e", "x--y -->"):
        assert marked_key(f"text\n\n{idempotency_marker(key)}") == key


@pytest.fixture
def new_york_clock() -> Iterator[None]:
    """The machine's own zone set to New York, so that a calendar that used it instead of its own shows."""
    import os

    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


def test_a_calendar_counts_in_its_own_zone_and_answers_in_utc(new_york_clock: None) -> None:
    berlin = Calendar(timezone="Europe/Berlin", hours=("09:00", "17:00"))
    start = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # 16:00 in Berlin, 10:00 in New York
    due = berlin.add_working_time(start, timedelta(hours=2))
    assert due == datetime(2026, 11, 17, 9, 0, tzinfo=UTC) and due.tzinfo is UTC
    with pytest.raises(ValueError, match=r"^the calendar has no working time within ten years$"):
        Calendar(workdays=[]).add_working_time(start, timedelta(hours=1))
