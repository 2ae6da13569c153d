"""The report in a real browser: Debian's headless Chromium, driven by Selenium through its chromedriver,
with every network request refused.  The page must still draw its charts, show a hostile customer name as
text, and run nothing of it.  A screenshot is kept in the test's temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from continuum.ops.report import write_report
from tests.browserkit import chromium
from tests.e2e.reportkit import HOSTILE_NAME, HOSTILE_TITLE, seed_store


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium("1100,2600", loopback=False) as driver:
        yield driver


def test_the_page_works_offline_draws_its_charts_and_shows_hostile_text_as_text(
        sqlite_db: Engine, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    seed_store(sqlite_db)
    page = tmp_path / "report.html"
    with sqlite_db.connect() as conn:
        write_report(conn, page)

    browser.get(page.as_uri())

    assert browser.title == "Continuum report"  # not 'pwned': no customer text ran as script
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 7
    assert all(chart.size["width"] > 0 and chart.size["height"] > 0 for chart in charts)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-requests rect")) == 2
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-volume-channel rect")) >= 4
    assert browser.find_element(By.CSS_SELECTOR, "td.customer").text == HOSTILE_NAME
    titles = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "td.request-title")]
    assert HOSTILE_TITLE in titles
    assert browser.find_elements(By.CSS_SELECTOR, "img, script, iframe") == []
    # Nothing was fetched: the page is whole as it is (resource timing lists every request it made).
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
