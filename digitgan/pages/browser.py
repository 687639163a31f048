"""Headless chromium for checking the pages in a real browser (the tests and the bench's "page" section): Debian's
chromium and chromium-driver, named explicitly (selenium's driver manager would try the network), with the flags
that keep a closed-network machine quiet — none that loosens the browser's security."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
QUIET_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync")


def available() -> bool:
    return bool(CHROMIUM and CHROMEDRIVER)


def headless_chromium(profile: Path, width: int = 480, height: int = 1600, offline: bool = False,
                      log_requests: bool = False) -> Any:
    """A selenium Chrome driver on a fresh profile; `offline`: the network is switched off (DevTools' network
    conditions) before any page is opened; `log_requests`: every request is in driver.get_log("performance")."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*QUIET_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    if log_requests:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    if offline:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                                    "downloadThroughput": -1, "uploadThroughput": -1})
    return driver
