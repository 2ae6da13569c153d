"""The rule book (``mappings/rules.yaml``): triage rules, SLA policies, aggregation and notices.

It is the community manager's filter-and-dispatch knowledge written down:
people edit it, ``continuum validate`` checks it, and ``continuum plan``
shows what it would do before it does anything.  :func:`continuum.config.load_rulebook`
reads the file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from continuum.policy.rules import Notify, Rule
from continuum.policy.similarity import MatchConfig
from continuum.policy.sla import SlaConfig


class FeatureRequestPolicy(MatchConfig):
    model_config = ConfigDict(extra="forbid")

    route: str | None = Field(None, description="System where each feature request gets its one ticket")
    shipped_resolutions: list[str] = Field(
        default_factory=lambda: ["Fixed"], description="Ticket resolutions that mean the feature shipped")
    shipped_on_release: bool = Field(True, description="A released fix version means the feature shipped")


class Alerts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment_on_ticket: bool = Field(True, description="An SLA breach comments on the interaction's ticket")
    notify: Notify | None = Field(None, description="...and/or tells the team in chat")


class ClassifierPolicy(BaseModel):
    """How triage reads the text before the rules run (see :mod:`continuum.nlp`)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Classify the kind from the text; off keeps the mapping's kind")
    model_path: str | None = Field(
        None, description="Where `continuum triage retrain` writes the model (default: models/kind.joblib "
                          "under CONTINUUM_DATA_DIR); built from the shipped examples on first use")
    confidence_floor: float = Field(
        0.45, ge=0, le=1, description="Below this confidence an interaction goes to the needs_review queue "
                                      "instead of being ignored, dropped, or sent to HR or sales")
    banter_floor: float = Field(
        0.75, ge=0, le=1, description="Noise is ignored or dropped as banter only at or above this confidence")
    category_override: float = Field(
        0.8, ge=0, le=1, description="A forum category's kind stands unless the classifier is at least this sure")
    languages: list[str] = Field(
        default_factory=lambda: ["en", "fr", "de", "es", "it", "pt", "nl"],
        description="Languages the shipped examples cover; others go to needs_review unless a rule decides")


class RuleBook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    banter: Literal["ignore", "drop"] = Field(
        "ignore", description="Noise is kept but ignored, or dropped without keeping it")
    rules: list[Rule] = Field(default_factory=list)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    feature_requests: FeatureRequestPolicy = Field(default_factory=FeatureRequestPolicy)
    alerts: Alerts = Field(default_factory=Alerts)
    classifier: ClassifierPolicy = Field(default_factory=ClassifierPolicy)

    @property
    def uses_language(self) -> bool:
        """Language detection costs about half a millisecond a message: only when a rule asks for it."""
        return any(rule.when.language for rule in self.rules)

