"""Is this the same feature request? Fuzzy, explainable, and tunable by the people who know the product.

Customers name one feature in many ways ("dark mode", "night theme",
"low-light UI").  Plain fuzzy matching misses those and, worse, joins
different features that share words ("export to PDF" vs "export to CSV").
So matching has two parts, both shown in the score's explanation:

* **concepts**: phrases from the rules file's ``synonyms`` (product
  knowledge a person maintains) are turned into one concept each.  A shared
  concept is strong evidence; two *different* concepts are strong evidence
  against;
* **words**: rapidfuzz compares what is left, after stop words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz

# A word list reads (and is edited) best as plain text.
STOP_WORDS = frozenset("""
a an the to of for in on and or is are was be been it its we our us you your i my me this that these those with
would could should please can cannot any there way have has had need needs want wants like love just also really so
too as at by from not no yes do does did get got more some very all how what when where which who will would
if but than then them they their add adding added option feature request idea suggestion support possible
hi hello thanks thank hey anyone team guys still use using make able
""".split())  # noqa: SIM905


class MatchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(75.0, ge=0, le=100, description="Score at or above which a request joins another")
    synonyms: dict[str, list[str]] = Field(
        default_factory=dict, description="Concept name → phrases customers use for it")
    stop_words: list[str] = Field(default_factory=list, description="Extra words to ignore (product names...)")


@dataclass(frozen=True)
class Fingerprint:
    concepts: frozenset[str]
    words: tuple[str, ...]

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


@dataclass
class Matcher:
    config: MatchConfig
    _patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)

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
    def _stop(self) -> frozenset[str]:
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

    def fingerprint(self, text: str, title: str = "") -> Fingerprint:
        """Concepts named in the title win: the title says what is asked, the body also tells a story
        ("today I do it in a spreadsheet") that must not make it a request for spreadsheets."""
        title_concepts, title_rest = self.concepts_in(title)
        body_concepts, lowered = self.concepts_in(text)
        concepts = title_concepts or body_concepts
        lowered = f"{title_rest} {lowered}"
        words = []
        for word in re.findall(r"[^\W_]+", lowered):
            if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
                word = word[:-1]  # a light stem: "exports" and "export" are one word
            if len(word) > 1 and word not in self._stop:
                words.append(word)
        return Fingerprint(frozenset(concepts), tuple(dict.fromkeys(words)))

    def score(self, a: Fingerprint, b: Fingerprint) -> Score:
        shared = tuple(sorted(a.concepts & b.concepts))
        conflicting = tuple(sorted(a.concepts ^ b.concepts)) if a.concepts and b.concepts and not shared else ()
        words = fuzz.token_sort_ratio(" ".join(sorted(a.words)), " ".join(sorted(b.words))) if (
            a.words and b.words) else 0.0
        if shared:
            total = 85.0 + 15.0 * words / 100.0
            why = f"same concept {', '.join(shared)}; words {words:.0f}"
        elif conflicting:
            total = words * 0.4
            why = f"different concepts {', '.join(conflicting)}; words {words:.0f} × 0.4"
        else:
            total = words
            why = f"no shared concept; words {words:.0f}"
        return Score(round(total, 1), shared, conflicting, round(words, 1), why)

    def best(self, candidate: Fingerprint, others: list[tuple[int, Fingerprint]]) -> tuple[int | None, Score]:
        """The closest of ``others`` and its score (id None when there is nothing to compare)."""
        best_id: int | None = None
        best_score = Score(0.0, explanation="no open feature requests")
        for other_id, other in others:
            score = self.score(candidate, other)
            if score.total > best_score.total:
                best_id, best_score = other_id, score
        return best_id, best_score
