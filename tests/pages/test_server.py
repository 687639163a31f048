"""The HTTP API with an in-process client, and the page in a real headless Chromium."""

import base64
import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from PIL import Image

from digitgan.cli import cli
from digitgan.errors import UserError
from digitgan.pages.browser import available, headless_chromium
from digitgan.pages.server import create_app, listening_socket
from digitgan.training import train
from tests.conftest import free_port, tiny_arrays, tiny_config
from tests.pages.in_browser import digits_of, draw_seven, found_hand, pixels_of, read_digits, settled


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    images, labels = tiny_arrays(96)
    np.savez(folder / "tiny.npz", x_train=images, y_train=labels)
    train(tiny_config(dataset=str(folder / "tiny.npz"), steps=3), folder / "run", quiet=True)
    return folder / "run"


@pytest.fixture(scope="module")
def client(model_dir):
    return TestClient(create_app(model_dir))


def png(response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def test_health_and_model(client):
    assert client.get("/api/health").json() == {"status": "ok"}
    info = client.get("/api/model").json()
    assert info["preset"] == "fast" and info["conditional"] and info["step"] == 3


def test_write_sample_interpolate_clock(client):
    assert png(client.get("/api/write", params={"text": "2026", "styles": 2, "seed": 3})).size == (2 * (4 * 28 + 4),
                                                                                                   2 * 62)
    assert png(client.get("/api/sample", params={"digit": 7, "n": 16})).size == (2 * (4 * 30 + 2),) * 2
    assert png(client.get("/api/interpolate", params={"from": 7, "to": 9, "steps": 10})).size == (
        2 * (10 * 28 + 4), 2 * 32)
    assert png(client.get("/api/mix", params={"from": 1, "to": 2, "t": 0.3})).size == (112, 112)
    assert png(client.get("/api/clock", params={"time": "12:34:56", "fade": 0.4})).size == (2 * (8 * 28 + 4), 64)
    same = [client.get("/api/write", params={"text": "12", "seed": 5}).content for _ in range(2)]
    assert same[0] == same[1]


def test_sample_json(client):
    body = client.get("/api/sample", params={"digit": 3, "n": 4, "seed": 1},
                      headers={"Accept": "application/json"}).json()
    assert body["digit"] == 3 and len(body["images"]) == 4
    assert Image.open(io.BytesIO(base64.b64decode(body["images"][0]))).size == (28, 28)


@pytest.mark.parametrize("path, params", [
    ("/api/write", {"text": "12a"}), ("/api/write", {"text": "1" * 33}), ("/api/write", {"text": "::"}),
    ("/api/sample", {"digit": 10}), ("/api/sample", {"digit": 1, "n": 257}),
    ("/api/interpolate", {"from": 7, "to": 9, "steps": 65}), ("/api/interpolate", {"from": -1, "to": 9}),
    ("/api/clock", {"time": "25:99:00"}), ("/api/mix", {"from": 1, "to": 2, "t": 2}),
])
def test_validation_422(client, path, params):
    response = client.get(path, params=params)
    assert response.status_code == 422
    assert_error_body(response.json())


def assert_error_body(body):
    """Every 4xx the API raises has one shape: {"detail": [{"loc", "msg", "type"}]}, msg a sentence."""
    assert list(body) == ["detail"] and body["detail"]
    for item in body["detail"]:
        assert set(item) == {"loc", "msg", "type"} and item["loc"][0] == "query" and " " in item["msg"]


def test_errors_read_as_sentences_and_unknown_parameters_are_refused(client):
    body = client.get("/api/write", params={"text": ":"}).json()
    assert body["detail"][0]["msg"] == "text must be digits, ':', '-' or spaces, with at least one digit"
    response = client.get("/api/write", params={"text": "1", "stlyes": 2})  # a misspelt parameter
    assert response.status_code == 422 and "unknown parameter 'stlyes'" in response.json()["detail"][0]["msg"]
    assert_error_body(response.json())


def test_oversized_query_and_no_file_access(client):
    long_but_valid = [("text", "1")] + [("seed", "1")] * 120  # every parameter valid, the query too long
    response = client.get("/api/write", params=long_but_valid)
    assert response.status_code == 414 and "longer than 512" in response.json()["detail"][0]["msg"]
    assert_error_body(response.json())
    # an invalid request is answered 422 whatever its length
    assert client.get("/api/write", params={"text": "1" * 600}).status_code == 422
    assert client.get("/api/write", params={"text": "1", "x": "y" * 600}).status_code == 422
    assert client.get("/../../etc/passwd").status_code == 404
    assert client.get("/api/write", params={"text": "../etc/passwd"}).status_code == 422


def test_openapi_lists_the_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/write", "/api/sample", "/api/interpolate", "/api/health", "/api/model"} <= set(paths)


def test_page_has_no_external_references(client):
    page = client.get("/").text
    assert "<html" in page and "http://" not in page and "https://" not in page


def test_a_port_in_use_is_one_line_and_exit_2_before_anything_is_announced():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        with pytest.raises(UserError, match=f"cannot serve on 127.0.0.1:{port}: address already in use"):
            listening_socket("127.0.0.1", port)
        result = CliRunner().invoke(cli, ["serve", "--port", str(port)], prog_name="digitgan")
    assert result.exit_code == 2 and result.stdout == "", (result.stdout, result.stderr[-2000:], result.exception)
    assert result.stderr.count("\n") == 1 and "address already in use" in result.stderr


@pytest.mark.skipif(not available(),
                    reason="Debian chromium + chromium-driver not installed (make test installs them as root)")
def test_real_browser_types_a_number(tmp_path):
    """The served page with the shipped model: type a number, the handwritten image appears and has ink."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "digitgan", "serve", "--port", str(port), "--threads", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        driver = headless_chromium(tmp_path / "profile", width=420, height=1200)
        try:
            driver.get(f"http://127.0.0.1:{port}/")
            box = driver.find_element(By.ID, "write-text")
            box.clear()
            box.send_keys("1234", Keys.ENTER)

            def written(d):
                return d.execute_script(
                    "const i = document.getElementById('write-image');"
                    "return i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:') ? i.naturalWidth : 0;")

            width = WebDriverWait(driver, 30).until(written)
            assert width == 2 * (4 * 28 + 4)  # four digits
            image = driver.find_element(By.ID, "write-image")
            shot = Image.open(io.BytesIO(image.screenshot_as_png)).convert("L")
            pixels = np.asarray(shot, dtype=np.float64)
            ink = (pixels > 160).mean()  # white strokes on black: a written number has some, a blank has none
            assert pixels.std() > 30 and 0.03 < ink < 0.5, (pixels.std(), ink)

            # your hand: pointer strokes on the canvas, POSTed to the server, the number written in that hand
            src = settled(driver, "write-image")
            before = digits_of(pixels_of(driver, "write-image"), 1, 4)
            assert read_digits(before) == [1, 2, 3, 4]
            draw_seven(driver)  # "read it for me": the reference classifier says which digit it is
            assert "read as a 7" in found_hand(driver)
            settled(driver, "write-image", changed_from=src)
            mine = digits_of(pixels_of(driver, "write-image"), 1, 4)
            assert read_digits(mine) == [1, 2, 3, 4] and np.abs(mine.astype(int) - before).mean() > 5
            assert driver.find_element(By.ID, "hand-seen").get_attribute("src").startswith("data:image/png")
            (tmp_path / "artifacts").mkdir(exist_ok=True)
            driver.save_screenshot(str(tmp_path / "artifacts" / "page.png"))
            artifacts = Path("runs/test-artifacts")
            artifacts.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(artifacts / "serve-page.png"))
        finally:
            driver.quit()
    finally:
        server.terminate()
        server.wait(timeout=10)


DRAWN_THREE = Path(__file__).resolve().parents[1] / "fixtures" / "drawn-digits" / "drawn-03-digit-3.png"


def test_a_drawn_digit_posted_gives_a_hand_that_writes_morphs_and_keeps_the_clock(client):
    response = client.post("/api/hand", params={"digit": 3}, content=DRAWN_THREE.read_bytes(),
                           headers={"Content-Type": "image/png"})
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["digit"] == 3 and found["read_probability"] is None and found["seconds"] > 0
    assert len(found["hand"]) == 22  # the tiny model's 8 noise values
    seen = Image.open(io.BytesIO(base64.b64decode(found["seen"])))
    assert seen.size == (4 * (2 * 28 + 4), 4 * 32)  # the digit as seen beside its redrawing
    hand = found["hand"]

    def pixels(path, **params):
        return np.asarray(png(client.get(path, params=params)))

    default = pixels("/api/write", text="2026", styles=2, seed=4)
    mine = pixels("/api/write", text="2026", styles=2, seed=4, hand=hand)
    assert mine.shape == default.shape and not np.array_equal(mine, default)
    row = 2 * 30  # scaled rows per writer: the hand is the first writer, the second stays the seed's
    assert np.array_equal(mine[2 * 2 + row:], default[2 * 2 + row:]) and not np.array_equal(mine[:row], default[:row])
    for path, params in (("/api/mix", {"from": 1, "to": 2}), ("/api/clock", {"time": "12:34:56"}),
                         ("/api/interpolate", {"from": 7, "to": 9, "steps": 4})):
        assert not np.array_equal(pixels(path, **params, hand=hand), pixels(path, **params))
    # the class read by the reference classifier when not given
    read = client.post("/api/hand", content=DRAWN_THREE.read_bytes()).json()
    assert read["digit"] == 3 and 0 < read["read_probability"] <= 1


@pytest.mark.parametrize("body, params, status, message", [
    (b"", {}, 422, "body is empty"),
    (b"not a picture", {"digit": 3}, 422, "not a readable image"),
    ("blank", {"digit": 3}, 422, "no ink"),
    (b"x" * (2 * 2**20 + 1), {"digit": 3}, 413, "at most 2,097,152"),
])
def test_bad_uploads_are_refused_with_a_sentence(client, body, params, status, message):
    if body == "blank":
        buffer = io.BytesIO()
        Image.new("L", (64, 64), 240).save(buffer, format="PNG")
        body = buffer.getvalue()
    response = client.post("/api/hand", params=params, content=body, headers={"Content-Type": "image/png"})
    assert response.status_code == status and message in response.json()["detail"][0]["msg"], response.text
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_a_bad_hand_or_digit_is_refused(client):
    assert client.post("/api/hand", params={"digit": 10}, content=DRAWN_THREE.read_bytes()).status_code == 422
    for hand in ("short", "A" * 21 + "=", "A" * 23):
        response = client.get("/api/write", params={"text": "12", "hand": hand})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "hand"]
