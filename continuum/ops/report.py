"""``continuum report``: what the hub knows, as one self-contained HTML page with charts (or JSON).

The page needs nothing from the network: its charts are SVG drawn here, on the server, and its style is
inline.  Jinja2 escapes every value it writes (autoescape on), so a customer's words, a feature request's
title or a dead letter's error never become markup; errors are scrubbed of the connections' secrets
first, as every message the CLI prints is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Connection

from continuum.connector import JSON
from continuum.ops.problems import scrub
from continuum.store import report as queries
from continuum.store.db import utcnow

TEMPLATE = "report.html.j2"
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
BAR_CHART_WIDTH = 640
ROW_HEIGHT = 22


def figures(conn: Connection, now: datetime | None = None) -> JSON:
    """Every figure of the report (what ``--json`` prints)."""
    moment = now or utcnow()
    data: JSON = _scrubbed({
        "generated_at": moment.isoformat(timespec="seconds"), "volume": queries.volume_by_day(conn),
        "teams": queries.answers_by_team(conn, moment), "overdue": queries.overdue(conn, moment),
        "feature_requests": queries.top_requests(conn), "dead_letters": queries.dead_letters_by_reason(conn),
        "calls": queries.calls_by_system(conn)})
    return data


def _scrubbed(value: Any) -> Any:
    """Every string without the connections' secrets (a dead letter's error may quote a URL with one)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    width: float
    color: str
    text: str


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass(frozen=True)
class StackedChart:
    """Columns (one per day) stacked by series (a channel or a kind), with a legend."""

    width: float
    height: float
    segments: list[Segment]
    days: list[tuple[float, str]]  # x of each column's label, the label
    legend: list[tuple[str, str]]  # series, color
    top: int


def bars(items: list[tuple[str, float]], text: str = "{:g}") -> list[Bar]:
    """Horizontal bars scaled to the largest value."""
    largest = max((value for _, value in items), default=0) or 1
    return [Bar(label, value, round(value / largest * (BAR_CHART_WIDTH - 300), 1), PALETTE[i % len(PALETTE)],
                text.format(value)) for i, (label, value) in enumerate(items)]


def stacked(volume: list[JSON], series: str, height: float = 200) -> StackedChart:
    days = sorted({row["day"] for row in volume})
    names = sorted({row[series] for row in volume})
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    totals: dict[tuple[str, str], int] = {}
    for row in volume:
        totals[(row["day"], row[series])] = totals.get((row["day"], row[series]), 0) + row["count"]
    per_day = {day: sum(n for (d, _), n in totals.items() if d == day) for day in days}
    top = max(per_day.values(), default=0) or 1
    column = max(8.0, min(48.0, (BAR_CHART_WIDTH - 40) / max(1, len(days)) - 4))
    segments: list[Segment] = []
    labels: list[tuple[float, str]] = []
    one_year = len({day[:4] for day in days}) <= 1
    # A label is about 7 px a character: every how many columns one fits without touching the next.
    step = math.ceil((len(days[0][5 if one_year else 2:]) * 7 + 6) / (column + 4)) if days else 1
    for index, day in enumerate(days):
        x, y = 40 + index * (column + 4), height
        for name in names:
            count = totals.get((day, name), 0)
            if not count:
                continue
            h = count / top * (height - 10)
            y -= h
            segments.append(Segment(round(x, 1), round(y, 1), round(column, 1), round(h, 1), colors[name],
                                    f"{day} {name}: {count}"))
        if index % step == 0:
            labels.append((round(x + column / 2, 1), day[5:] if one_year else day[2:]))
    width = max(BAR_CHART_WIDTH, 40 + len(days) * (column + 4))
    return StackedChart(width, height, segments, labels, list(colors.items()), top)


def render_html(data: JSON) -> str:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=select_autoescape(("j2", "html")),
                      trim_blocks=True, lstrip_blocks=True)
    teams = data["teams"]
    charts: dict[str, Any] = {
        "by_channel": stacked(data["volume"], "channel"),
        "by_kind": stacked(data["volume"], "kind"),
        "answer_hours": bars([(t["team"], t["median_hours_to_answer"]) for t in teams
                              if t["median_hours_to_answer"] is not None], "{:.1f} h"),
        "attainment": bars([(t["team"], round(100 * t["sla_attainment"], 1)) for t in teams
                            if t["sla_attainment"] is not None], "{:g} %"),
        "requests": bars([(r["title"], r["votes"]) for r in data["feature_requests"]]),
        "dead_letters": bars([(f"{d['system']} · {d['stage']} · {d['reason']}", d["count"])
                              for d in data["dead_letters"]]),
        "calls": bars([(c["system"], c["calls"]) for c in data["calls"]]),
    }
    return env.get_template(TEMPLATE).render(data=data, charts=charts, row_height=ROW_HEIGHT,
                                             chart_width=BAR_CHART_WIDTH)


def write_report(conn: Connection, path: Path) -> JSON:
    """Write the page to ``path``; returns its figures."""
    data = figures(conn)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(data), encoding="utf-8")
    return data
