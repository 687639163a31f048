"""Under load: `fast` training images/s alone and beside other work, for digitgan's default (threads fixed, so a
seed repeats exactly) and the alternatives, in interleaved rounds of fresh processes (OpenMP reads its settings
once, at start).

Scenarios: (a) alone; (b) beside a second 2-thread PyTorch process doing steady work (benchmarks/probes/
competitor.py, with a plain environment, as a user's own script has); (c) beside `digitgan serve` under a
bounded loopback request load, with the requests' p50/p99 against the same load on an idle machine; (d) DDP with
2 processes x 1 thread, and repeated `--nproc 2` launches beside the competitor, each within a time limit (the
long version of the tests' stress test: none may hang). Sampling at batch 1024 alone and beside the competitor.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks.common import Context
from benchmarks.probe import REPOSITORY, run_probe
from benchmarks.sections.serve import http_load, running_server
from digitgan.runtime import OPENMP_DEFAULTS, OPENMP_USER_KEYS

BEFORE, DEFAULT = "libgomp's own spinning, 2 threads", "digitgan default (threads fixed: repeats exactly)"
FIXED, ADAPTIVE = "2 threads fixed, GOMP_SPINCOUNT=3000", "--adapt-threads (does not repeat exactly)"
# name -> (environment changes, --threads or 0 for digitgan's default, extra `digitgan train` arguments). The default
# adds nothing: digitgan applies its OpenMP defaults itself and uses every CPU it may, fixed.
VARIANTS = {DEFAULT: ({}, 0, ()),
            FIXED: ({"GOMP_SPINCOUNT": "3000"}, 2, ()),
            ADAPTIVE: ({}, 0, ("--adapt-threads",)),
            "OMP_WAIT_POLICY=PASSIVE, 2 threads": ({"OMP_WAIT_POLICY": "PASSIVE"}, 2, ()),
            "1 thread": ({}, 1, ())}
ENVIRONMENTS = {**{name: changes for name, (changes, _, _) in VARIANTS.items()},
                BEFORE: {"DIGITGAN_OPENMP_DEFAULTS": "0"}}


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


def train_rate(steps: int, variant: str) -> float:
    changes, threads, extra = VARIANTS[variant]
    return run_probe("train_rate", steps, threads, *extra, env=environment(changes))["images_per_second"]


def sample_rate(repeats: int, variant: str) -> float:
    return run_probe("sample_rate", repeats, env=environment(ENVIRONMENTS[variant]))["images_per_second"]


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
    for name, key in ((DEFAULT, "default"), (ADAPTIVE, "adaptive")):
        if name not in VARIANTS:  # a shortened run (the tests)
            continue
        result[f"{key}_alone_vs_fixed"] = round(statistics.median(
            d / f for f, d in zip(alone[FIXED], alone[name], strict=True)), 3)
        result[f"{key}_beside_competitor_of_alone"] = round(
            statistics.median(loaded[name]) / statistics.median(alone[name]), 3)
    return result


def serve_beside_training(rounds: int, steps: int, requests: int, concurrency: int) -> dict:
    """(c): a serve process answering a bounded request load while a training runs, and the same load idle."""
    result: dict[str, dict] = {}
    for name in (DEFAULT,):
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
    """(d): 2 processes x 1 thread (`--nproc 2`, gloo) against one process x 2 threads, digitgan's defaults."""
    rows: dict[str, list[float]] = {}
    for _ in range(rounds):
        rows.setdefault("1 process", []).append(train_rate(steps, DEFAULT))
        rows.setdefault("DDP 2 processes x 1 thread", []).append(
            run_probe("train_rate", steps // 2, 0, "--nproc", "2", env=environment({}))["images_per_second"])
    return _median(rows)


def ddp_launches(count: int, limit: float) -> dict:
    """`digitgan train --nproc 2 --steps 4` `count` times beside the competitor, each given `limit` seconds (its
    process group killed past that): how many ended, how many hung, how long each took."""
    import tempfile
    from pathlib import Path

    seconds, hung, failed = [], 0, 0
    tiny = ["--set", "z_dim=8", "--set", "g_base=8", "--set", "g_stages=[[8,4,2],[8,4,2]]", "--set",
            "d_stages=[[8,4,2],[8,4,2]]", "--set", "batch_size=8", "--set", "eval_every=0", "--quiet"]
    with competitor(), tempfile.TemporaryDirectory() as folder:
        for index in range(count):
            command = [sys.executable, "-m", "digitgan", "train", "--nproc", "2", "--steps", "4", "--out",
                       str(Path(folder) / f"run{index}"), *tiny]
            started = time.monotonic()
            process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True)
            try:
                failed += process.wait(timeout=limit) != 0
                seconds.append(round(time.monotonic() - started, 2))
            except subprocess.TimeoutExpired:
                hung += 1
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    return {"launches": count, "hung": hung, "failed": failed, "limit_s": limit,
            "median_s": statistics.median(seconds) if seconds else None, "max_s": max(seconds, default=None)}


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
    results["ddp_launches"] = ddp_launches(2 if smoke else 10, 90.0)
    context.save()
    results["sampling"] = sampling_under_load(rounds, 3 if smoke else 15)
    print(f"load: {results}", flush=True)
