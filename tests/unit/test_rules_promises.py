"""What a rule matches and what it decides: each condition on its own, their combination, actions, stop,
rule order, and a person's override."""

from __future__ import annotations

from typing import Any

import pytest

from continuum.policy.rules import Decision, Rule, apply_override, decide


def rule(when: dict[str, Any] | None = None, name: str = "r", stop: bool = False, **then: Any) -> Rule:
    return Rule.model_validate({"name": name, "when": when or {}, "then": then or {"team": "t"}, "stop": stop})


def matches(when: dict[str, Any], item: dict[str, Any]) -> bool:
    return decide([rule(when)], item).rules == ["r"]


# --- text: keywords, regex, unless -------------------------------------------------------------------

def test_keywords_are_searched_in_the_title_as_well_as_the_text() -> None:
    when = {"keywords": ["refund"]}
    assert matches(when, {"title": "Refund please", "text": "see title"})
    assert matches(when, {"title": None, "text": "I want a REFUND"})
    assert not matches(when, {"title": "Billing", "text": "refunded?"})  # whole words only


def test_a_regex_ignores_case_and_anchors_each_line() -> None:
    when = {"regex": r"^error \d+$"}
    assert matches(when, {"title": "App broke", "text": "Steps:\nERROR 42\nthanks"})
    assert not matches(when, {"title": "App broke", "text": "I saw error 42 twice"})


def test_a_missing_title_or_text_adds_nothing_a_pattern_could_find() -> None:
    when = {"regex": r"\w"}
    assert not matches(when, {"title": None, "text": None})
    assert not matches(when, {})
    assert matches(when, {"text": "hi"}) and matches(when, {"title": "hi"})


def test_unless_stops_a_rule_only_when_its_pattern_is_found() -> None:
    when = {"keywords": ["cancel"], "unless": r"\bdon'?t\b"}
    assert matches(when, {"text": "Please cancel my plan"})
    assert not matches(when, {"text": "Don't cancel my plan"})


# --- facts: exact values and flags ------------------------------------------------------------------

@pytest.mark.parametrize(("condition", "fact", "wanted", "other"), [
    ("channel", "channel", "discourse/support", "discourse/general"),
    ("source", "source_system", "discourse", "jira"),
    ("direction", "direction", "inbound", "outbound"),
    ("language", "language", "de", "en"),
    ("tier", "tier", "vip", "free"),
])
def test_a_list_condition_matches_only_the_listed_values(condition: str, fact: str, wanted: str, other: str) -> None:
    when = {condition: [wanted]}
    assert matches(when, {fact: wanted})
    assert not matches(when, {fact: other})
    assert not matches(when, {})


@pytest.mark.parametrize(("condition", "fact"), [
    ("known_customer", "known_customer"), ("first_contact", "first_contact"), ("thread_start", "is_thread_start"),
    ("thread_has_ticket", "thread_has_ticket"), ("urgent", "urgent"), ("needs_review", "needs_review"),
])
def test_a_flag_condition_matches_its_fact_either_way(condition: str, fact: str) -> None:
    assert matches({condition: True}, {fact: True})
    assert not matches({condition: True}, {fact: False})
    assert not matches({condition: True}, {})
    assert matches({condition: False}, {fact: False}) and matches({condition: False}, {})
    assert not matches({condition: False}, {fact: True})


def test_sentiment_below_is_strictly_below_and_unknown_sentiment_never_matches() -> None:
    when = {"sentiment_below": -0.3}
    assert matches(when, {"sentiment": -0.8})
    assert not matches(when, {"sentiment": -0.3})
    assert not matches(when, {"sentiment": 0.5})
    assert not matches(when, {})


def test_all_given_conditions_must_hold() -> None:
    when = {"kind": ["bug"], "tier": ["vip"], "keywords": ["outage"], "thread_start": True}
    item = {"kind": "bug", "tier": "vip", "text": "total outage", "is_thread_start": True}
    assert matches(when, item)
    for fact, spoiler in (("kind", "question"), ("tier", "free"), ("text", "all fine"), ("is_thread_start", False)):
        assert not matches(when, {**item, fact: spoiler})


def test_a_rule_without_conditions_matches_everything() -> None:
    assert matches({}, {}) and matches({}, {"kind": "praise", "text": "love it"})


# --- decisions ---------------------------------------------------------------------------------------

def test_an_interaction_without_a_kind_is_unknown_and_rules_can_match_that() -> None:
    assert decide([], {"text": "hm"}).kind == "unknown"
    decision = decide([rule({"kind": ["unknown"]}, action="ignore")], {"kind": None, "text": "hm"})
    assert decision.action == "ignore" and decision.rules == ["r"]


def test_notify_alone_means_notify_and_route_alone_means_ticket() -> None:
    notify = decide([rule(notify={"system": "chat", "channel": "#hr"})], {})
    assert notify.action == "notify" and notify.notify is not None and notify.notify.channel == "#hr"
    assert decide([rule(route="tracker")], {}).action == "ticket"
    assert decide([rule(route="crm", action="task")], {}).action == "task"  # an explicit action wins


def test_later_rules_see_earlier_decisions_and_stop_ends_the_run() -> None:
    rules = [
        rule({"keywords": ["crash"]}, name="classify", kind="bug"),
        rule({"kind": ["bug"]}, name="route bugs", stop=True, route="tracker", priority="high"),
        rule({}, name="never reached", priority="low"),
    ]
    decision = decide(rules, {"kind": "question", "text": "crash on login"})
    assert (decision.kind, decision.route, decision.priority) == ("bug", "tracker", "high")
    assert decision.rules == ["classify", "route bugs"]


def test_a_later_rule_overrides_only_what_it_sets() -> None:
    rules = [rule(name="a", team="support", priority="low", sla="standard"), rule(name="b", priority="urgent")]
    decision = decide(rules, {})
    assert (decision.team, decision.priority, decision.sla) == ("support", "urgent", "standard")


# --- a person's override -----------------------------------------------------------------------------

def test_an_override_replaces_each_field_it_gives_and_is_recorded() -> None:
    decision = Decision(kind="question", team="support", priority="normal", sla="standard", route="tracker",
                        action="ticket", rules=["r"])
    apply_override(decision, {"kind": "bug", "team": "rnd", "priority": "urgent", "sla": "vip", "route": "crm",
                              "action": "task"})
    assert (decision.kind, decision.team, decision.priority, decision.sla, decision.route, decision.action) == (
        "bug", "rnd", "urgent", "vip", "crm", "task")
    assert decision.rules == ["r", "human override"]


@pytest.mark.parametrize("name", ["kind", "team", "priority", "sla", "route", "action"])
def test_an_override_of_one_field_leaves_the_others(name: str) -> None:
    decision = Decision(kind="question", team="support", priority="normal", sla="standard", route="tracker",
                        action="ticket")
    expected = {**vars(decision), name: "changed", "rules": ["human override"]}
    empty = "team" if name != "team" else "kind"  # an empty value in the override keeps the rules' value
    apply_override(decision, {name: "changed", empty: None})
    assert vars(decision) == expected


def test_no_override_changes_nothing() -> None:
    overrides: tuple[Any, ...] = (None, {}, "bug")
    for override in overrides:
        decision = Decision(kind="question", rules=["r"])
        apply_override(decision, override)
        assert decision == Decision(kind="question", rules=["r"])
