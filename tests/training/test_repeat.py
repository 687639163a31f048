"""The same command with the same seed gives the same model, with the default settings, whatever else the machine
is doing; N steps + resume + N steps equals 2N steps. Real MNIST and the real `fast` model, so that the thread
count's effect on the numerics would show, beside a competing process."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from safetensors.torch import load_file

from tests.conftest import competing_process, run_cli

STEPS = 30  # a few seconds of real `fast` steps; the default thread count is fixed, so length changes nothing


def weights(run):
    return load_file(run / "model" / "generator.safetensors")


@pytest.mark.slow
def test_same_seed_same_model_and_exact_resume_by_default(tmp_path):
    # default threads and everything else as the preset says; only the light evaluation is off, to save time
    common = ["--preset", "fast", "--seed", "3", "--quiet", "--set", "eval_every=0"]
    with competing_process():
        # the two identical commands and the first half of the split one at the same time: each is the others'
        # load, beside the competitor
        jobs = {"a": STEPS, "b": STEPS, "c": STEPS // 2}
        with ThreadPoolExecutor(len(jobs)) as pool:
            results = list(pool.map(lambda name: run_cli("train", *common, "--steps", str(jobs[name]), "--out",
                                                         str(tmp_path / name), timeout=300), jobs))
        for result in results:
            assert result.returncode == 0, result.stderr[-2000:]
        result = run_cli("train", "--resume", str(tmp_path / "c"), "--steps", str(STEPS), "--quiet", timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
    a, b, c = (weights(tmp_path / name) for name in "abc")
    assert a.keys() == b.keys() == c.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key}: two identical commands gave different models"
        assert torch.equal(a[key], c[key]), f"{key}: {STEPS // 2} + resume + {STEPS // 2} steps != {STEPS} steps"
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["train"]["adapt_threads"] is False


def test_adaptive_threads_are_opt_in_and_recorded(tmp_path, tiny_npz):
    result = run_cli("train", "--dataset", str(tiny_npz), "--steps", "2", "--adapt-threads", "--out",
                     str(tmp_path / "run"), "--set", "z_dim=8", "--set", "g_base=8", "--set", "batch_size=8",
                     "--set", "g_stages=[[8,4,2],[8,4,2]]", "--set", "d_stages=[[8,4,2],[8,4,2]]", "--quiet")
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["adapt_threads"] is True
