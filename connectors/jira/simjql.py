"""The small JQL subset the Jira simulator understands.

Supported: ``field op value`` clauses joined by ``AND``, where field is
``project``, ``key``, ``issue``/``id``, ``labels``, ``status``, ``updated``
or ``created``; operators ``=``, ``!=``, ``in``, ``not in`` and, for dates,
``>=``, ``>``, ``<=``, ``<``; then ``ORDER BY field [ASC|DESC], ...``.
Dates are ``"yyyy/MM/dd HH:mm"``, ``"yyyy-MM-dd HH:mm"`` or a bare day, read
in the searching user's time zone as Jira does.  Anything else is a
:class:`JqlError`, which the simulator answers with a 400 like Jira.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>>=|<=|!=|=|>|<|~)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z0-9_.\-/:+*\[\]]+)
    )""", re.VERBOSE)
_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
TEXT_FIELDS = {"project", "key", "issue", "id", "labels", "status"}
DATE_FIELDS = {"updated", "created"}
ORDER_FIELDS = {"updated", "created", "key", "id"}


class JqlError(ValueError):
    """A query outside the subset, or a malformed one; the message is Jira-like."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]
    order: tuple[tuple[str, bool], ...]  # (field, descending)

    def matches(self, row: dict[str, Any]) -> bool:
        return all(_holds(clause, row) for clause in self.clauses)

    def unknown_project(self, known: set[str]) -> str | None:
        """The first project an ``=`` or ``in`` clause names that is none of ``known`` (keys and ids)."""
        wanted = (v for c in self.clauses if c.field == "project" and c.op in ("=", "in") for v in c.values)
        return next((value for value in wanted if value.upper() not in known), None)

    def sort(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ordered = sorted(rows, key=lambda r: int(r["id"]))  # Jira's tie-break is stable by id
        for field, descending in reversed(self.order or (("created", True),)):
            ordered.sort(key=_sort_key(field), reverse=descending)
        return ordered


def tokenize(jql: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    text = jql.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise JqlError(f"Error in the JQL Query: The character '{text[position:].strip()[:1]}' "
                           f"is a reserved JQL character (at character {position + 1}).")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append(Token(kind, value))
        position = match.end()
    return tokens


def parse(jql: str, zone: tzinfo) -> Query:
    tokens = tokenize(jql)
    at = 0

    def peek(offset: int = 0) -> Token | None:
        return tokens[at + offset] if at + offset < len(tokens) else None

    def is_word(token: Token | None, *words: str) -> bool:
        return token is not None and token.kind == "word" and token.text.lower() in words

    def take() -> Token:
        nonlocal at
        token = peek()
        if token is None:
            raise JqlError("Error in the JQL Query: Expecting more input at the end of the query.")
        at += 1
        return token

    clauses: list[Clause] = []
    while peek() is not None and not is_word(peek(), "order"):
        if clauses:
            joiner = take()
            if not (joiner.kind == "word" and joiner.text.lower() == "and"):
                raise JqlError(f"Error in the JQL Query: Expecting 'AND' but got '{joiner.text}'. "
                               "(The simulator supports AND only.)")
        field_token = take()
        field = field_token.text.lower()
        if field not in TEXT_FIELDS | DATE_FIELDS:
            raise JqlError(f"Field '{field_token.text}' does not exist or you do not have permission to view it.")
        op_token = take()
        op = op_token.text.lower()
        if op == "not" and is_word(peek(), "in"):
            take()
            op = "not in"
        if op in ("in", "not in"):
            if take().text != "(":
                raise JqlError("Error in the JQL Query: Expecting '(' after IN.")
            values: list[str] = []
            while True:
                values.append(take().text)
                closer = take().text
                if closer == ")":
                    break
                if closer != ",":
                    raise JqlError(f"Error in the JQL Query: Expecting ',' or ')' but got '{closer}'.")
        elif op_token.kind == "op" and op != "~":
            values = [take().text]
        else:
            raise JqlError(f"Error in the JQL Query: The operator '{op_token.text}' is not supported here.")
        if field in DATE_FIELDS:
            if op not in (">=", ">", "<=", "<", "=", "!="):
                raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")
            clauses.append(Clause(field, op, tuple(_date(value, zone) for value in values)))
        else:
            if op not in ("=", "!=", "in", "not in"):
                raise JqlError(f"The operator '{op}' is not supported by the '{field}' field.")
            clauses.append(Clause(field, op, tuple(values)))
    order: list[tuple[str, bool]] = []
    if is_word(peek(), "order"):
        take()
        if not is_word(take() if peek() else None, "by"):
            raise JqlError("Error in the JQL Query: Expecting 'by' after 'order'.")
        while True:
            name = take().text.lower()
            if name not in ORDER_FIELDS:
                raise JqlError(f"Not able to sort using field '{name}'.")
            descending = False
            if is_word(peek(), "asc", "desc"):
                descending = take().text.lower() == "desc"
            order.append((name, descending))
            if peek() is None:
                break
            if take().text != ",":
                raise JqlError("Error in the JQL Query: Expecting ',' between ORDER BY fields.")
    if peek() is not None:
        raise JqlError(f"Error in the JQL Query: Unexpected '{peek().text}'.")  # type: ignore[union-attr]
    return Query(tuple(clauses), tuple(order))


def _date(value: str, zone: tzinfo) -> datetime:
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    raise JqlError(f"Date value '{value}' for field is invalid. Valid formats include: "
                   "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd'.")


def _holds(clause: Clause, row: dict[str, Any]) -> bool:
    field = "id" if clause.field == "issue" else clause.field
    actual = row[field]
    if field in DATE_FIELDS:
        moment: datetime = actual
        limit: datetime = clause.values[0]
        return {">=": moment >= limit, ">": moment > limit, "<=": moment <= limit, "<": moment < limit,
                "=": moment == limit, "!=": moment != limit}[clause.op]
    have = {str(v).casefold() for v in (actual if isinstance(actual, list) else [actual])}
    if field == "key" or field == "id":
        # `issue = PROD-1` and `key = 10001` both work in Jira: ids and keys name the same issue.
        have = {str(row["id"]).casefold(), str(row["key"]).casefold()}
    want = {str(v).casefold() for v in clause.values}
    hit = bool(have & want)
    return hit if clause.op in ("=", "in") else not hit


def _sort_key(field: str) -> Callable[[dict[str, Any]], Any]:
    if field == "key":
        return lambda r: (str(r["key"]).rsplit("-", 1)[0], int(str(r["key"]).rsplit("-", 1)[1]))
    if field == "id":
        return lambda r: int(r["id"])
    return lambda r: r[field]
