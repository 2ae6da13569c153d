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
from dataclasses import dataclass, field
from functools import lru_cache
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


@lru_cache(maxsize=256)
def _phrases_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    # Whole words or phrases only: "preproduction" must not match "production".
    return re.compile("|".join(rf"(?<!\w){re.escape(p.lower())}(?!\w)" for p in phrases))


def _contains_any(text: str, phrases: list[str]) -> bool:
    return _phrases_pattern(tuple(phrases)).search(text.lower()) is not None


def _search(pattern: str, text: str) -> bool:
    # MULTILINE: `^` and `$` anchor each line of the post, not only the title (the title is line one).
    return re.search(pattern, text, re.IGNORECASE | re.MULTILINE) is not None


def _matches(when: RuleWhen, item: dict[str, Any], kind: str) -> bool:
    text = f"{item.get('title') or ''}\n{item.get('text') or ''}"
    sentiment = item.get("sentiment")

    def flag(name: str, wanted: bool | None) -> bool:
        return wanted is None or bool(item.get(name)) == wanted

    return all((
        when.kind is None or kind in when.kind,
        when.channel is None or item.get("channel") in when.channel,
        when.source is None or item.get("source_system") in when.source,
        when.direction is None or item.get("direction") in when.direction,
        when.language is None or item.get("language") in when.language,
        when.tier is None or item.get("tier") in when.tier,
        flag("known_customer", when.known_customer),
        flag("first_contact", when.first_contact),
        flag("is_thread_start", when.thread_start),
        flag("thread_has_ticket", when.thread_has_ticket),
        flag("urgent", when.urgent),
        flag("needs_review", when.needs_review),
        when.sentiment_below is None or (sentiment is not None and sentiment < when.sentiment_below),
        when.keywords is None or _contains_any(text, when.keywords),
        when.regex is None or _search(when.regex, text),
        when.unless is None or not _search(when.unless, text),
    ))


def decide(rules: list[Rule], item: dict[str, Any]) -> Decision:
    """Run the rules over one interaction (a dict of its canonical fields and facts)."""
    decision = Decision(kind=item.get("kind") or "unknown")
    for rule in rules:
        if not _matches(rule.when, item, decision.kind):
            continue
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
        if rule.stop:
            break
    return decision


def apply_override(decision: Decision, override: Any) -> None:
    """A person's decision beats the rules, on this and every later run."""
    if not isinstance(override, dict):
        return
    for name in ("kind", "team", "priority", "sla", "route", "action"):
        if override.get(name):
            setattr(decision, name, override[name])
    if override:
        decision.rules.append("human override")
