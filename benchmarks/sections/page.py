"""The offline page (`digitgan site --single-file`) in headless chromium, opened from file:// with the network off:
its size, the time from opening the file to the first written number, digits drawn per second in the page
(onnxruntime-web, one wasm thread) at batch 1 and 64, beside onnxruntime in Python on the same model and machine,
and the time the page takes to find a drawn digit's hand (preprocessing + the hand encoder, in the page)."""

from __future__ import annotations

import base64
import statistics
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.common import Context
from digitgan.modelfolder.folder import default_model_dir, load_generator
from digitgan.modelfolder.onnx_export import onnx_bytes
from digitgan.models import one_hot, sample_noise
from digitgan.pages.browser import available, headless_chromium
from digitgan.pages.site import MANTISSA_BITS, build_site, rounded_parity

# a digit drawn as strokes on paper (tests/fixtures/drawn-digits), put on the page's canvas as a user's drawing
HAND_SOURCE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "drawn-digits" / "drawn-03-digit-3.png"
FIND_HAND = """
const [png, digit, repeats, done] = arguments;
const image = new Image();
image.onload = async () => {
  const canvas = document.getElementById('hand-canvas'), context = canvas.getContext('2d');
  const scale = Math.min(canvas.width / image.width, canvas.height / image.height);
  context.fillStyle = '#fff'; context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(image, (canvas.width - image.width * scale) / 2, (canvas.height - image.height * scale) / 2,
                    image.width * scale, image.height * scale);
  const seconds = [];
  await window.digitganPainter.findHand(canvas, digit);
  for (let r = 0; r < repeats; r++) seconds.push((await window.digitganPainter.findHand(canvas, digit)).seconds);
  done(seconds);
};
image.src = 'data:image/png;base64,' + png;
"""


def in_browser(page: Path, opens: int, repeats: int, screenshot: Path | None = None) -> dict:
    """Median over `opens` fresh browsers of the time to the first picture; digits/s from the last one, which also
    saves a `screenshot` of the page once it has drawn."""
    first, ready, rates, hand = [], [], {}, []
    for index in range(opens):
        with tempfile.TemporaryDirectory() as profile:
            driver = headless_chromium(Path(profile), offline=True)
            try:
                driver.get(page.as_uri())
                deadline = time.monotonic() + 120
                while (timings := driver.execute_script("return window.digitganTimings || {}")).get(
                        "firstPicture") is None:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the offline page drew nothing within 120 s")
                    time.sleep(0.05)
                first.append(timings["firstPicture"] / 1000)
                ready.append(timings["ready"] / 1000)
                if index == opens - 1:
                    if screenshot is not None:
                        time.sleep(1.0)  # the clock and the evaluation panel fill in
                        driver.save_screenshot(str(screenshot))
                    driver.set_script_timeout(300)
                    for batch in (1, 64):
                        seconds = driver.execute_async_script(
                            "window.digitganPainter.measure(arguments[0], arguments[1]).then(arguments[2]);",
                            batch, repeats if batch == 1 else max(3, repeats // 8))
                        rates[f"batch {batch}"] = round(batch / statistics.median(seconds), 1)
                    if driver.execute_script("return Boolean(window.digitganPainter.findHand)"):
                        hand = driver.execute_async_script(FIND_HAND, base64.b64encode(HAND_SOURCE.read_bytes())
                                                           .decode(), 3, max(3, repeats // 4))
            finally:
                driver.quit()
    result = {"seconds_to_first_number": round(statistics.median(first), 3),
              "seconds_to_model_ready": round(statistics.median(ready), 3), "digits_per_second": rates}
    if hand:
        result["hand_ms"] = round(1000 * statistics.median(hand), 1)
    return result


def in_python(repeats: int) -> dict:
    """onnxruntime (CPU) on the same rounded-weight model, 1 and 2 threads, batch 1 and 64."""
    import onnxruntime

    generator, config, _ = load_generator(default_model_dir(), for_sampling=False)
    model = onnx_bytes(generator, config, {}, mantissa_bits=MANTISSA_BITS)
    rates = {}
    for threads in (1, 2):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        for batch in (1, 64):
            feeds = {"z": sample_noise(batch, config.model, torch.Generator().manual_seed(7)).numpy(),
                     "label_vector": one_hot(torch.arange(batch) % 10, 10).numpy()}
            session.run(None, feeds)
            times = []
            for _ in range(repeats if batch == 1 else max(3, repeats // 8)):
                started = time.perf_counter()
                session.run(None, feeds)
                times.append(time.perf_counter() - started)
            rates[f"{threads} thread{'s' if threads > 1 else ''}, batch {batch}"] = round(
                batch / statistics.median(times), 1)
    return rates


def page_benchmark(opens: int, repeats: int, screenshot: Path | None = None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "page.html"
        written = build_site(None, out=Path(folder) / "site", single_file=page)
        result = {"single_file_bytes": written["single_file"]["bytes"], "folder_bytes": written["folder"]["bytes"],
                  "model_gzip_bytes": written["model_gzip_bytes"],
                  "wasm_gzip_bytes": written["wasm_gzip_bytes"], "mantissa_bits": MANTISSA_BITS,
                  "encoder_gzip_bytes": written.get("encoder_gzip_bytes"),
                  "parity_max_abs": rounded_parity(), "parity_float16_equivalent": rounded_parity(mantissa_bits=10),
                  "style_checks": {name: style["rises_at_step_1"] for name, style in written["styles"].items()}}
        if available():
            result["browser"] = in_browser(page, opens, repeats, screenshot)
        else:
            result["browser"] = {"not_measured": "Debian chromium + chromium-driver are not installed"}
    result["onnxruntime_python"] = in_python(repeats)
    return result


def run(context: Context) -> None:
    opens, repeats = (1, 8) if context.smoke else (3, 200)
    context.results["page"] = page_benchmark(opens, repeats, context.args.out / "offline-page.png")
    print(f"page: {context.results['page']}", flush=True)
