"""Data amplification: the quick sweep runs end to end from the command line and resumes; the protocol holds — the
small-data generator is given its subset's file and nothing else, and every real batch it trains on comes from the
subset; every classifier arm gets the same number of optimizer steps."""

import json

import numpy as np
import pytest
import torch

from digitgan.data import load_dataset
from digitgan.images import to_uint8
from digitgan.studies import amplify as study
from digitgan.studies.amplify import AmplifySettings, arm_names, subset_indices, training_stream
from tests.conftest import run_cli


def test_subsets_are_k_per_class_and_differ_by_seed():
    labels = load_dataset("mnist", "train").labels
    first, again, other = subset_indices(labels, 3, 0), subset_indices(labels, 3, 0), subset_indices(labels, 3, 1)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert np.bincount(labels[first], minlength=10).tolist() == [3] * 10


def test_every_arm_trains_the_same_number_of_steps():
    images, labels = np.zeros((7, 28, 28), np.uint8), np.arange(7) % 10
    for count in (7, 70, 700):
        stream, _ = training_stream(np.resize(images, (count, 28, 28)), np.resize(labels, count), 5, 32, seed=0)
        assert len(stream) == 5 * 32  # steps x batch, whatever the set's size
    _, stream_labels = training_stream(images, labels, 3, 7, seed=1)
    assert sorted(stream_labels.tolist()) == sorted(np.tile(labels, 3).tolist())  # whole passes: each image 3 times


def test_the_small_data_generator_sees_only_its_subset(tmp_path, monkeypatch):
    from digitgan.training import loop, objective

    loaded, seen = [], []
    real_load, real_next = loop.load_dataset, objective.next_batch

    def spy_load(source, split, *args, **kwargs):
        loaded.append((str(source), split))
        return real_load(source, split, *args, **kwargs)

    def spy_next(state, images, labels, batch_size):
        real, real_labels = real_next(state, images, labels, batch_size)
        seen.append(to_uint8(real.detach()))
        return real, real_labels

    monkeypatch.setattr(loop, "load_dataset", spy_load)
    monkeypatch.setattr(objective, "next_batch", spy_next)
    train = load_dataset("mnist", "train")
    chosen = subset_indices(train.labels, 2, 0)
    settings = AmplifySettings.quick()
    study.train_small_generator(train.images[chosen], train.labels[chosen], settings, 0, "translation-cutout",
                                tmp_path / "gen")
    subset_file = str(tmp_path / "gen" / "subset.npz")
    assert loaded and {source for source, _ in loaded} == {subset_file}
    allowed = {image.tobytes() for image in train.images[chosen]}
    batches = np.concatenate(seen)
    assert len(batches) >= settings.generator_steps and all(image.tobytes() in allowed for image in batches)


def test_a_stop_during_a_generator_stops_the_sweep_and_the_generator_resumes(tmp_path, monkeypatch):
    import os
    import signal

    import pytest

    from digitgan.training import train as real_train

    def interrupted(config, run_dir, **options):  # Ctrl-C during step 2
        def press(state):
            if state.step == 2:
                os.kill(os.getpid(), signal.SIGINT)
        return real_train(config, run_dir, step_callback=press, **options)

    data = load_dataset("mnist", "train")
    chosen = subset_indices(data.labels, 2, 0)
    settings = AmplifySettings.quick()
    monkeypatch.setattr(study, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):  # not a half-trained generator taken as the finished one
        study.train_small_generator(data.images[chosen], data.labels[chosen], settings, 0, "none", tmp_path / "g")
    monkeypatch.setattr(study, "train", real_train)
    _, _, facts = study.train_small_generator(data.images[chosen], data.labels[chosen], settings, 0, "none",
                                              tmp_path / "g")
    assert facts["steps"] == settings.generator_steps
    summary = json.loads((tmp_path / "g" / "run" / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["steps_this_run"] == settings.generator_steps - 2  # resumed


@pytest.mark.slow
def test_quick_sweep_runs_end_to_end_and_resumes(tmp_path):
    out = tmp_path / "amplify"
    result = run_cli("amplify", "--quick", "--out", str(out), timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((out / "amplify.json").read_text())
    names = arm_names(AmplifySettings.quick())
    assert set(results["units"]) == {"k=2 seed=0", "k=2 seed=1"}
    for unit in results["units"].values():
        assert list(unit["arms"]) == names and all(0 <= v <= 1 for v in unit["arms"].values())
        assert set(unit["generators"]) == {"none", "translation-cutout"}
    report = (out / "amplify.md").read_text()
    assert "## k = 2 per class" in report and "real + affine" in report and "upper bound" in report
    assert "(12/24 arms" in result.stdout or "arms," in result.stdout  # progress lines
    assert "](amplification/k2-translation-cutout.png)" in report and "Not finished" not in report
    assert (out / "amplification" / "k2-none.png").is_file()
    # run again: everything is there, nothing retrains
    again = run_cli("amplify", "--quick", "--out", str(out), timeout=60)
    assert again.returncode == 0 and "test accuracy" not in again.stdout
    # other settings on the same folder: one line, exit 2, the results untouched
    other = run_cli("amplify", "--out", str(out), "--k", "3")
    assert other.returncode == 2 and "other settings" in other.stderr and len(other.stderr.strip().splitlines()) == 1
    assert json.loads((out / "amplify.json").read_text()) == results
    # a stopped sweep's report says how far it got (rendered again from the results, nothing trained)
    del results["units"]["k=2 seed=1"]["arms"]["real"]
    (out / "amplify.json").write_text(json.dumps(results))
    rendered = run_cli("amplify", "--out", str(out), "--report-only")
    assert rendered.returncode == 0 and "Not finished**: 1 of 2" in (out / "amplify.md").read_text()


def test_random_affine_moves_digits_but_keeps_them():
    images = load_dataset("mnist", "test").images[:64]
    moved = study.random_affine(images, torch.Generator().manual_seed(0))
    assert moved.shape == images.shape and moved.dtype == np.uint8
    assert not np.array_equal(moved, images)
    ink = images.astype(float).sum((1, 2))
    assert np.all(np.abs(moved.astype(float).sum((1, 2)) / ink - 1) < 0.35)  # scaled by 0.9-1.1, mostly kept
