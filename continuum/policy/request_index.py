"""The open feature requests, ready to be matched: vectorised, scoped, growing with every member.

A feature request is represented by every request it gathered (its
*members*): the centroid of their vectors and the closest of them both
count, so a feature request founded as "dark theme" that gathered "night
mode" then matches "easier on the eyes at night" too.  One matrix product
scores a new request against every member at once; words and concepts are
then compared only with the few best feature requests by meaning, and with
any that shares a concept (the user's vocabulary can overrule the model).

Pure: the store loads and saves members (:mod:`continuum.engine.aggregate`),
the evaluation feeds the labelled set (:mod:`continuum.ops.requests_eval`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from continuum.nlp.embeddings import Vectors
from continuum.policy.similarity import Fingerprint, Matcher, Score

SHORTLIST = 8  # feature requests compared on words after the meaning pass


@dataclass(frozen=True)
class Request:
    """One request as the matcher sees it."""

    scope: str
    fingerprint: Fingerprint
    vector: Vectors | None = None  # unit length; None when no model is used
    titled: bool = True  # a tweet or a comment has none: its scores run on another scale


class _Rows:
    """A matrix that grows by rows with amortised doubling (a stack per add would copy it every time)."""

    def __init__(self, dim: int) -> None:
        self._data = np.zeros((8, dim), dtype=np.float32)
        self.count = 0

    def append(self, row: Vectors) -> int:
        if self.count == len(self._data):
            self._data = np.vstack([self._data, np.zeros_like(self._data)])
        self._data[self.count] = row
        self.count += 1
        return self.count - 1

    def add_to(self, index: int, row: Vectors) -> None:
        self._data[index] += row

    @property
    def view(self) -> Vectors:
        return self._data[:self.count]


@dataclass
class _Scope:
    dim: int
    members: _Rows = field(init=False)
    sums: _Rows = field(init=False)  # per feature request: the sum of its members' vectors
    owner: list[int] = field(default_factory=list)  # member row → position of its feature request
    ids: list[int] = field(default_factory=list)  # position → feature request id
    fingerprints: list[list[Fingerprint]] = field(default_factory=list)
    concepts: list[set[str]] = field(default_factory=list)
    titled: list[bool] = field(default_factory=list)  # per feature request: has a member with a title

    def __post_init__(self) -> None:
        self.members, self.sums = _Rows(self.dim), _Rows(self.dim)


class RequestIndex:
    def __init__(self, matcher: Matcher, dim: int = 0) -> None:
        self.matcher = matcher
        self.dim = dim
        self._scopes: dict[str, _Scope] = {}
        self._where: dict[int, tuple[str, int]] = {}

    def __len__(self) -> int:
        return len(self._where)

    def add(self, fr_id: int, request: Request) -> None:
        """``request`` is now a member of feature request ``fr_id`` (founding it, if new)."""
        scope = self._scopes.setdefault(request.scope, _Scope(self.dim))
        place = self._where.get(fr_id)
        if place is None:
            position = len(scope.ids)
            scope.ids.append(fr_id)
            scope.sums.append(np.zeros(self.dim, dtype=np.float32))
            scope.fingerprints.append([])
            scope.concepts.append(set())
            scope.titled.append(False)
            self._where[fr_id] = (request.scope, position)
        else:
            if place[0] != request.scope:
                raise ValueError(f"feature request {fr_id} is in scope {place[0]!r}, not {request.scope!r}")
            position = place[1]
        scope.fingerprints[position].append(request.fingerprint)
        scope.titled[position] = scope.titled[position] or request.titled
        scope.concepts[position] |= request.fingerprint.concepts
        if request.vector is not None and self.dim:
            scope.members.append(request.vector)
            scope.owner.append(position)
            scope.sums.add_to(position, request.vector)

    def titled(self, fr_id: int) -> bool:
        """Whether a member of the feature request has a title (a comparison with it is on the titled scale
        only if the request has one too)."""
        place = self._where.get(fr_id)
        return place is not None and self._scopes[place[0]].titled[place[1]]

    def scope_of(self, fr_id: int) -> str | None:
        place = self._where.get(fr_id)
        return None if place is None else place[0]

    def best(self, request: Request, among: frozenset[int] | None = None) -> tuple[int | None, Score]:
        """The closest open feature request in the request's scope (or ``among`` these), and its score.

        The id is None when there is nothing to compare with.
        """
        scope = self._scopes.get(request.scope)
        if scope is None or not scope.ids:
            return None, Score(0.0, explanation="no open feature requests in this scope")
        meaning = self._meaning(scope, request)
        shortlist: list[int]
        if meaning is None:
            shortlist = list(range(len(scope.ids)))
        else:
            order = np.argsort(-meaning)
            shortlist = [int(p) for p in order[:SHORTLIST]] if among is None else [
                p for p, fr_id in enumerate(scope.ids) if fr_id in among]
            # A shared concept is the user's word against the model's: always look at those too.
            shortlist += [p for p, c in enumerate(scope.concepts)
                          if c & request.fingerprint.concepts and p not in shortlist]
        best_id: int | None = None
        best = Score(0.0, explanation="no open feature requests in this scope")
        for position in shortlist:
            fr_id = scope.ids[position]
            if among is not None and fr_id not in among:
                continue
            prints = scope.fingerprints[position]
            words = self.matcher.best_words(request.fingerprint, prints)
            joined = Fingerprint(frozenset(scope.concepts[position]), ())
            semantic = None if meaning is None else float(meaning[position]) * 100.0
            score = self.matcher.combine(request.fingerprint, joined, semantic, words)
            if best_id is None or score.total > best.total:
                best_id, best = fr_id, score
        return best_id, best

    def _meaning(self, scope: _Scope, request: Request) -> Vectors | None:
        """Per feature request: the higher of its centroid's and its closest member's cosine."""
        if request.vector is None or not self.dim:
            return None
        n = len(scope.ids)
        closest = np.full(n, -1.0, dtype=np.float32)
        if scope.owner:
            sims = scope.members.view @ request.vector
            np.maximum.at(closest, np.asarray(scope.owner), sims)
        sums = scope.sums.view
        norms = np.linalg.norm(sums, axis=1)
        centroid = np.divide(sums @ request.vector, norms, out=np.full(n, -1.0, dtype=np.float32),
                             where=norms > 0)
        best: Vectors = np.maximum(closest, centroid).astype(np.float32)
        return best
