"""Is this the same feature request? Explainable, and tunable by the people who know the product.

Customers name one feature in many ways ("dark mode", "night theme",
"low-light UI"), and different features share words ("export to PDF" vs
"export to CSV").  A score has three parts, all shown in its explanation:

* **meaning**: the cosine of sentence embeddings (see
  :mod:`continuum.nlp.embeddings`) of the request and of the feature request
  it is compared with, as a centroid of every request it gathered and as its
  closest one, so later wording widens what a feature request matches;
* **concepts**: phrases from the rule book's ``synonyms`` (the user's own
  vocabulary) are turned into one concept each.  A shared concept is strong
  evidence; two *different* concepts are strong evidence against;
* **words**: rapidfuzz compares what is left, after stop words: a cheap
  signal that also works with no model at all (``semantic.model: none``).

Two thresholds decide: at or above ``threshold`` a request is a vote; from
``suggest_threshold`` up it is a suggestion a person confirms or rejects;
below, it founds a new feature request.  Requests in different scopes
(product, project, category: see :class:`ScopeConfig`) are never compared.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz import fuzz, process

# A word list reads (and is edited) best as plain text.
STOP_WORDS = frozenset("""
a an the to of for in on and or is are was be been it its we our us you your i my me this that these those with
would could should please can cannot any there way have has had need needs want wants like love just also really so
too as at by from not no yes do does did get got more some very all how what when where which who will would
if but than then them they their add adding added option feature request idea suggestion support possible
hi hello thanks thank hey anyone team guys still use using make able
""".split())  # noqa: SIM905

# Tracker boilerplate says nothing about *what* is asked: "[Feature Request]", "FR:", "Enhancement -".
_BOILERPLATE = re.compile(
    r"\[?\b(?:feature[ _-]?requests?|fr|requests?|suggestions?|enhancements?|ideas?|proposals?)\b\]?\s*[:\-]?",
    re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
_FINGERPRINT_MEMO = 20_000  # texts whose fingerprints a matcher keeps

Decision = Literal["vote", "suggest", "new"]


class ScopeConfig(BaseModel):
    """What a feature request is about (a product, a project, a space): requests in two scopes never merge."""

    model_config = ConfigDict(extra="forbid")

    field: str | None = Field(None, description="Interaction field whose value is the scope, e.g. `channel` "
                                                "(Discourse category, Slack channel, Jira project) or `source_system`")
    pattern: str | None = Field(None, description="Regex over the title and text whose first group names the "
                                                  "scope, e.g. a hashtag: `#(\\w+)`; it wins over `field`")
    aliases: dict[str, list[str]] = Field(
        default_factory=dict, description="Scope → the field values or hashtags that mean it (one product, "
                                          "several categories)")

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern, re.IGNORECASE) if self.pattern else None

    @cached_property
    def _alias_of(self) -> dict[str, str]:
        return {value.lower(): scope for scope, values in self.aliases.items() for value in values}

    def strip(self, text: str) -> str:
        """The text without its scope tag: a hashtag naming the product says nothing about what is asked."""
        return self._pattern.sub(" ", text).strip() if self._pattern is not None else text

    def of(self, row: dict[str, Any]) -> str:
        """The scope of an interaction (``""``: everything is one scope)."""
        value = ""
        if self.field:
            value = str(row.get(self.field) or "")
        if self._pattern is not None:
            found = self._pattern.search(f"{row.get('title') or ''}\n{row.get('text') or ''}")
            if found:
                value = found.group(1) if found.groups() else found.group(0)
        value = value.strip().lower()
        return self._alias_of.get(value, value)


class SemanticConfig(BaseModel):
    """The sentence-embedding model and how its similarity counts (chosen on the calibration set)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: Literal["wordllama", "sentence-transformers", "none"] = Field(
        "wordllama", description="`wordllama`: static embeddings shipped inside the package (default, offline); "
                                 "`sentence-transformers`: a model loaded from `model_path` (extra "
                                 "`continuum-hub[sentence-transformers]`); `none`: words and concepts only")
    model_path: str | None = Field(None, description="Folder of a sentence-transformers model (never downloaded)")
    title_weight: float = Field(0.8, ge=0, le=1, description="Share of the title in a request's embedding "
                                                             "(the rest is the body)")
    word_weight: float = Field(0.15, ge=0, le=1, description="Share of the rapidfuzz word score in the total")


