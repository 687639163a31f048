"""Under load: `fast` training images/s alone and beside other work, for digitgan's OpenMP defaults and the
alternatives, in interleaved rounds of fresh processes (OpenMP reads its settings once, at start).

Scenarios: (a) alone; (b) beside a second 2-thread PyTorch process doing steady work (benchmarks/probes/
competitor.py, with a plain environment, as a user's own script has); (c) beside `digitgan serve` under a
bounded loopback request load, with the requests' p50/p99 against the same load on an idle machine; (d) DDP with
2 processes x 1 thread. Sampling at batch 1024 alone and beside the competitor.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks.common import Context
from benchmarks.probe import REPOSITORY, run_probe
from benchmarks.sections.serve import http_load, running_server
from digitgan.runtime import OPENMP_DEFAULTS, OPENMP_USER_KEYS

BEFORE, DEFAULT = "before (libgomp's spinning, 2 threads)", "digitgan default"
# name -> (environment changes, --threads or 0 for digitgan's default). The default adds nothing: digitgan applies
# its OpenMP defaults itself, and without --threads its trainer adapts the thread count (runtime.ThreadGovernor).
VARIANTS = {BEFORE: ({"DIGITGAN_OPENMP_DEFAULTS": "0"}, 2),
            DEFAULT: ({}, 0),
            "short spin alone (default spin, 2 threads fixed)": ({}, 2),
            "OMP_WAIT_POLICY=PASSIVE, 2 threads": ({"OMP_WAIT_POLICY": "PASSIVE"}, 2),
            "1 thread": ({}, 1)}


def environment(changes: dict[str, str]) -> dict[str, str]:
    """This process's environment without any OpenMP waiting setting, plus `changes`."""
    env = {k: v for k, v in os.environ.items() if k not in (*OPENMP_USER_KEYS, "DIGITGAN_OPENMP_DEFAULTS")}
    return {**env, **changes}


@contextmanager
def competitor(threads: int = 2) -> Iterator[None]:
    """A busy 2-thread PyTorch process (libgomp's defaults), running until the block ends."""
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.probes.competitor", str(threads)], cwd=REPOSITORY,
                               stdout=subprocess.PIPE, text=True, env=environment({}))
    try:
        process.stdout.readline()  # "ready"
        yield
    finally:
        process.kill()
        process.wait()


def train_rate(steps: int, variant: str, *extra: str) -> float:
    changes, threads = VARIANTS[variant]
    return run_probe("train_rate", steps, threads, *extra, env=environment(changes))["images_per_second"]


def sample_rate(repeats: int, variant: str) -> float:
    return run_probe("sample_rate", repeats, env=environment(VARIANTS[variant][0]))["images_per_second"]


def _median(rows: dict[str, list[float]]) -> dict[str, dict]:
    return {name: {"images_per_second": round(statistics.median(values), 1),
                   "rounds": [round(v, 1) for v in values]} for name, values in rows.items()}


def training_under_load(rounds: int, steps: int) -> dict:
    """(a) and (b) for every variant: a round runs each variant once alone and once beside the competitor."""
    alone: dict[str, list[float]] = {name: [] for name in VARIANTS}
    loaded: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for index in range(rounds):
        for name in VARIANTS:
            alone[name].append(train_rate(steps, name))
        with competitor():
            for name in VARIANTS:
                loaded[name].append(train_rate(steps, name))
        print(f"load round {index + 1}: alone {[round(v[-1]) for v in alone.values()]}, beside a competitor "
              f"{[round(v[-1]) for v in loaded.values()]}", flush=True)
    result = {"alone": _median(alone), "beside_competitor": _median(loaded)}
    for name in VARIANTS:
        result["beside_competitor"][name]["of_alone"] = round(
            statistics.median(b / a for a, b in zip(alone[name], loaded[name], strict=True)), 3)
    before, default = alone[BEFORE], alone[DEFAULT]
    result["default_alone_vs_before"] = round(statistics.median(d / b for b, d in zip(before, default, strict=True)),
                                              3)
    result["default_beside_competitor_of_alone"] = round(
        statistics.median(loaded[DEFAULT]) / statistics.median(alone[DEFAULT]), 3)
    return result


def serve_beside_training(rounds: int, steps: int, requests: int, concurrency: int) -> dict:
    """(c): a serve process answering a bounded request load while a training runs, and the same load idle."""
    result: dict[str, dict] = {}
    for name in (BEFORE, DEFAULT):
        env = environment(VARIANTS[name][0])
        with running_server(threads=2, env=env) as base:
            idle = http_load(base, requests, concurrency)
            rates, during = [], []
            for _ in range(rounds):
                outcome: dict = {}
                load = threading.Thread(target=lambda: outcome.update(http_load(base, requests, concurrency)))  # noqa: B023
                load.start()
                rates.append(train_rate(steps, name))
                load.join()
                during.append(outcome)
        result[name] = {"idle_p50_ms": idle["p50_ms"], "idle_p99_ms": idle["p99_ms"],
                        "p50_ms": statistics.median(d["p50_ms"] for d in during),
                        "p99_ms": statistics.median(d["p99_ms"] for d in during),
                        "errors": sum(d["errors"] for d in during),
                        "training_images_per_second": round(statistics.median(rates), 1)}
        result[name]["p99_vs_idle"] = round(result[name]["p99_ms"] / result[name]["idle_p99_ms"], 2)
    return result


def ddp_rates(rounds: int, steps: int) -> dict:
    """(d): 2 processes x 1 thread (torchrun, gloo) against one process x 2 threads, per variant."""
    rows: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name in (BEFORE, DEFAULT):
            rows.setdefault(f"{name}: 1 process", []).append(train_rate(steps, name))
            rows.setdefault(f"{name}: DDP 2 processes x 1 thread", []).append(
                run_probe("train_rate", steps // 2, 0, "--nproc", "2", env=environment(VARIANTS[name][0]))[
                    "images_per_second"])
    return _median(rows)


def sampling_under_load(rounds: int, repeats: int) -> dict:
    alone: dict[str, list[float]] = {}
    loaded: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name in (BEFORE, DEFAULT):
            alone.setdefault(name, []).append(sample_rate(repeats, name))
        with competitor():
            for name in (BEFORE, DEFAULT):
                loaded.setdefault(name, []).append(sample_rate(repeats, name))
    return {"alone": _median(alone), "beside_competitor": _median(loaded)}


def run(context: Context) -> None:
    smoke = context.smoke
    rounds, steps = (1, 20) if smoke else (context.args.load_rounds, 1000)
    results = context.results["load"] = {"defaults": dict(OPENMP_DEFAULTS), "steps_per_measurement": steps,
                                         "rounds": rounds}
    results["training"] = training_under_load(rounds, steps)
    context.save()
    results["serve"] = serve_beside_training(rounds, steps, 40 if smoke else 400, 4 if smoke else 8)
    context.save()
    results["ddp"] = ddp_rates(rounds, steps)
    context.save()
    results["sampling"] = sampling_under_load(rounds, 3 if smoke else 15)
    print(f"load: {results}", flush=True)
