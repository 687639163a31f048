"""A bounded load test of `digitgan serve` on loopback: N GET requests, C at a time, latency percentiles."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from benchmarks.common import Context

PATHS = ["/api/write?text=2026&styles=1&seed={i}", "/api/sample?digit={d}&n=16&seed={i}",
         "/api/interpolate?from=7&to=9&steps=10&seed={i}", "/api/health"]
MIX = "write 2026 / sample 16 / interpolate 10 / health, in turn"


@contextmanager
def running_server(model_dir: Path | None = None, threads: int = 2, env: dict | None = None) -> Iterator[str]:
    """`digitgan serve` in a subprocess on a free loopback port; yields its base URL once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "digitgan", "serve", "--port", str(port), "--threads", str(threads)]
    if model_dir is not None:
        command += ["--run", str(model_dir)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def http_load(base: str, requests: int, concurrency: int, paths: list[str] | None = None) -> dict:
    """`requests` GETs over `paths` in turn, `concurrency` at a time: rate, errors and latency percentiles."""
    paths = paths or PATHS
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    lock = threading.Lock()

    def client() -> None:
        nonlocal errors
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            url = base + paths[index % len(paths)].format(i=index, d=index % 10)
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    response.read()
                    ok = response.status == 200
            except OSError:
                ok = False
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(concurrency)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    return {"requests": requests, "concurrency": concurrency, "errors": errors,
            "requests_per_second": round(requests / wall, 1),
            "p50_ms": round(1000 * float(np.percentile(latencies, 50)), 1),
            "p99_ms": round(1000 * float(np.percentile(latencies, 99)), 1), "mix": MIX}


def serve_load(requests: int = 2000, concurrency: int = 32, model_dir: Path | None = None) -> dict:
    with running_server(model_dir) as base:
        return http_load(base, requests, concurrency)


def run(context: Context) -> None:
    context.results["serve_load"] = serve_load(200 if context.smoke else 2000, 8 if context.smoke else 32,
                                               context.args.model)
    print(f"serve load: {context.results['serve_load']}", flush=True)
