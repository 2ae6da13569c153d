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