class UntitledThresholds(BaseModel):
    """A request with no title (a post on a social network, a chat message, a comment) scores on another
    scale: its text alone against requests that have titles.  Its thresholds are chosen on the same real
    set with the titles left out (`continuum requests calibrate --untitled`)."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(..., ge=0, le=100, description="Score at or above which an untitled request is a vote")
    suggest_threshold: float = Field(..., ge=0, le=100, description="Score from which an untitled request is a "
                                                                     "suggested match a person confirms")

    @model_validator(mode="after")
    def _ordered(self) -> UntitledThresholds:
        if self.suggest_threshold > self.threshold:
            raise ValueError(f"untitled.suggest_threshold ({self.suggest_threshold}) must not exceed "
                             f"untitled.threshold ({self.threshold})")
        return self


class MatchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(69.3, ge=0, le=100, description="Score at or above which a request is a vote")
    suggest_threshold: float = Field(
        50.2, ge=0, le=100, description="Score from which a request is a suggested match a person confirms "
                                        "(`continuum requests suggest`); below, it founds a new feature request")
    untitled: UntitledThresholds | None = Field(
        None, description="Thresholds for requests without a title (social posts, chat); unset: the ones above")
    synonyms: dict[str, list[str]] = Field(
        default_factory=dict, description="Concept name → phrases customers use for it")
    stop_words: list[str] = Field(default_factory=list, description="Extra words to ignore (product names...)")
    scope: ScopeConfig = Field(default_factory=ScopeConfig)
    semantic: SemanticConfig = Field(default_factory=SemanticConfig)

    @model_validator(mode="after")
    def _ordered(self) -> MatchConfig:
        if self.suggest_threshold > self.threshold:
            raise ValueError(f"suggest_threshold ({self.suggest_threshold}) must not exceed threshold "
                             f"({self.threshold})")
        return self

    def decide(self, total: float, has_candidate: bool = True, titled: bool = True) -> Decision:
        levels: UntitledThresholds | MatchConfig = self if titled or self.untitled is None else self.untitled
        if has_candidate and total >= levels.threshold:
            return "vote"
        if has_candidate and total >= levels.suggest_threshold:
            return "suggest"
        return "new"


@dataclass(frozen=True)
class Fingerprint:
    concepts: frozenset[str]
    words: tuple[str, ...]

    @cached_property
    def sorted_words(self) -> str:
        """The words in order, joined: what ``token_sort_ratio`` compares, made once per fingerprint."""
        return " ".join(sorted(self.words))

    def serialise(self) -> str:
        return " ".join(sorted(f"§{c}" for c in self.concepts)) + " | " + " ".join(self.words)

    @classmethod
    def parse(cls, text: str) -> Fingerprint:
        concepts, _, words = text.partition(" | ")
        return cls(frozenset(c[1:] for c in concepts.split() if c.startswith("§")), tuple(words.split()))


def _phrase_pattern(phrase: str) -> str:
    """A synonym phrase as a regex: words may be joined by any separator, ``*`` stands for up to three words."""
    words = phrase.lower().split()
    pattern = ""
    for index, word in enumerate(words):
        if word == "*":
            pattern += r"(?:\S+\s+){0,3}?"
            continue
        pattern += re.escape(word)
        if index < len(words) - 1:
            pattern += r"[\s\-_/]+"
    return pattern


@dataclass(frozen=True)
class Score:
    total: float
    shared_concepts: tuple[str, ...] = ()
    conflicting_concepts: tuple[str, ...] = ()
    word_score: float = 0.0
    explanation: str = ""
    semantic: float | None = None  # 100 × cosine, None when no model is used


@dataclass
class Matcher:
    config: MatchConfig

    @cached_property
    def _concept_patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        patterns = []
        for concept, phrases in self.config.synonyms.items():
            # Longest phrases first, so "dark mode toggle" wins over "dark mode".
            ordered = sorted((p.lower() for p in phrases), key=len, reverse=True)
            joined = "|".join(_phrase_pattern(p) for p in ordered)
            patterns.append((concept, re.compile(rf"(?<!\w)(?:{joined})(?!\w)")))
        return patterns

    @cached_property
    def stop(self) -> frozenset[str]:
        return STOP_WORDS | {w.lower() for w in self.config.stop_words}

    def concepts_in(self, text: str) -> tuple[set[str], str]:
        """The concepts named in ``text``, and the text with their phrases taken out."""
        lowered = text.lower()
        concepts = set()
        for concept, pattern in self._concept_patterns:
            if pattern.search(lowered):
                concepts.add(concept)
                lowered = pattern.sub(" ", lowered)
        return concepts, lowered

    @cached_property
    def _fingerprints(self) -> dict[tuple[str, str], Fingerprint]:
        return {}

    def fingerprint(self, text: str, title: str = "") -> Fingerprint:
        """Concepts named in the title win: the title says what is asked, the body also tells a story
        ("today I do it in a spreadsheet") that must not make it a request for spreadsheets.

        Kept per text: every triage page rebuilds its index of open requests from their texts."""
        memo = self._fingerprints
        found = memo.get((text, title))
        if found is None:
            if len(memo) >= _FINGERPRINT_MEMO:
                memo.clear()  # bounded: memory stays flat however many requests a run sees
            found = memo[(text, title)] = self._fingerprint(text, title)
        return found

    def _fingerprint(self, text: str, title: str) -> Fingerprint:
        title_concepts, title_rest = self.concepts_in(title)
        body_concepts, lowered = self.concepts_in(text)
        concepts = title_concepts or body_concepts
        lowered = f"{title_rest} {lowered}"
        words = []
        for word in _WORD.findall(lowered):
            # Stop words are looked up before and after the light stem: stemming first made "this" "thi"
            # and "does" "doe", which then stayed in every fingerprint.
            if word in self.stop:
                continue
            if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
                word = word[:-1]  # a light stem: "exports" and "export" are one word
            if len(word) > 1 and word not in self.stop:
                words.append(word)
        return Fingerprint(frozenset(concepts), tuple(dict.fromkeys(words)))

    def semantic_text(self, text: str) -> str:
        """What the embedding model reads: the words that say what is asked, without boilerplate.

        Static embeddings average their tokens, so "please", "would" and "[Feature Request]" would
        pull every request towards every other; on the calibration set removing them helped.
        """
        return " ".join(w for w in _WORD.findall(_BOILERPLATE.sub(" ", text).lower()) if w not in self.stop)

    def words(self, a: Fingerprint, b: Fingerprint) -> float:
        if not (a.words and b.words):
            return 0.0
        return float(fuzz.token_sort_ratio(a.sorted_words, b.sorted_words))

    def best_words(self, a: Fingerprint, among: Sequence[Fingerprint]) -> float:
        """The highest :meth:`words` score of ``a`` against any of ``among`` (a feature request's members)."""
        if not a.words:
            return 0.0
        choices = [b.sorted_words for b in among if b.words]
        if not choices:
            return 0.0
        # One call that loops in C: a popular request has hundreds of members.
        best = process.extractOne(a.sorted_words, choices, scorer=fuzz.token_sort_ratio, processor=None)
        return 0.0 if best is None else float(best[1])

    def combine(self, a: Fingerprint, b: Fingerprint, semantic: float | None, words: float | None = None) -> Score:
        """The score of request ``a`` against feature request ``b``; ``semantic`` is 100 × cosine, if any."""
        words = self.words(a, b) if words is None else words
        shared = tuple(sorted(a.concepts & b.concepts))
        conflicting = tuple(sorted(a.concepts ^ b.concepts)) if a.concepts and b.concepts and not shared else ()
        if semantic is None:
            base, why = words, f"words {words:.0f}"
        else:
            weight = self.config.semantic.word_weight
            base = (1 - weight) * semantic + weight * words
            why = f"meaning {semantic:.0f}, words {words:.0f} (× {weight:g})"
        if shared:
            total = max(base, 85.0 + 15.0 * words / 100.0)
            why = f"same concept {', '.join(shared)}; {why}"
        elif conflicting:
            total = base * 0.4
            why = f"different concepts {', '.join(conflicting)}; {why}; × 0.4"
        else:
            total = base
        return Score(round(total, 1), shared, conflicting, round(words, 1), why,
                     None if semantic is None else round(semantic, 1))

    def score(self, a: Fingerprint, b: Fingerprint) -> Score:
        """Words and concepts only (no model)."""
        return self.combine(a, b, None)
