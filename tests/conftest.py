"""Shared fixtures: deterministic torch, tiny data sets written in every supported format."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from digitgan.runtime import apply_openmp_defaults

# The test process trains in-process too: give it the OpenMP waiting defaults every digitgan command starts with,
# before torch loads, so that a busy machine (CI beside other jobs) does not make libgomp's long spinning ruinous.
apply_openmp_defaults()

import numpy as np  # noqa: E402 - after the OpenMP defaults, which must precede torch's start
import pytest  # noqa: E402

from digitgan.data.idx import write_idx  # noqa: E402

BIN_DIR = Path(sys.executable).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first (in their files' order otherwise): the two workers of `make test`, dealt one test at a
    time (--maxschedchunk 1, see the Makefile), then share the long ones while there are many short ones left to even
    out their finish, instead of one worker ending on a minute-long test while the other waits."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def run_group(command: list[str], cwd: Path | None = None, env: dict | None = None,
              timeout: float = 600) -> subprocess.CompletedProcess:
    """Run `command` in a process group of its own; on timeout, kill the whole group (every rank a launcher
    started too, so that a hung test leaves nothing behind) and raise TimeoutExpired."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                               env=env, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process.pid)
        process.communicate()
        raise
    finally:
        kill_group(process.pid)  # whatever the command left running in its group
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server a test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the installed console script the way a user types it (in its own process group, see run_group)."""
    full_env = dict(os.environ, **(env or {}))
    return run_group([str(BIN_DIR / "digitgan"), *args], cwd=cwd, env=full_env, timeout=timeout)


COMPETITOR = """
import torch
torch.set_num_threads(2)
a = torch.randn(384, 384)
print("ready", flush=True)
while True:
    a = torch.tanh(a @ a.T / 384)
"""


_COMPETITOR: list[subprocess.Popen] = []  # one busy process for the whole session, paused while no test needs it


@contextmanager
def competing_process() -> Iterator[None]:
    """A busy 2-thread PyTorch process beside the block (a user's own script on the same cores). One process serves
    every test that needs one: started once, resumed (SIGCONT) for the block and paused (SIGSTOP) after it."""
    if not _COMPETITOR or _COMPETITOR[0].poll() is not None:
        process = subprocess.Popen([sys.executable, "-c", COMPETITOR], stdout=subprocess.PIPE, text=True,
                                   start_new_session=True)
        process.stdout.readline()
        _COMPETITOR[:] = [process]
    else:
        os.kill(_COMPETITOR[0].pid, signal.SIGCONT)
    try:
        yield
    finally:
        os.kill(_COMPETITOR[0].pid, signal.SIGSTOP)


@pytest.fixture(scope="session", autouse=True)
def _end_the_competitor() -> Iterator[None]:
    yield
    for process in _COMPETITOR:
        process.kill()
        process.wait()


def tiny_arrays(count: int = 40, classes: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images whose class is visible: class c lights up row band c. (count, 28, 28) uint8, (count,) int64."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.int64) % classes
    images = rng.integers(0, 30, size=(count, 28, 28), dtype=np.uint8)
    for index, label in enumerate(labels):
        images[index, 2 * label + 2: 2 * label + 5, 4:24] = 250
    return images, labels


@pytest.fixture
def idx_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "idx"
    directory.mkdir()
    train_x, train_y = tiny_arrays(40)
    test_x, test_y = tiny_arrays(20, seed=1)
    write_idx(directory / "train-images-idx3-ubyte.gz", train_x, compress=True)
    write_idx(directory / "train-labels-idx1-ubyte.gz", train_y.astype(np.uint8), compress=True)
    write_idx(directory / "t10k-images-idx3-ubyte", test_x)
    write_idx(directory / "t10k-labels-idx1-ubyte", test_y.astype(np.uint8))
    return directory


@pytest.fixture(autouse=True)
def _deterministic_torch():
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)
    yield


def tiny_config(preset: str = "fast", **train_changes):
    """A preset shrunk to a few thousand weights so a step takes milliseconds."""
    from digitgan.config import RunConfig, load_preset

    config = load_preset(preset)
    model = config.model
    model.z_dim = 8
    model.g_dense = [16] * len(model.g_dense)
    model.g_base = 8
    model.g_stages = [[8, stage[1], stage[2]] for stage in model.g_stages]
    model.d_stages = [[8, stage[1], stage[2]] for stage in model.d_stages]
    model.d_dense = [16] * len(model.d_dense)
    config.train.batch_size = 8
    config.train.g_batch_multiplier = min(config.train.g_batch_multiplier, 2)
    config.train.log_every = 2
    config.train.checkpoint_every = 0
    config.train.eval_every = 0  # tiny data sets have no reference classifier
    # a few batches of standing statistics, not the preset's hundred: every grid and export recomputes them
    config.train.standing_stats = min(config.train.standing_stats, 4)
    for key, value in train_changes.items():
        setattr(config.train, key, value)
    return RunConfig.from_dict(config.to_dict())  # checked, as every config reaching the trainer is


@pytest.fixture
def small_real_floor(monkeypatch):
    """Evaluations judge against a real floor of 1,000 real training images instead of 10,000: for the tests that
    check the evaluation's machinery, not its figures. Its real side is computed once per machine, like the full one
    (evaluate.stored), and kept apart from it (the floor's size is part of its key)."""
    import digitgan.evaluate.report as report

    monkeypatch.setattr(report, "FLOOR_SIZE", 1000)


@pytest.fixture
def tiny_npz(tmp_path: Path) -> Path:
    images, labels = tiny_arrays(96)
    test_images, test_labels = tiny_arrays(32, seed=3)
    path = tmp_path / "tiny.npz"
    np.savez(path, x_train=images, y_train=labels, x_test=test_images, y_test=test_labels)
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A fast-preset run of 4 steps on tiny data: the model the exploration, serve and CLI tests draw with."""
    from digitgan.training import train

    folder = tmp_path_factory.mktemp("tiny-run")
    images, labels = tiny_arrays(96)
    np.savez(folder / "tiny.npz", x_train=images, y_train=labels, x_test=images[:16], y_test=labels[:16])
    train(tiny_config(dataset=str(folder / "tiny.npz"), steps=4), folder / "run", quiet=True)
    return folder / "run"


def resumes_exactly(tmp_path: Path, config_for) -> bool:
    """Whether a run of config_for(6) equals config_for(3) + resume + config_for(6), bit for bit (one machine)."""
    import torch
    from safetensors.torch import load_file

    from digitgan.training import train

    train(config_for(6), tmp_path / "whole", quiet=True)
    train(config_for(3), tmp_path / "split", quiet=True)
    train(config_for(6), tmp_path / "split", resume=tmp_path / "split", quiet=True)
    whole = load_file(str(tmp_path / "whole" / "model" / "generator.safetensors"))
    split = load_file(str(tmp_path / "split" / "model" / "generator.safetensors"))
    return all(torch.equal(whole[name], split[name]) for name in whole)
