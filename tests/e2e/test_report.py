"""``continuum report``: the figures the store holds, one page that needs no network, escaped text, no secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from continuum.cli import app
from continuum.ops.report import figures, render_html
from tests.e2e.reportkit import HOSTILE_NAME, HOSTILE_TITLE, NOW, SECRET, seed_store


@pytest.fixture
def store(any_db: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("AIRFLOW_CONN_REPORT_TEST", json.dumps({"conn_type": "http", "password": SECRET}))
    seed_store(any_db)
    return any_db


def test_the_figures_are_what_the_store_holds(store: Engine) -> None:
    with store.connect() as conn:
        data = figures(conn, NOW)

    by_day = {(v["day"], v["channel"], v["kind"]): v["count"] for v in data["volume"]}
    assert by_day == {("2026-11-17", "discourse", "question"): 1, ("2026-11-17", "x", "complaint"): 1,
                      ("2026-11-18", "x", "question"): 1, ("2026-11-19", "discourse", "question"): 1,
                      ("2026-11-19", "mastodon", "feature_request"): 1}
    support, = (t for t in data["teams"] if t["team"] == "support")
    assert (support["met"], support["late"], support["overdue"], support["open"]) == (1, 1, 1, 1)
    assert support["sla_attainment"] == round(1 / 3, 3)  # decided: in time, late, overdue; open is not yet
    assert support["median_hours_to_answer"] == 25.0  # 2 h and 48 h
    rnd, = (t for t in data["teams"] if t["team"] == "rnd")
    assert rnd["sla_attainment"] is None and rnd["median_hours_to_answer"] == 10.0
    assert [r["title"] for r in data["feature_requests"]] == ["Export to CSV", HOSTILE_TITLE]  # by votes; 0 left out
    assert [(o["interaction"], o["customer"]) for o in data["overdue"]] == [(3, HOSTILE_NAME)]
    letters = {(d["system"], d["stage"], d["reason"]): d["count"] for d in data["dead_letters"]}
    assert letters[("x", "map", "field 'created': not a date")] == 2  # one reason, whichever record
    assert {c["system"]: (c["calls"], c["retries"], c["throttled"]) for c in data["calls"]} == {
        "jira": (5, 0, 0), "x": (16, 2, 1)}
    assert SECRET not in json.dumps(data)


def test_the_page_escapes_customer_text_loads_nothing_and_shows_no_secret(store: Engine) -> None:
    with store.connect() as conn:
        page = render_html(figures(conn, NOW))

    assert "<script" not in page and "<img" not in page and "<b>denied" not in page
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;Dark mode &amp; more" in page
    assert "&lt;img src=x onerror=" in page
    assert SECRET not in page
    assert not re.search(r"""(?:src|href|url\()\s*=?\s*["']?(?:https?:)?//""", page)  # nothing to fetch
    assert page.count('class="chart"') == 7


def test_the_cli_writes_the_page_and_prints_the_same_figures_as_json(store: Engine, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", store.url.render_as_string(hide_password=False))
    runner = CliRunner()
    page = tmp_path / "out" / "report.html"

    written = runner.invoke(app, ["report", "--out", str(page)])
    printed = runner.invoke(app, ["report", "--json"])

    assert written.exit_code == 0, written.output
    assert str(page) in written.output.replace("\n", "")
    assert "chart-requests" in page.read_text()
    data = json.loads(printed.stdout)
    assert {"volume", "teams", "overdue", "feature_requests", "dead_letters", "calls"} <= set(data)
    assert data["feature_requests"][0]["title"] == "Export to CSV"
