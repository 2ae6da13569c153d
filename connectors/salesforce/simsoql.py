"""The simulator's SOQL: the subset the connector sends, parsed honestly; anything else is MALFORMED_QUERY.

``SELECT f, ... FROM Object [WHERE cond] [ORDER BY f [ASC|DESC], ...] [LIMIT n]``, where a condition is
comparisons (``= != < <= > >= IN (...)``) of a field with a string, number, boolean, null or datetime literal,
joined by AND/OR with parentheses (SOQL refuses AND and OR mixed without them, and so do we)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Row = dict[str, Any]
_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*')
                        |(?P<dt>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))
                        |(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|=|<|>|\(|\)|,)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))""",
                    re.VERBOSE)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "'": "'", "\\": "\\", '"': '"'}


class SoqlError(ValueError):
    """Salesforce's MALFORMED_QUERY: the message says where the query went wrong."""


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    sobject: str
    where: Callable[[Row], bool]
    order: tuple[tuple[str, bool], ...]  # (field, descending)
    limit: int | None


def parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _tokens(soql: str) -> list[tuple[str, str]]:
    found, at = [], 0
    while at < len(soql.rstrip()):
        match = _TOKEN.match(soql, at)
        if not match or match.end() == at:
            raise SoqlError(f"unexpected token at position {at}: {soql[at:at + 20]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        at = match.end()
    return found


class _Parser:
    def __init__(self, soql: str) -> None:
        self.tokens, self.at = _tokens(soql), 0

    def peek(self, word: str | None = None) -> bool:
        if self.at >= len(self.tokens):
            return False
        text = self.tokens[self.at][1]
        return word is None or text.upper() == word

    def take(self, word: str | None = None, kind: str | None = None) -> str:
        if self.at >= len(self.tokens):
            raise SoqlError(f"unexpected end of query, expecting {word or kind}")
        got_kind, text = self.tokens[self.at]
        if (word and text.upper() != word) or (kind and got_kind != kind):
            raise SoqlError(f"unexpected token: '{text}' (expecting {word or kind})")
        self.at += 1
        return text

    def query(self) -> Query:
        self.take("SELECT")
        fields = [self.take(kind="word")]
        while self.peek(","):
            self.take(",")
            fields.append(self.take(kind="word"))
        if any(f.upper() in ("FROM", "FIELDS") or "." in f for f in fields):
            raise SoqlError("only plain field names are supported in SELECT")
        self.take("FROM")
        sobject = self.take(kind="word")
        where: Callable[[Row], bool] = lambda row: True  # noqa: E731
        order: list[tuple[str, bool]] = []
        limit = None
        if self.peek("WHERE"):
            self.take("WHERE")
            where = self.condition()
        if self.peek("ORDER"):
            self.take("ORDER")
            self.take("BY")
            while True:
                name = self.take(kind="word")
                descending = self.peek("DESC")
                if self.peek("ASC") or descending:
                    self.at += 1
                order.append((name, descending))
                if not self.peek(","):
                    break
                self.take(",")
        if self.peek("LIMIT"):
            self.take("LIMIT")
            limit = int(self.take(kind="num"))
        if self.at != len(self.tokens):
            raise SoqlError(f"unexpected token: '{self.tokens[self.at][1]}'")
        return Query(tuple(fields), sobject, where, tuple(order), limit)

    def condition(self) -> Callable[[Row], bool]:
        parts, joiner = [self.term()], None
        while self.peek("AND") or self.peek("OR"):
            word = self.take().upper()
            if joiner not in (None, word):
                raise SoqlError("unexpected token: AND and OR mixed without parentheses")
            joiner = word
            parts.append(self.term())
        if joiner == "OR":
            return lambda row: any(p(row) for p in parts)
        return lambda row: all(p(row) for p in parts)

    def term(self) -> Callable[[Row], bool]:
        if self.peek("("):
            self.take("(")
            inner = self.condition()
            self.take(")")
            return inner
        if self.peek("NOT"):
            raise SoqlError("NOT is not supported by this simulator")
        name = self.take(kind="word")
        if self.peek("IN"):
            self.take("IN")
            self.take("(")
            values = [self.literal()]
            while self.peek(","):
                self.take(",")
                values.append(self.literal())
            self.take(")")
            return lambda row: _value(row, name) in values
        op = self.take(kind="op")
        if op not in ("=", "!=", "<", "<=", ">", ">="):
            raise SoqlError(f"unexpected token: '{op}'")
        value = self.literal()
        return lambda row: _compare(_value(row, name), op, value)

    def literal(self) -> Any:
        kind, text = self.tokens[self.at] if self.at < len(self.tokens) else ("", "")
        self.at += 1
        if kind == "str":
            return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])
        if kind == "dt":
            return parse_datetime(text)
        if kind == "num":
            return float(text)
        if kind == "word" and text.lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text.lower()]
        raise SoqlError(f"unexpected token: '{text}' (expecting a literal)")


def _value(row: Row, name: str) -> Any:
    for key, value in row.items():
        if key.lower() == name.lower():
            return value
    raise SoqlError(f"No such column '{name}' on entity")


def _compare(left: Any, op: str, right: Any) -> bool:
    if op in ("=", "!="):
        return bool(left == right) == (op == "=")
    if left is None or right is None:
        return False
    if isinstance(left, datetime) != isinstance(right, datetime):
        raise SoqlError("value of filter criterion must be of type dateTime and should not be enclosed in quotes")
    checks = {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}
    return bool(checks[op])


def parse(soql: str) -> Query:
    return _Parser(soql).query()
