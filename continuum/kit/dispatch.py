"""The effect dispatcher: action -> handler, one result per effect, in order.

A connector declares its handlers once::

    self.dispatch = EffectDispatcher("discourse", {"reply": self._reply})

and its ``write`` is ``return self.dispatch.write(effects)``.  The
dispatcher promises what the engine relies on:

* exactly one :class:`EffectResult` per effect, in the order given;
* an unknown action, a handler that raises, or a bulk handler that answers
  for fewer effects than it was given fails only the effects concerned;
* an authentication failure stops the batch: the remaining effects are
  reported as not attempted, with one clear line, instead of each sending
  the same bad credentials again;
* a spent rate-limit window (:class:`~continuum.kit.ratelimit.RateLimitExhausted`,
  even wrapped by a vendor library) stops the batch too, but its effect and
  the remaining ones come back :class:`Deferred`: the engine keeps them
  pending for the next run, neither failed nor counted as an attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from continuum.connector import Effect, EffectResult
from continuum.kit.errors import PermanentError, is_auth_error
from continuum.kit.ratelimit import spent_window

log = logging.getLogger(__name__)

Handler = Callable[[Effect], EffectResult]
# A bulk handler takes every effect of its action in the batch and answers one result each, in order.
BulkHandler = Callable[[Sequence[Effect]], Sequence[EffectResult]]
Describe = Callable[[BaseException], str]


def failed(effect: Effect, detail: str, permanent: bool = False) -> EffectResult:
    """A failed result whose error names the effect (and says so only once)."""
    prefix = f"effect {effect.key} ({effect.action} {effect.object_type})"
    error = detail if detail.startswith(prefix) else f"{prefix}: {detail}"
    return EffectResult(key=effect.key, ok=False, object_type=effect.object_type, error=error, permanent=permanent)


@dataclass(frozen=True)
class Deferred(EffectResult):
    """Not attempted, because the system's rate-limit window is spent for ``resume_in_s`` more seconds."""

    resume_in_s: float = 0.0


def deferred(effect: Effect, resume_in_s: float, detail: str = "") -> Deferred:
    line = detail or f"not attempted: rate-limit window spent, resumes in {resume_in_s:.0f} s"
    return Deferred(key=effect.key, ok=False, object_type=effect.object_type, resume_in_s=resume_in_s,
                    error=f"effect {effect.key} ({effect.action} {effect.object_type}): {line}")


@dataclass(frozen=True)
class _Stop:
    """Why the rest of a batch is not attempted; ``resume_in_s`` is set when a rate-limit window is spent."""

    line: str
    resume_in_s: float | None = None

    def result(self, effect: Effect) -> EffectResult:
        if self.resume_in_s is not None:
            return deferred(effect, self.resume_in_s, f"not attempted: {self.line}")
        return failed(effect, f"not attempted: {self.line}")


def held(effect: Effect, reason: str) -> EffectResult:
    """A result for an effect the platform's policy forbids sending now; ``reason`` says which rule and what to do."""
    return EffectResult(key=effect.key, ok=False, object_type=effect.object_type, held=True,
                        error=f"effect {effect.key} ({effect.action} {effect.object_type}) held: {reason}")


def succeeded(effect: Effect, external_id: str, *, object_type: str | None = None, version: str | None = None,
              url: str | None = None, found_existing: bool = False, made_at: datetime | None = None) -> EffectResult:
    return EffectResult(key=effect.key, ok=True, external_id=external_id,
                        object_type=object_type or effect.object_type, version=version, url=url,
                        found_existing=found_existing, made_at=made_at)


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class EffectDispatcher:
    def __init__(self, system: str, handlers: Mapping[str, Handler], *,
                 bulk: Mapping[str, BulkHandler] | None = None, describe: Describe = _describe) -> None:
        self.system = system
        self.handlers = dict(handlers)
        self.bulk = dict(bulk or {})
        self.describe = describe

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.bulk, *self.handlers]))

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        results: dict[int, EffectResult] = {}
        stopped: _Stop | None = None
        # Bulk actions first, as one call per action; then the rest one by one, in order.
        for action, handler in self.bulk.items():
            indexed = [(i, e) for i, e in enumerate(effects) if e.action == action]
            if not indexed:
                continue
            try:
                answered = list(handler([e for _, e in indexed]))
            except Exception as exc:
                stopped = self._stop_for(exc)
                if stopped is not None and stopped.resume_in_s is not None:
                    for i, effect in indexed:
                        results[i] = deferred(effect, stopped.resume_in_s, stopped.line)
                    break
                detail = stopped.line if stopped else f"bulk {action} failed: {self.describe(exc)}"
                for i, effect in indexed:
                    results[i] = failed(effect, detail)
                if stopped:
                    break
                continue
            for position, (i, effect) in enumerate(indexed):
                if position < len(answered) and answered[position].key == effect.key:
                    results[i] = answered[position]
                else:
                    # A short or shuffled answer must not pin one effect's result on another.
                    results[i] = failed(effect, f"{self.system} answered the bulk {action} without this effect")
        for i, effect in enumerate(effects):
            if i in results:
                continue
            if stopped:
                results[i] = stopped.result(effect)
                continue
            results[i], stopped = self._one(effect)
        return [results[i] for i in range(len(effects))]

    def _stop_for(self, exc: BaseException) -> _Stop | None:
        """The stop an error means for the rest of the batch: spent window, refused credentials, or none."""
        window = spent_window(exc)
        if window is not None:
            return _Stop(f"{self.system}: rate-limit window spent, resumes in {window.resume_in_s:.0f} s",
                         window.resume_in_s)
        if is_auth_error(exc):
            return _Stop(self._auth_line(exc))
        return None

    def _one(self, effect: Effect) -> tuple[EffectResult, _Stop | None]:
        """The effect's result, and the line that stops the batch when the credentials were refused."""
        handler = self.handlers.get(effect.action)
        if handler is None:
            return failed(effect, f"{self.system} cannot {effect.action!r} "
                                  f"(it supports: {', '.join(self.actions) or 'nothing'})"), None
        try:
            return handler(effect), None
        except Exception as exc:  # one odd answer must not sink the rest of the batch
            stop = self._stop_for(exc)
            if stop is not None and stop.resume_in_s is not None:
                return deferred(effect, stop.resume_in_s, stop.line), stop
            if stop is not None:
                return failed(effect, stop.line), stop
            if not isinstance(exc, (ValueError, LookupError)) and not getattr(exc, "system", None):
                log.exception("%s: effect %s failed unexpectedly", self.system, effect.key)
            else:
                log.warning("%s: effect %s failed: %s", self.system, effect.key, self.describe(exc))
            return failed(effect, self.describe(exc), permanent=isinstance(exc, PermanentError)), None

    def _auth_line(self, exc: BaseException) -> str:
        return (f"{self.system} refused the credentials ({self.describe(exc)}); "
                "fix the connection's secret, then `continuum replay`")

