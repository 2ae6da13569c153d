"""State a simulator keeps: ids handed out in order, tables of records, and its clock.

A simulator's records are its own small dataclasses; a :class:`Table` keeps
them by id (in creation order, as the vendors list them), hands out the next
id, and finds them back.  The :class:`Clock` makes every change happen
strictly after the previous one, which paging by "updated" and cursors by
timestamp rely on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

K = TypeVar("K")
R = TypeVar("R", bound="HasId[Any]")
K_co = TypeVar("K_co", covariant=True)


class HasId(Protocol[K_co]):
    @property
    def id(self) -> K_co: ...


class Serial:
    """Whole numbers in order from ``first``: a system's id sequence (ids a fresh site would not start at)."""

    def __init__(self, first: int = 1) -> None:
        self.upcoming = first

    def next(self) -> int:
        value = self.upcoming
        self.upcoming += 1
        return value


class Table(Mapping[K, R]):
    """Records of one kind by their ``id``, in the order they were added.

    Read it as a mapping (``table[id]``, ``table.values()``); change it with
    :meth:`add`.  ``what`` names the kind in errors ("no topic 99").
    """

    def __init__(self, what: str, first_id: int = 1) -> None:
        self.what = what
        self.ids = Serial(first_id)
        self._rows: dict[K, R] = {}

    # -- Mapping ----------------------------------------------------------------
    def __getitem__(self, key: K) -> R:
        return self._rows[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"Table({self.what!r}, {len(self._rows)} rows)"

    # -- changes ----------------------------------------------------------------
    def next_id(self) -> int:
        return self.ids.next()

    def add(self, record: R) -> R:
        key: K = record.id
        if key in self._rows:
            raise ValueError(f"{self.what} {key!r} exists")
        self._rows[key] = record
        return record

    def remove(self, key: K) -> R:
        """Take the record out for good (a purge): its id is never given again."""
        return self._rows.pop(self.require(key).id)

    # -- lookups ----------------------------------------------------------------
    def require(self, key: K) -> R:
        """The record with this id; a KeyError naming the kind otherwise."""
        if key not in self._rows:
            raise KeyError(f"no {self.what} {key!r}")
        return self._rows[key]

    def find(self, test: Callable[[R], bool]) -> R | None:
        """The first record (in creation order) that passes ``test``."""
        return next((row for row in self._rows.values() if test(row)), None)

    def one(self, test: Callable[[R], bool], described: str) -> R:
        """Like :meth:`find`, but a KeyError ("no user 'x'") when nothing passes."""
        found = self.find(test)
        if found is None:
            raise KeyError(f"no {self.what} {described}")
        return found

    def where(self, test: Callable[[R], bool] | None = None, *, newest_first: bool = False) -> list[R]:
        """Every record that passes ``test`` (all without one), oldest first unless asked otherwise."""
        rows = [row for row in self._rows.values() if test is None or test(row)]
        return rows[::-1] if newest_first else rows


class Clock:
    """The simulator's time: every reading strictly after the previous one.

    With ``start`` it is a deterministic clock, ``step`` apart per reading (the
    same story gives the same timestamps in every run).  Without it, it is
    wall-clock time to the second, nudged forward a millisecond when two
    readings would tie.  :meth:`advance` jumps ahead either way, as if time
    had passed.
    """

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(milliseconds=1)) -> None:
        self.start, self.step = start, step
        self.ticks = 0
        self.offset = timedelta()
        self._last = datetime.fromtimestamp(0, UTC)

    def now(self) -> datetime:
        self.ticks += 1
        if self.start is not None:
            moment = self.start + self.step * self.ticks + self.offset
        else:
            moment = datetime.now(UTC).replace(microsecond=0) + self.offset
        self._last = max(moment, self._last + timedelta(milliseconds=1))
        return self._last

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)
