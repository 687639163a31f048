"""The offline page: `digitgan site --single-file` writes one file that draws in headless chromium opened from
file:// with the network off and the browser's default security (no flags that loosen it); the only request is
the page itself. Typed numbers, the morph slider and the style sliders change what is drawn; keyboard only."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from digitgan.drawing.style import image_properties
from digitgan.pages.browser import available, headless_chromium
from tests.conftest import run_cli
from tests.pages.in_browser import digits_of, draw_seven, found_hand, pixels_of, read_digits, settled


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    result = run_cli("site", "--single-file", str(folder / "page.html"), "--out", str(folder / "site"), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "MiB" in result.stdout and (folder / "site" / "index.html").exists()
    assert (folder / "page.html").stat().st_size <= 8 * 2**20
    return folder / "page.html"


def test_missing_runtime_is_one_line_and_exit_2(tmp_path):
    result = run_cli("site", "--single-file", str(tmp_path / "p.html"), env={"DIGITGAN_ONNXRUNTIME_WEB": str(tmp_path)})
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "onnxruntime-web" in result.stderr and "make setup" in result.stderr and "Traceback" not in result.stderr


def test_the_page_carries_what_it_needs_and_nothing_external(page):
    html = page.read_text()
    # no element loads anything: every script is inline, and outside the scripts no src or href (the runtime's own
    # strings name its web site; the network log in the browser test counts what is really requested)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert [attributes for attributes, _ in scripts] == ["", ' type="module"', ' type="module"', ' type="module"']
    skeleton = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)
    assert "src=" not in skeleton and "href=" not in skeleton
    assert "window.digitganData" in scripts[0][1] and "window.ort = {" in scripts[1][1]
    assert "sourceMappingURL" not in html and "export{" not in scripts[1][1][-300:]
    assert "window.digitganData" in html and "window.ort = {" in html and "sourceMappingURL" not in html


@pytest.mark.skipif(not available(),
                    reason="Debian chromium + chromium-driver not installed (make test installs them as root)")
def test_offline_page_draws_from_a_file_with_the_network_off(page, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver = headless_chromium(tmp_path / "profile", offline=True, log_requests=True)
    try:
        driver.get_log("performance")  # what the browser's own start-up page loaded is not the page's business
        driver.get(page.as_uri())

        def drawn(element_id):
            return lambda d: d.execute_script(
                "const i = document.getElementById(arguments[0]);"
                "return i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:') ? i.naturalWidth : 0;",
                element_id)

        assert WebDriverWait(driver, 60).until(drawn("write-image")) == 2 * (4 * 28 + 4)  # "2026" in the page
        WebDriverWait(driver, 30).until(drawn("clock-image"))
        assert "real data" in driver.find_element(By.ID, "model-info").text

        # keyboard only: Tab to the number, type, Enter
        body = driver.find_element(By.TAG_NAME, "body")
        body.send_keys(Keys.TAB)
        active = driver.switch_to.active_element
        assert active.get_attribute("id") == "write-text"
        first = settled(driver, "write-image")
        active.send_keys(Keys.CONTROL, "a")
        active.send_keys("1234", Keys.ENTER)
        old_src = settled(driver, "write-image", changed_from=first)
        before = digits_of(pixels_of(driver, "write-image"), 2, 4)
        assert before.std() > 30 and 0.03 < (before > 128).mean() < 0.5  # ink, not blank, not filled

        # bad input: a message, never a broken image
        for bad in ("12ab", "1" * 500):
            active.send_keys(Keys.CONTROL, "a")
            active.send_keys(bad, Keys.ENTER)
            assert driver.find_element(By.ID, "write-error").text
            assert driver.find_element(By.ID, "write-image").get_attribute("src") == old_src
        active.send_keys(Keys.CONTROL, "a")
        active.send_keys("1234", Keys.ENTER)
        WebDriverWait(driver, 30).until(lambda d: not d.find_element(By.ID, "write-error").text)
        src = settled(driver, "write-image", changed_from=old_src)

        # the morph slider, by keyboard: the picture changes
        morph_before = pixels_of(driver, "morph-image")
        slider = driver.find_element(By.ID, "morph-t")
        slider.send_keys(Keys.END)
        WebDriverWait(driver, 30).until(lambda d: not np.array_equal(pixels_of(d, "morph-image"), morph_before))

        # your hand: pointer strokes on the canvas, the encoder in the page, the number written in that hand
        from selenium.webdriver.support.ui import Select

        Select(driver.find_element(By.ID, "hand-digit")).select_by_value("7")
        driver.find_element(By.ID, "hand-find").click()  # nothing drawn yet
        assert "draw a digit" in driver.find_element(By.ID, "hand-error").text
        draw_seven(driver)
        assert "ms in this page" in found_hand(driver)
        src = settled(driver, "write-image", changed_from=src)
        mine = digits_of(pixels_of(driver, "write-image"), 2, 4)
        assert read_digits(mine[:4]) == [1, 2, 3, 4]  # the first writer is the hand: still the digits asked
        assert np.abs(mine[:4].astype(int) - before[:4]).mean() > 5  # ... not the default noise's drawing
        assert np.array_equal(mine[4:], before[4:])  # the second writer stays the seed's
        # the page's preprocessing is the library's: the same canvas, read by Python, looks the same
        import base64

        from digitgan.drawing.hand import preprocess, read_image

        canvas_png = base64.b64decode(driver.execute_script(
            "return document.getElementById('hand-canvas').toDataURL('image/png').split(',')[1];"))
        in_python = preprocess(read_image(canvas_png)).astype(int)
        in_page = pixels_of(driver, "hand-seen")[::4, ::4][2:30, 2:30].astype(int)
        assert np.abs(in_page - in_python).mean() < 12, np.abs(in_page - in_python).mean()
        driver.find_element(By.ID, "hand-on").click()  # off: the default noise again
        src = settled(driver, "write-image", changed_from=src)
        assert np.array_equal(digits_of(pixels_of(driver, "write-image"), 2, 4), before)

        # a style slider moved right raises its property on the drawn pixels
        slant = driver.find_element(By.ID, "style-slant")
        for _ in range(8):
            slant.send_keys(Keys.ARROW_RIGHT)  # +2.0
        assert slant.get_attribute("value") == "2"
        settled(driver, "write-image", changed_from=src)
        after = digits_of(pixels_of(driver, "write-image"), 2, 4)
        assert np.nanmean(image_properties(after)["slant"]) > np.nanmean(image_properties(before)["slant"])

        driver.save_screenshot(str(tmp_path / "offline-page.png"))
        artifacts = Path("runs/test-artifacts")
        artifacts.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(artifacts / "offline-page.png"))

        requests = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
        sent = [event["params"] for event in requests if event["method"] == "Network.requestWillBeSent"]
        urls = [params["request"]["url"] for params in sent]
        url_of = {params["requestId"]: params["request"]["url"][:80] for params in sent}
        # a load the page itself cancels (a src swapped mid-load) counts too: a busy machine must not change pictures
        failed = [(url_of.get(event["params"]["requestId"]), event["params"].get("errorText")) for event in requests
                  if event["method"] == "Network.loadingFailed"]
        external = [url for url in urls if not url.startswith(("blob:", "data:"))]
        assert external == [page.as_uri()], external
        assert not failed, failed
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        driver.quit()
