"""Headless Chromium from Debian's packages, driven by Selenium, for the tests that look at a page.

One place for the flags: no network beyond what the test allows (every other host fails to resolve and every
proxy connection is refused), no background traffic, no first-run pages.  Skips with the fix when Chromium or
its driver is missing (``.ci/run`` installs both)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@contextmanager
def chromium(window: str, loopback: bool) -> Iterator[Any]:
    """A driver with a window of ``window`` (e.g. "1280,1100"); ``loopback``: 127.0.0.1 may be reached (a local
    server under test), else nothing may (a file that must work offline)."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the [test] extra)")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Chromium is not installed: apt-get install -y chromium chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    rules = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" if loopback else "MAP * ~NOTFOUND"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={window}", f"--host-resolver-rules={rules}", "--proxy-server=127.0.0.1:9",
                 f"--proxy-bypass-list={'127.0.0.1' if loopback else '<-loopback>'}",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
