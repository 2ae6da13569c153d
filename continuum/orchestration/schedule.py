"""A pipeline's ``schedule``, as Airflow understands it.

Accepted forms (anything else is an error that names the pipeline):

- a cron expression, ``"*/10 * * * *"``, or a preset, ``"@hourly"``;
- an interval, ``"45s"``, ``"30m"``, ``"2h"``, ``"1d"``;
- ``"after: community"`` (or ``"after: a, b"``): run when any of those
  pipelines finished a run, chained with Airflow Assets;
- ``null``: only when triggered (UI, REST API, ``airflow dags trigger``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

INTERVAL = re.compile(r"^(\d+)\s*(s|m|h|d)$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
PRESETS = {"@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly",
           "@annually", "@midnight"}
CRON_FIELD = re.compile(r"^[\d*/,\-?LW#A-Za-z]+$")
AFTER = "after:"


class ScheduleError(ValueError):
    pass


def pipeline_asset_uri(pipeline: str) -> str:
    return f"continuum://pipelines/{pipeline}"


def upstream_pipelines(value: str | None) -> list[str]:
    """The pipelines an ``after:`` schedule waits for (empty for every other form)."""
    if value is None or not value.strip().lower().startswith(AFTER):
        return []
    return [name.strip() for name in value.strip()[len(AFTER):].split(",") if name.strip()]


def check_schedule(pipeline: str, value: str | None, pipelines: list[str]) -> None:
    """Raise :class:`ScheduleError` if ``value`` is not a schedule this module can turn into Airflow's."""
    if value is None:
        return
    text = value.strip()
    where = f"pipeline {pipeline!r}: schedule {value!r}"
    if text.lower().startswith(AFTER):
        names = upstream_pipelines(text)
        if not names:
            raise ScheduleError(f"{where}: 'after:' names no pipeline")
        for name in names:
            if name not in pipelines:
                raise ScheduleError(f"{where}: no pipeline {name!r} (configured: {', '.join(pipelines)})")
            if name == pipeline:
                raise ScheduleError(f"{where}: a pipeline cannot run after itself")
        return
    if INTERVAL.match(text) or text in PRESETS:
        if INTERVAL.match(text) and int(INTERVAL.match(text).group(1)) == 0:  # type: ignore[union-attr]
            raise ScheduleError(f"{where}: an interval must be longer than 0")
        return
    fields = text.split()
    if len(fields) in (5, 6) and all(CRON_FIELD.match(f) for f in fields):
        return
    raise ScheduleError(f"{where}: expected a cron expression, a preset like @hourly, an interval like "
                        f"'30m', or 'after: <pipeline>'")


def airflow_schedule(pipeline: str, value: str | None, pipelines: list[str]) -> Any:
    """The value for ``DAG(schedule=...)``: None, a cron string, a timedelta, or Assets."""
    check_schedule(pipeline, value, pipelines)
    if value is None:
        return None
    text = value.strip()
    upstream = upstream_pipelines(text)
    if upstream:
        from airflow.sdk import Asset

        assets = [Asset(name=f"continuum_{name}", uri=pipeline_asset_uri(name)) for name in upstream]
        condition: Any = assets[0]  # Asset | Asset is an AssetAny
        for asset in assets[1:]:
            condition = condition | asset
        return condition
    match = INTERVAL.match(text)
    if match:
        return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
    return text
