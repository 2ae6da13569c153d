"""The view in a real browser: Debian's headless Chromium (Selenium, chromedriver) against a real Airflow
API server.  Users sign in through Airflow's own login page; the view then reads the UI's session cookie.
Each page is opened and photographed (into $CONTINUUM_ARTEFACTS_DIR, or the test's folder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browserkit import chromium
from tests.view.conftest import BROWSER_LETTER, ViewServer, artefacts_dir, letter_state

WAIT = 60  # the longest any element may take to appear (a bound, not an expectation)


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium("1280,1100", loopback=True) as driver:
        yield driver


def _wait_for(driver: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))


def log_in(driver: Any, server: ViewServer, user: str, page: str = "/") -> None:
    """Open a page signed out: the view sends the browser to Airflow's login page, which sets the UI's
    `_token` cookie and sends the user back to that page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.delete_all_cookies()
    driver.get(f"{server.url}{page}")
    _wait_for(driver, "input[name=username]").send_keys(user)
    password = driver.find_element(By.CSS_SELECTOR, "input[name=password]")
    password.send_keys(server.passwords[user])
    password.send_keys(Keys.ENTER)
    assert _wait_for(driver, "#user").text == user
    assert driver.current_url.startswith(f"{server.url}{page}")


def shoot(driver: Any, folder: Path, name: str) -> None:
    shot = folder / f"{name}.png"
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 5_000


def test_pages_search_and_replay_in_a_browser(view_server: ViewServer, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    shots = artefacts_dir(tmp_path)
    base = view_server.url

    # A viewer reads everything, but has no replay button, and a forged form post is refused.
    log_in(browser, view_server, "vic", "/dead-letters")
    _wait_for(browser, f"#letter-{BROWSER_LETTER}")
    assert browser.find_elements(By.CSS_SELECTOR, "button.replay") == []
    shoot(browser, shots, "dead-letters-viewer")
    browser.execute_script(
        "const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];"
        "const i = document.createElement('input'); i.name = 'csrf'; i.value = 'guess'; f.appendChild(i);"
        "document.body.appendChild(f); f.submit();", f"{base}/dead-letters/{BROWSER_LETTER}/replay")
    assert "may not replay" in _wait_for(browser, "body").text or "may not replay" in browser.page_source
    assert letter_state(view_server, BROWSER_LETTER) == "open"

    # An admin: every page, a search, a timeline, a story, then a replay.
    log_in(browser, view_server, "ada")
    shoot(browser, shots, "customers")
    search = browser.find_element(By.ID, "q")
    search.send_keys("annlee")
    browser.find_element(By.ID, "search").click()
    _wait_for(browser, "a.customer-name")
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.customer")
    assert [row.find_element(By.CSS_SELECTOR, "a.customer-name").text for row in rows] == ["Ann Lee"]
    shoot(browser, shots, "search")
    rows[0].find_element(By.CSS_SELECTOR, "a.customer-name").click()
    assert _wait_for(browser, "#customer-name").text == "Ann Lee"
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.event")) == 3
    shoot(browser, shots, "timeline")

    browser.get(f"{base}/customers/2")
    assert browser.title != "pwned" and "<img" in _wait_for(browser, "#customer-name").text  # text, not markup
    for name, path, css in (("requests", "/requests", "tr.request"), ("sla", "/sla", "table.sla"),
                            ("history", "/history?ref=post:1", "h2.story")):
        browser.get(f"{base}{path}")
        _wait_for(browser, css)
        shoot(browser, shots, name)
    assert browser.find_elements(By.CSS_SELECTOR, "main script, main img") == []

    browser.get(f"{base}/dead-letters")
    _wait_for(browser, f"#letter-{BROWSER_LETTER} button.replay").click()
    assert "replayed" in _wait_for(browser, "#outcome").text
    assert browser.find_elements(By.CSS_SELECTOR, f"#letter-{BROWSER_LETTER}") == []
    shoot(browser, shots, "dead-letters-replayed")
    assert letter_state(view_server, BROWSER_LETTER) == "resolved"

    # The same view inside Airflow's UI, from its navigation entry (the plugin's external view).
    browser.get(f"{view_server.stack.url}/plugin/continuum")
    frame = _wait_for(browser, "iframe")
    browser.switch_to.frame(frame)
    assert _wait_for(browser, "#user").text == "ada"
    browser.switch_to.default_content()
    shoot(browser, shots, "airflow-ui")
    print(f"screenshots: {shots}")
