"""What the browser tests of both pages do in a real browser: read an <img>'s pixels, wait for a picture to settle,
cut a written number into digits, draw strokes on the hand canvas with the pointer (selenium's pointer actions:
real pointerdown/move/up events), and read written digits with the reference classifier."""

import time

import numpy as np

from digitgan.classifiers.reference import load_reference, predict


def pixels_of(driver, element_id: str, seconds: float = 30) -> np.ndarray:
    """The drawn picture of an <img> as a (H, W) uint8 array (read through a canvas in the page). An <img> whose src
    was just swapped has no picture until the new one decodes (naturalWidth 0): wait for it rather than read it."""
    deadline = time.monotonic() + seconds
    while True:
        values = driver.execute_script(
            "const i = document.getElementById(arguments[0]);"
            "if (!i.complete || i.naturalWidth === 0) return null;"
            "const c = document.createElement('canvas');"
            "c.width = i.naturalWidth; c.height = i.naturalHeight; const x = c.getContext('2d'); x.drawImage(i, 0, 0);"
            "const d = x.getImageData(0, 0, c.width, c.height).data; const out = [];"
            "for (let p = 0; p < d.length; p += 4) out.push(d[p]); return [c.width, c.height, out];", element_id)
        if values is not None:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{element_id} has no loaded picture after {seconds:g} s")
        time.sleep(0.1)
    width, height, flat = values
    return np.asarray(flat, np.uint8).reshape(height, width)


def settled(driver, element_id: str, changed_from: str | None = None, seconds: float = 30) -> str:
    """Wait until the <img>'s picture differs from `changed_from` (when given) and has stopped changing (the same
    loaded src over 0.4 s: every redraw the last inputs asked for has landed); returns that src."""
    deadline, last = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        src = driver.execute_script("const i = document.getElementById(arguments[0]);"
                                    "return i.complete && i.naturalWidth > 0 ? i.src : null;", element_id)
        if src is not None and src != changed_from and src == last:
            return src
        last = src
        time.sleep(0.4)
    raise AssertionError(f"{element_id} did not settle")


def digits_of(picture: np.ndarray, rows: int, columns: int, scale: int = 2) -> np.ndarray:
    """(rows * columns, 28, 28) cells of a write picture (padding 2, digits touching, scaled `scale` times)."""
    small = picture[::scale, ::scale]
    return np.stack([small[2 + r * 30:2 + r * 30 + 28, 2 + c * 28:2 + (c + 1) * 28]
                     for r in range(rows) for c in range(columns)])


# a 7 as two strokes, in CSS pixels from the canvas's centre (the canvas is 280 px wide): a bar, then the stem
SEVEN = (((-85, -95), (-40, -97), (10, -98), (80, -96)), ((80, -96), (50, -20), (20, 50), (0, 105)))


def draw_seven(driver, canvas_id: str = "hand-canvas") -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    canvas = driver.find_element(By.ID, canvas_id)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", canvas)
    for stroke in SEVEN:
        actions = ActionChains(driver, duration=20)
        actions.move_to_element_with_offset(canvas, *stroke[0]).click_and_hold()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
            for t in np.linspace(0.25, 1, 4):
                actions.move_to_element_with_offset(canvas, round(x0 + t * (x1 - x0)), round(y0 + t * (y1 - y0)))
        actions.release().perform()


def found_hand(driver, seconds: float = 60) -> str:
    """Click "Use my hand" and wait for the page to say it found one; returns the status line."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.ID, "hand-find").click()
    WebDriverWait(driver, seconds).until(
        lambda d: d.find_element(By.ID, "hand-status").text.startswith("found")
        or d.find_element(By.ID, "hand-error").text)
    assert not driver.find_element(By.ID, "hand-error").text, driver.find_element(By.ID, "hand-error").text
    assert driver.find_element(By.ID, "hand-on").is_selected()
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(
        "const i = document.getElementById('hand-seen'); return i.complete && i.naturalWidth > 0;"))
    return driver.find_element(By.ID, "hand-status").text


def read_digits(cells: np.ndarray) -> list[int]:
    """The reference classifier's reading of (N, 28, 28) uint8 digits."""
    classifier, _ = load_reference("mnist")
    logits, _ = predict(classifier, cells)
    return [int(v) for v in logits.argmax(axis=1)]
