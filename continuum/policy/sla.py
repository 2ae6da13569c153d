"""Service levels: business-hours calendars and due times per priority.

A due time counts only working time: inside the calendar's hours, on its
workdays, outside its holidays, in its time zone.  The clock stops when the
customer gets an answer (``answered_at``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKWEEK: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$")


def parse_duration(text: str) -> timedelta:
    """``"2d"``, ``"4h"``, ``"1h30m"``: days here are *working* days of the calendar's length."""
    match = _DURATION.match(text)
    if not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration like 4h, 2d or 1h30m")
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


class Calendar(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    workdays: list[Weekday] = Field(default_factory=lambda: list(WORKWEEK))
    hours: tuple[str, str] = ("09:00", "17:00")
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except Exception:
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @model_validator(mode="after")
    def _hours_in_order(self) -> Calendar:
        start, end = (time.fromisoformat(h) for h in self.hours)
        if end <= start:
            raise ValueError(f"working hours must end after they start (got {self.hours[0]}-{self.hours[1]})")
        return self

    @property
    def day_length(self) -> timedelta:
        start, end = (datetime.combine(date.min, time.fromisoformat(h)) for h in self.hours)
        return end - start

    def _is_workday(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.workdays and day not in self.holidays

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment when ``amount`` of working time has passed since ``start``."""
        zone = ZoneInfo(self.timezone)
        open_t, close_t = (time.fromisoformat(h) for h in self.hours)
        # "2d" means two working days: convert days to working-day lengths.
        remaining = timedelta(seconds=amount.days * self.day_length.total_seconds() + amount.seconds)
        current = start.astimezone(zone)
        for _ in range(3660):  # ten years of days: a calendar with no workdays must not loop forever
            day = current.date()
            day_open = datetime.combine(day, open_t, zone)
            day_close = datetime.combine(day, close_t, zone)
            if self._is_workday(day) and current < day_close:
                current = max(current, day_open)
                available = day_close - current
                if remaining <= available:
                    return (current + remaining).astimezone(UTC)
                remaining -= available
            current = datetime.combine(day + timedelta(days=1), open_t, zone)
        raise ValueError("the calendar has no working time within ten years")


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calendar: str = "business"
    due: dict[str, str] = Field(description="priority → duration of working time, e.g. high: 8h")

    @field_validator("due")
    @classmethod
    def _durations(cls, due: dict[str, str]) -> dict[str, str]:
        for value in due.values():
            parse_duration(value)
        return due


class SlaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calendars: dict[str, Calendar] = Field(default_factory=lambda: {"business": Calendar()})
    policies: dict[str, Policy] = Field(default_factory=dict)
    default_policy: str | None = None
    breaching_soon: str = Field("2h", description="Warn this long (wall time) before the due time")

    @model_validator(mode="after")
    def _references(self) -> SlaConfig:
        for name, policy in self.policies.items():
            if policy.calendar not in self.calendars:
                raise ValueError(f"SLA policy {name!r} uses unknown calendar {policy.calendar!r}")
        if self.default_policy and self.default_policy not in self.policies:
            raise ValueError(f"default_policy {self.default_policy!r} is not under policies")
        parse_duration(self.breaching_soon)
        return self

    def due_time(self, policy_name: str | None, priority: str | None, start: datetime) -> datetime | None:
        name = policy_name or self.default_policy
        if not name or name not in self.policies:
            return None
        policy = self.policies[name]
        duration = policy.due.get(priority or "normal") or policy.due.get("normal")
        if duration is None:
            return None
        return self.calendars[policy.calendar].add_working_time(start, parse_duration(duration))
