"""Routes declared where their handler is: ``@route("/posts.json", "GET")`` on a simulator method."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from werkzeug.routing import Rule, RuleFactory

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__simkit_routes__"


@dataclass(frozen=True)
class Route:
    path: str  # a werkzeug rule: "/t/<int:topic_id>.json"
    methods: tuple[str, ...]
    public: bool = False  # served without the simulator's authentication


def route(path: str, *methods: str, public: bool = False) -> Callable[[F], F]:
    """Make the decorated method the handler of ``methods`` (default GET) on ``path``.

    The handler is called as ``handler(request, **path_arguments)`` under the
    simulator's lock, after :meth:`Simulator.authenticate` let the request in
    (unless ``public``).  A subclass that overrides the method keeps the route.
    """
    declared = Route(path, tuple(m.upper() for m in methods) or ("GET",), public)

    def mark(handler: F) -> F:
        setattr(handler, _MARK, (*getattr(handler, _MARK, ()), declared))
        return handler

    return mark


class RouteMaker(Protocol):
    def __call__(self, path: str, *methods: str, public: bool = False) -> Callable[[F], F]: ...


def under(prefix: str) -> RouteMaker:
    """:func:`route` for one API root: ``api = under("/rest/api/3")``, then ``@api("/myself")``."""
    def declare(path: str, *methods: str, public: bool = False) -> Callable[[F], F]:
        return route(prefix + path, *methods, public=public)

    return declare


def declared_routes(cls: type) -> dict[str, tuple[Route, ...]]:
    """Every handler name of ``cls`` (bases included) with its routes."""
    found: dict[str, tuple[Route, ...]] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            marks = getattr(value, _MARK, ())
            if marks:
                found[name] = tuple(dict.fromkeys((*found.get(name, ()), *marks)))
    return found


def rules_for(routes: dict[str, tuple[Route, ...]], legacy: Iterable[RuleFactory]) -> list[RuleFactory]:
    """werkzeug rules for the declared routes plus a class's plain ``rules``.

    A werkzeug Rule binds to one Map only and ``rules`` are class attributes:
    each simulator instance gets fresh copies, or a second one could not be built.
    """
    made: list[RuleFactory] = [Rule(r.path, endpoint=name, methods=list(r.methods))
                               for name, marks in routes.items() for r in marks]
    return made + [rule.empty() if isinstance(rule, Rule) else rule for rule in legacy]
