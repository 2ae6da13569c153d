"""The simulator's reading of HubSpot's search filters: groups are ORed, filters in a group ANDed."""

from __future__ import annotations

from typing import Any

from connectors.hubspot.simulator import DATES, ms


def _value(props: dict[str, str], name: str, raw: object) -> tuple[Any, Any]:
    have, want = props.get(name), str(raw)
    if name in DATES:
        return (ms(have) if have else None), ms(want)
    if have is not None and have.lstrip("-").isdigit() and want.lstrip("-").isdigit():
        return int(have), int(want)
    return have, want


def _one(props: dict[str, str], rule: dict[str, Any]) -> bool:
    name, op = str(rule.get("propertyName")), str(rule.get("operator") or "EQ")
    present = bool(props.get(name))
    if op == "HAS_PROPERTY":
        return present
    if op == "NOT_HAS_PROPERTY":
        return not present
    if op in ("IN", "NOT_IN"):
        inside = props.get(name) in {str(v) for v in rule.get("values") or []}
        return inside if op == "IN" else not inside
    have, want = _value(props, name, rule.get("value"))
    if op == "CONTAINS_TOKEN":
        return present and str(want).lower() in str(have).lower()
    if have is None:
        return op == "NEQ"
    comparisons = {"EQ": have == want, "NEQ": have != want}
    if op in comparisons:
        return bool(comparisons[op])
    try:
        return bool({"GT": have > want, "GTE": have >= want, "LT": have < want, "LTE": have <= want}[op])
    except (TypeError, KeyError):
        return False


def matches(props: dict[str, str], groups: list[dict[str, Any]]) -> bool:
    return not groups or any(all(_one(props, rule) for rule in g.get("filters") or []) for g in groups)


def sort_key(props: dict[str, str], name: str) -> tuple[int, Any]:
    value = props.get(name) or ""
    if name in DATES:
        return 0, ms(value) or 0
    return (0, int(value)) if value.isdigit() else (1, value)
