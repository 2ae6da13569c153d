"""The SLA clock's arithmetic, directly: due times per policy and priority, in business hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from continuum.policy.sla import Calendar, SlaConfig, parse_duration

MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
SLA = SlaConfig.model_validate({
    "calendars": {"utc": {"timezone": "UTC", "hours": ["09:00", "17:00"]},
                  "always": {"timezone": "UTC", "hours": ["00:00", "23:59"],
                             "workdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
    "policies": {"standard": {"calendar": "utc", "due": {"high": "4h", "normal": "1d"}},
                 "vip": {"calendar": "always", "due": {"urgent": "30m"}}},
    "default_policy": "standard",
})


@pytest.mark.parametrize(("text", "expected"), [("4h", timedelta(hours=4)), ("2d", timedelta(days=2)),
                                                ("1h30m", timedelta(minutes=90)), ("45m", timedelta(minutes=45)),
                                                ("1d 2h", timedelta(days=1, hours=2))])
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "4", "soon", "4x", "h"])
def test_a_duration_that_is_none_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_due_times_follow_the_policy_the_priority_and_the_calendar() -> None:
    assert SLA.due_time("standard", "high", MONDAY_10) == MONDAY_10 + timedelta(hours=4)
    assert SLA.due_time("standard", "normal", MONDAY_10) == MONDAY_10 + timedelta(days=1)  # 8 working hours
    assert SLA.due_time(None, "high", MONDAY_10) == MONDAY_10 + timedelta(hours=4)  # the default policy
    assert SLA.due_time("standard", "low", MONDAY_10) == MONDAY_10 + timedelta(days=1)  # no "low": normal's
    assert SLA.due_time("standard", None, MONDAY_10) == MONDAY_10 + timedelta(days=1)
    assert SLA.due_time("vip", "urgent", MONDAY_10) == MONDAY_10 + timedelta(minutes=30)
    assert SLA.due_time("vip", "normal", MONDAY_10) is None  # the policy has no due time for it
    assert SLA.due_time("unknown", "high", MONDAY_10) is None
    assert SlaConfig().due_time(None, "high", MONDAY_10) is None  # no policy at all: no clock


def test_working_time_starts_at_opening_and_carries_over_the_evening() -> None:
    calendar = Calendar(timezone="UTC", hours=("09:00", "17:00"))
    early = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
    assert calendar.add_working_time(early, timedelta(hours=1)) == datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
    late = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)
    assert calendar.add_working_time(late, timedelta(hours=2)) == datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
    closing = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
    assert calendar.add_working_time(closing, timedelta(minutes=1)) == datetime(2026, 11, 17, 9, 1, tzinfo=UTC)
    exactly = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    assert calendar.add_working_time(exactly, timedelta(hours=8)) == datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
    assert calendar.day_length == timedelta(hours=8)


def test_a_calendar_with_no_working_time_fails_instead_of_looping() -> None:
    with pytest.raises(ValueError, match="no working time"):
        Calendar(workdays=[]).add_working_time(MONDAY_10, timedelta(hours=1))


@pytest.mark.parametrize(("config", "problem"), [
    ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"hours": ["17:00", "09:00"]}, "must end after they start"),
    ({"hours": ["09:00", "09:00"]}, "must end after they start"),
])
def test_a_calendar_that_makes_no_sense_is_refused(config: dict, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        Calendar.model_validate(config)


@pytest.mark.parametrize(("config", "problem"), [
    ({"policies": {"p": {"calendar": "nowhere", "due": {"high": "1h"}}}}, "unknown calendar"),
    ({"default_policy": "missing"}, "is not under policies"),
    ({"policies": {"p": {"due": {"high": "soon"}}}}, "is not a duration"),
    ({"breaching_soon": "later"}, "is not a duration"),
])
def test_an_sla_config_that_makes_no_sense_is_refused(config: dict, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        SlaConfig.model_validate(config)
