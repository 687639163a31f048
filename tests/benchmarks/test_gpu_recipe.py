"""The GPU recipe section ("gpu_recipe"): without CUDA it records 'not measured' and the command; its code path
(train each candidate, rank, grade the chosen one on seed 0, the long run) runs on the CPU in the smoke; the
candidates keep the EMA horizon in images and are valid configurations."""

import json
from types import SimpleNamespace

import pytest
import torch

from benchmarks.report import _gpu_recipe
from benchmarks.sections import gpu_recipe
from digitgan.config import load_preset, with_settings
from digitgan.models import check_buildable


def test_candidates_scale_the_batch_and_keep_the_ema_horizon_in_images():
    base = load_preset(gpu_recipe.PRESET).train
    for changes in gpu_recipe.CANDIDATES.values():
        config = with_settings(load_preset(gpu_recipe.PRESET), changes)
        check_buildable(config.model)
        t = config.train
        steps_of_half_life = lambda decay: 0.6931 / -torch.log(torch.tensor(decay)).item()  # noqa: E731
        images = steps_of_half_life(t.ema_decay) * t.batch_size
        assert images == pytest.approx(steps_of_half_life(base.ema_decay) * base.batch_size, rel=0.01)
        assert base.lr_g <= t.lr_g <= 3e-3


@pytest.mark.skipif(torch.cuda.is_available(), reason="measures for real on a CUDA machine")
def test_without_cuda_it_says_not_measured_and_gives_the_command():
    context = SimpleNamespace(smoke=False, results={})
    gpu_recipe.run(context)
    data = context.results["gpu_recipe"]
    assert data["available"] is False and data["command"] == gpu_recipe.COMMAND
    text = "\n".join(_gpu_recipe(context.results))
    assert "Not measured: no CUDA device" in text and gpu_recipe.COMMAND in text


def test_the_section_ranks_grades_the_chosen_one_on_seed_0_and_renders(tmp_path, monkeypatch):
    # two small candidates, the evaluation replaced by figures that make "b" the better one on every measure
    monkeypatch.setattr(gpu_recipe, "CANDIDATES", {"a": {}, "b": {"batch_size": 32}})
    graded = []

    def scores(run_dir, seed, smoke):
        graded.append((run_dir.name, seed))
        good = run_dir.name == "b"
        return {"accuracy": 0.99, "fcd": 0.6 if good else 0.9, "precision": 0.8, "recall": 0.81 if good else 0.7,
                "coverage": 0.87 if good else 0.8, "broken": 0.003 if good else 0.01}

    monkeypatch.setattr(gpu_recipe, "scores", scores)
    saved = []
    args = SimpleNamespace(runs=tmp_path / "runs")
    context = SimpleNamespace(smoke=True, results={}, args=args, save=lambda: saved.append(1))
    gpu_recipe.run(context)
    data = json.loads(json.dumps(context.results["gpu_recipe"]))
    assert set(data["candidates"]) == {"a", "b"} and all(row["steps"] > 0 for row in data["candidates"].values())
    assert data["chosen"]["name"] == "b" and data["chosen"]["meets_target"] is True
    assert graded == [("a", 1), ("b", 1), ("b", 0), ("b", 1), ("b", 0)]  # screen on 1; seed 0 for the chosen only
    assert data["long"]["name"] == "b" and saved
    text = "\n".join(_gpu_recipe({"gpu_recipe": data}))
    assert "| b |" in text and "target met" in text
