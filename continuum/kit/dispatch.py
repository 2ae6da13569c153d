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
  the same bad credentials again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from continuum.connector import Effect, EffectResult
from continuum.kit.errors import is_auth_error

log = logging.getLogger(__name__)

Handler = Callable[[Effect], EffectResult]
# A bulk handler takes every effect of its action in the batch and answers one result each, in order.
BulkHandler = Callable[[Sequence[Effect]], Sequence[EffectResult]]
Describe = Callable[[BaseException], str]


def failed(effect: Effect, detail: str) -> EffectResult:
    """A failed result whose error names the effect (and says so only once)."""
    prefix = f"effect {effect.key} ({effect.action} {effect.object_type})"
    error = detail if detail.startswith(prefix) else f"{prefix}: {detail}"
    return EffectResult(key=effect.key, ok=False, object_type=effect.object_type, error=error)


def succeeded(effect: Effect, external_id: str, *, object_type: str | None = None, version: str | None = None,
              url: str | None = None, found_existing: bool = False) -> EffectResult:
    return EffectResult(key=effect.key, ok=True, external_id=external_id,
                        object_type=object_type or effect.object_type, version=version, url=url,
                        found_existing=found_existing)


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
        stopped: str | None = None
        # Bulk actions first, as one call per action; then the rest one by one, in order.
        for action, handler in self.bulk.items():
            indexed = [(i, e) for i, e in enumerate(effects) if e.action == action]
            if not indexed:
                continue
            try:
                answered = list(handler([e for _, e in indexed]))
            except Exception as exc:
                if is_auth_error(exc):
                    stopped = self._auth_line(exc)
                answered = []
                detail = stopped or f"bulk {action} failed: {self.describe(exc)}"
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
                results[i] = failed(effect, f"not attempted: {stopped}")
                continue
            results[i], stopped = self._one(effect)
        return [results[i] for i in range(len(effects))]

    def _one(self, effect: Effect) -> tuple[EffectResult, str | None]:
        """The effect's result, and the line that stops the batch when the credentials were refused."""
        handler = self.handlers.get(effect.action)
        if handler is None:
            return failed(effect, f"{self.system} cannot {effect.action!r} "
                                  f"(it supports: {', '.join(self.actions) or 'nothing'})"), None
        try:
            return handler(effect), None
        except Exception as exc:  # one odd answer must not sink the rest of the batch
            if is_auth_error(exc):
                line = self._auth_line(exc)
                return failed(effect, line), line
            if not isinstance(exc, (ValueError, LookupError)) and not getattr(exc, "system", None):
                log.exception("%s: effect %s failed unexpectedly", self.system, effect.key)
            else:
                log.warning("%s: effect %s failed: %s", self.system, effect.key, self.describe(exc))
            return failed(effect, self.describe(exc)), None

    def _auth_line(self, exc: BaseException) -> str:
        return (f"{self.system} refused the credentials ({self.describe(exc)}); "
                "fix the connection's secret, then `continuum replay`")

