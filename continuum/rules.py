"""Triage and routing rules: ordered, readable, and applied the same way every run.

Each rule has a ``when`` (all given conditions must hold) and a ``then``
(fields to set).  Rules run top to bottom against the interaction as the
earlier rules left it, so a classifying rule can feed a routing rule below
it; ``stop: true`` ends the evaluation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Kind = Literal["question", "complaint", "bug", "feature_request", "praise", "sales_lead", "hr", "noise", "unknown"]
Priority = Literal["urgent", "high", "normal", "low"]
Action = Literal["ticket", "ignore", "none"]


class RuleWhen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: list[str] | None = None
    channel: list[str] | None = None
    source: list[str] | None = Field(None, description="Source system names")
    direction: list[Literal["inbound", "outbound"]] | None = None
    keywords: list[str] | None = Field(None, description="Any of these words (case-insensitive, whole words)")
    regex: str | None = Field(None, description="A Python regular expression searched in title and text")
    thread_start: bool | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"regex does not compile: {exc}") from None
        return pattern


class RuleThen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind | None = None
    team: str | None = None
    priority: Priority | None = None
    route: str | None = Field(None, description="Target system name (as under `systems:`)")
    action: Action | None = Field(None, description="ticket (needs route), ignore, or none")


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
    route: str | None = None
    action: str = "none"
    rules: list[str] = field(default_factory=list)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w'-]+", text.lower()))


def _matches(when: RuleWhen, item: dict[str, Any], kind: str) -> bool:
    text = f"{item.get('title') or ''}\n{item.get('text') or ''}"
    checks = [
        when.kind is None or kind in when.kind,
        when.channel is None or item.get("channel") in when.channel,
        when.source is None or item.get("source_system") in when.source,
        when.direction is None or item.get("direction") in when.direction,
        when.thread_start is None or bool(item.get("is_thread_start")) == when.thread_start,
        when.keywords is None or bool(_words(text) & {k.lower() for k in when.keywords}),
        when.regex is None or re.search(when.regex, text, re.IGNORECASE) is not None,
    ]
    return all(checks)


def decide(rules: list[Rule], item: dict[str, Any]) -> Decision:
    """Run the rules over one interaction (a dict of its canonical fields)."""
    decision = Decision(kind=item.get("kind") or "unknown")
    for rule in rules:
        if not _matches(rule.when, item, decision.kind):
            continue
        then = rule.then
        decision.kind = then.kind or decision.kind
        decision.team = then.team or decision.team
        decision.priority = then.priority or decision.priority
        decision.route = then.route or decision.route
        if then.action is not None:
            decision.action = then.action
        elif then.route is not None:
            decision.action = "ticket"
        decision.rules.append(rule.name)
        if rule.stop:
            break
    return decision
