"""The report in a real browser: Debian's headless Chromium, driven by Selenium through its chromedriver,
with every network request refused.  The page must still draw its charts, show a hostile customer name as
text, and run nothing of it.  A screenshot is kept in the test's temporary folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from continuum.ops.report import write_report
from tests.e2e.reportkit import HOSTILE_NAME, HOSTILE_TITLE, seed_store

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the [test] extra)")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Chromium is not installed: apt-get install -y chromium chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1100,2600",
                 # No network: every host name fails to resolve and every proxy connection is refused.
                 "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                 "--proxy-bypass-list=<-loopback>",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


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
