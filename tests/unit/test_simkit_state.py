"""The simkit state blocks: id sequences, tables and the simulator clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from continuum.simkit import Clock, Serial, Table


@dataclass
class User:
    id: int
    name: str


def test_serial_counts_from_where_a_site_in_use_would_be() -> None:
    ids = Serial(11)
    assert [ids.next() for _ in range(3)] == [11, 12, 13]
    assert ids.upcoming == 14


def test_a_table_hands_out_ids_and_keeps_creation_order() -> None:
    users: Table[int, User] = Table("user", first_id=8)
    for name in ("mara", "tomasz", "priya"):
        users.add(User(users.next_id(), name))

    assert list(users) == [8, 9, 10]
    assert users[9].name == "tomasz" and len(users) == 3 and 10 in users
    assert [u.name for u in users.values()] == ["mara", "tomasz", "priya"]
    assert [u.name for u in users.where(newest_first=True)] == ["priya", "tomasz", "mara"]
    assert users.get(99) is None
    assert repr(users) == "Table('user', 3 rows)"


def test_a_table_finds_records_back() -> None:
    users: Table[int, User] = Table("user")
    for name in ("ann", "bob", "anna"):
        users.add(User(users.next_id(), name))

    assert users.find(lambda u: u.name.startswith("an")) == User(1, "ann")
    assert users.find(lambda u: u.name == "zed") is None
    assert [u.id for u in users.where(lambda u: "n" in u.name)] == [1, 3]
    assert users.one(lambda u: u.name == "bob", "'bob'").id == 2
    with pytest.raises(KeyError, match="no user 'zed'"):
        users.one(lambda u: u.name == "zed", "'zed'")
    with pytest.raises(KeyError, match="no user 7"):
        users.require(7)
    assert users.require(3).name == "anna"


def test_a_table_refuses_a_second_record_under_one_id() -> None:
    users: Table[int, User] = Table("user")
    users.add(User(1, "first"))
    with pytest.raises(ValueError, match="user 1 exists"):
        users.add(User(1, "second"))
    assert users[1].name == "first"


def test_a_stepped_clock_is_the_same_in_every_run() -> None:
    start = datetime(2025, 3, 3, 9, tzinfo=UTC)
    clock = Clock(start, timedelta(minutes=7))
    assert [clock.now() for _ in range(2)] == [start + timedelta(minutes=7), start + timedelta(minutes=14)]
    assert clock.ticks == 2
    clock.advance(3600)
    assert clock.now() == start + timedelta(minutes=21, hours=1)


def test_the_wall_clock_never_repeats_a_reading_and_can_jump_ahead() -> None:
    clock = Clock()
    readings = [clock.now() for _ in range(50)]  # all inside one second of wall time
    assert all(a < b for a, b in pairwise(readings))
    assert abs((readings[0] - datetime.now(UTC)).total_seconds()) < 2
    clock.advance(86400)
    assert clock.now() - datetime.now(UTC) > timedelta(hours=23)
