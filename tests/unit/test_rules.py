from __future__ import annotations

from continuum.policy.rules import Rule, decide

RULES = [Rule.model_validate(r) for r in [
    {"name": "banter", "when": {"kind": ["noise"]}, "then": {"action": "ignore"}, "stop": True},
    {"name": "crash words", "when": {"regex": r"crash(es|ed)?|data loss"}, "then": {"kind": "bug"}},
    {"name": "urgent bugs", "when": {"kind": ["bug"], "keywords": ["production"]},
     "then": {"priority": "urgent", "route": "tracker", "team": "rnd"}, "stop": True},
    {"name": "bugs", "when": {"kind": ["bug"]}, "then": {"priority": "normal", "route": "tracker"}, "stop": True},
]]


def test_rules_run_in_order_and_earlier_rules_feed_later_ones() -> None:
    decision = decide(RULES, {"kind": "question", "text": "The app crashed in production!"})
    assert (decision.kind, decision.priority, decision.route, decision.action) == ("bug", "urgent", "tracker", "ticket")
    assert decision.rules == ["crash words", "urgent bugs"]


def test_stop_ends_evaluation_and_ignore_wins() -> None:
    decision = decide(RULES, {"kind": "noise", "text": "it crashed lol"})
    assert decision.action == "ignore" and decision.rules == ["banter"]


def test_keywords_match_whole_words_only() -> None:
    decision = decide(RULES, {"kind": "bug", "text": "preproduction server"})
    assert decision.priority == "normal"


def test_no_rule_matches_leaves_the_interaction_alone() -> None:
    decision = decide(RULES, {"kind": "praise", "text": "love it"})
    assert (decision.action, decision.route, decision.rules) == ("none", None, [])


def test_a_rule_list_changed_in_place_is_compiled_again() -> None:
    rules = list(RULES)
    assert decide(rules, {"kind": "question", "text": "a crash in production"}).priority == "urgent"
    rules.insert(0, Rule.model_validate({"name": "all low", "when": {}, "then": {"priority": "low"}, "stop": True}))
    assert decide(rules, {"kind": "question", "text": "a crash in production"}).rules == ["all low"]


def test_keyword_phrases_match_across_case_and_only_as_whole_phrases() -> None:
    rules = [Rule.model_validate({"name": "sales", "when": {"keywords": ["talk to sales", "seats", "c++"]},
                                  "then": {"kind": "sales_lead"}})]
    assert decide(rules, {"kind": "question", "title": "Hi", "text": "Can we TALK TO SALES?"}).kind == "sales_lead"
    assert decide(rules, {"kind": "question", "text": "the car seatsbelt"}).kind == "question"  # substring only
    assert decide(rules, {"kind": "question", "text": "our C++ SDK"}).kind == "sales_lead"
    assert decide(rules, {"kind": "question", "title": "seats", "text": ""}).kind == "sales_lead"  # the title counts
