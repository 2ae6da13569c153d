"""Triage and routing rules: ordered, readable, and applied the same way every run.

Each rule has a ``when`` (all given conditions must hold) and a ``then``
(fields to set and what to do).  Rules run top to bottom against the
interaction as the earlier rules left it, so a classifying rule can feed a
routing rule below it; ``stop: true`` ends the evaluation.

The facts a rule can test are computed once per interaction by the engine:
its channel, text and language; its author's tier, whether the author is a
known customer and whether this is their first contact; and the state of
its thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Kind = Literal["question", "complaint", "bug", "feature_request", "praise", "sales_lead", "hr", "noise", "unknown"]
Priority = Literal["urgent", "high", "normal", "low"]
# ticket: create one in `route`; link: aggregate into a feature request (and its ticket in `route`);
# notify: a message to a person or team in chat; task: a task in a CRM; ignore: keep, do nothing;
# drop: do not keep it at all (banter); none: decide nothing here.
Action = Literal["ticket", "link", "notify", "task", "ignore", "drop", "none"]


class RuleWhen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: list[str] | None = None
    channel: list[str] | None = Field(None, description="Exact channel names, e.g. discourse/support")
    source: list[str] | None = Field(None, description="Source system names")
    direction: list[Literal["inbound", "outbound"]] | None = None
    keywords: list[str] | None = Field(None, description="Any of these words or phrases (case-insensitive)")
    regex: str | None = Field(None, description="A Python regular expression searched in title and text")
    unless: str | None = Field(None, description="A regular expression that, when found, stops the rule matching")
    language: list[str] | None = Field(None, description="ISO 639-1 codes, as detected (e.g. en, de)")
    tier: list[str] | None = Field(None, description="Customer tiers, e.g. vip")
    known_customer: bool | None = Field(None, description="The author has a CRM record")
    first_contact: bool | None = Field(None, description="This is the author's first interaction")
    thread_start: bool | None = None
    thread_has_ticket: bool | None = None
    sentiment_below: float | None = Field(
        None, ge=-1, le=1, description="The author's tone (VADER compound, -1 angry .. 1 delighted) is below this")
    urgent: bool | None = Field(None, description="The text holds urgency cues (outage, charged twice, locked out, "
                                                   "cancel, ...)")
    needs_review: bool | None = Field(None, description="The classifier was not sure of the kind")

    @field_validator("regex", "unless")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"regex does not compile: {exc}") from None
        return pattern


class Notify(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: str = Field(description="Chat system name (as under `systems:`)")
    channel: str = Field(description="Channel or person, e.g. #hr or @alex")


class RuleThen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind | None = None
    team: str | None = None
    priority: Priority | None = None
    sla: str | None = Field(None, description="SLA policy name (under sla.policies)")
    route: str | None = Field(None, description="Target system for ticket, link or task")
    action: Action | None = Field(None, description="What to do; `route` alone means ticket")
    notify: Notify | None = None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    when: RuleWhen = Field(default_factory=RuleWhen)
    then: RuleThen
    stop: bool = False


@dataclass
class Decision:
    kind: str
    team: str | None = None
    priority: str | None = None
    sla: str | None = None
    route: str | None = None
    action: str = "none"
    notify: Notify | None = None
    rules: list[str] = field(default_factory=list)


# One condition of a rule, compiled: (facts, text, lowered text, current kind) -> holds.  The text arguments are
# callables so a rule book without text conditions never builds the text.
Test = Callable[[dict[str, Any], Callable[[], str], Callable[[], str], str], bool]


def _phrases_pattern(phrases: list[str]) -> re.Pattern[str]:
    # Whole words or phrases only: "preproduction" must not match "production".  One alternation per keyword list
    # (not one search per phrase): about ten times cheaper on a long list.
    return re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(p.lower()) for p in phrases)})(?!\w)")


def _pattern(regex: str) -> re.Pattern[str]:
    # MULTILINE: `^` and `$` anchor each line of the post, not only the title (the title is line one).
    return re.compile(regex, re.IGNORECASE | re.MULTILINE)


def _in(name: str, allowed: list[str]) -> Test:
    wanted = frozenset(allowed)
    return lambda item, text, lowered, kind: item.get(name) in wanted


def _flag(name: str, wanted: bool) -> Test:
    return lambda item, text, lowered, kind: bool(item.get(name)) == wanted


def _compile_when(when: RuleWhen) -> tuple[Test, ...]:
    """The rule's conditions, cheapest first (set lookups and flags, then the tone, then the text searches), so
    a rule that fails on its kind never runs a regular expression."""
    tests: list[Test] = []
    if when.kind is not None:
        kinds = frozenset(when.kind)
        tests.append(lambda item, text, lowered, kind: kind in kinds)
    for name, allowed in (("channel", when.channel), ("source_system", when.source), ("direction", when.direction),
                          ("tier", when.tier), ("language", when.language)):
        if allowed is not None:
            tests.append(_in(name, list(allowed)))
    for name, wanted in (("known_customer", when.known_customer), ("first_contact", when.first_contact),
                         ("is_thread_start", when.thread_start), ("thread_has_ticket", when.thread_has_ticket),
                         ("urgent", when.urgent), ("needs_review", when.needs_review)):
        if wanted is not None:
            tests.append(_flag(name, wanted))
    if (below := when.sentiment_below) is not None:
        tests.append(lambda item, text, lowered, kind: (tone := item.get("sentiment")) is not None and tone < below)
    if when.keywords is not None:
        words, phrases = tuple(p.lower() for p in when.keywords), _phrases_pattern(when.keywords)
        # A plain substring scan first (C speed, no backtracking): the pattern only confirms whole words, on the
        # few texts that hold one of the phrases at all.
        tests.append(lambda item, text, lowered, kind: any(w in lowered() for w in words)
                     and phrases.search(lowered()) is not None)
    if when.regex is not None:
        regex = _pattern(when.regex)
        tests.append(lambda item, text, lowered, kind: regex.search(text()) is not None)
    if when.unless is not None:
        unless = _pattern(when.unless)
        tests.append(lambda item, text, lowered, kind: unless.search(text()) is None)
    return tuple(tests)


@dataclass(frozen=True)
class CompiledRules:
    """A rule book's rules compiled once per run: conditions ordered cheap-first, one pattern per keyword list,
    regular expressions compiled.  Decides exactly as the rules read, top to bottom."""

    rules: tuple[tuple[Rule, tuple[Test, ...]], ...]

    @classmethod
    def of(cls, rules: list[Rule]) -> CompiledRules:
        return cls(tuple((rule, _compile_when(rule.when)) for rule in rules))

    def decide(self, item: dict[str, Any]) -> Decision:
        decision = Decision(kind=item.get("kind") or "unknown")
        built: list[str] = []

        def text() -> str:
            if not built:
                joined = f"{item.get('title') or ''}\n{item.get('text') or ''}"
                built.extend((joined, joined.lower()))
            return built[0]

        def lowered() -> str:
            text()
            return built[1]

        for rule, tests in self.rules:
            kind = decision.kind
            if not all(test(item, text, lowered, kind) for test in tests):
                continue
            _apply_then(decision, rule)
            if rule.stop:
                break
        return decision


def _apply_then(decision: Decision, rule: Rule) -> None:
    then = rule.then
    for name in ("kind", "team", "priority", "sla", "route", "notify"):
        value = getattr(then, name)
        if value is not None:
            setattr(decision, name, value)
    if then.action is not None:
        decision.action = then.action
    elif then.notify is not None:
        decision.action = "notify"
    elif then.route is not None:
        decision.action = "ticket"
    decision.rules.append(rule.name)


# The last rule lists compiled, by identity (a run's rule book is one list): a run compiles its rules once, and a
# rule book loaded again (an edited file) is compiled afresh.  The list itself is kept so its id is not reused.
_COMPILED: dict[int, tuple[list[Rule], CompiledRules]] = {}


def compiled(rules: list[Rule]) -> CompiledRules:
    found = _COMPILED.get(id(rules))
    # The same list holding the same rules (a list changed in place is compiled again).
    if found is None or found[0] is not rules or len(found[1].rules) != len(rules) or any(
            kept is not rule for (kept, _), rule in zip(found[1].rules, rules, strict=True)):
        if len(_COMPILED) >= 32:
            _COMPILED.clear()
        found = _COMPILED[id(rules)] = (rules, CompiledRules.of(rules))
    return found[1]


def decide(rules: list[Rule], item: dict[str, Any]) -> Decision:
    """Run the rules over one interaction (a dict of its canonical fields and facts)."""
    return compiled(rules).decide(item)


def apply_override(decision: Decision, override: Any) -> None:
    """A person's decision beats the rules, on this and every later run."""
    if not isinstance(override, dict):
        return
    for name in ("kind", "team", "priority", "sla", "route", "action"):
        if override.get(name):
            setattr(decision, name, override[name])
    if override:
        decision.rules.append("human override")
