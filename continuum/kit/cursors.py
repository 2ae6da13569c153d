"""Typed stream cursors: small frozen values the engine stores and the connector only reads and returns.

A stream declares its cursor type once::

    class PostsCursor(StreamCursor):
        last_post_id: int = 0

    POSTS = Stream(name="posts", object_type="post", cursor=PostsCursor)

The engine keeps the cursor as JSON (``to_json``) next to the page it
covers; the connector gets it back as the typed value (``from_json``), so a
cursor written by an older version with a missing field still loads, and a
malformed one is a clear error naming the stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError


class StreamCursor(BaseModel):
    """Base of every stream's cursor: frozen, unknown fields kept out, JSON in and out."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Self:
        """The stored cursor as this type; no cursor at all is the start of the stream."""
        try:
            return cls.model_validate(data or {})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"stored cursor for {cls.__name__} is not valid ({problems}); "
                             "restore the store from a backup, or delete this stream's row from the store's "
                             "cursors table to read it again from the start (nothing is duplicated)") from None


@dataclass(frozen=True)
class Stream:
    """A stream as data: what it is called, what it yields, and the shape of its cursor."""

    name: str
    object_type: str
    cursor: type[StreamCursor]
    description: str = ""


def cursor_json(cursor: StreamCursor | dict[str, Any] | None) -> dict[str, Any] | None:
    """What the store keeps for a page's cursor (typed or, from an older connector, plain JSON)."""
    if cursor is None or isinstance(cursor, dict):
        return cursor
    return cursor.to_json()
