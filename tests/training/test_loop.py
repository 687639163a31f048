"""The trainer: exact resume, atomic checkpoints, NaN guard, balance, export/reload."""

import json
import os

import numpy as np
import pytest
import torch

from digitgan.config import with_train
from digitgan.drawing.sampling import generate
from digitgan.errors import TrainingDiverged, UserError
from digitgan.modelfolder.folder import load_generator
from digitgan.models import build_generator, one_hot
from digitgan.training import train
from digitgan.training.checkpoints import list_checkpoints, load_checkpoint, load_resumable
from digitgan.training.history import read_history
from digitgan.training.state import standing_statistics
from tests.conftest import tiny_arrays, tiny_config


def newest(run):
    return load_resumable(run)[1]


def states_equal(a, b):
    for key in ("generator", "partner", "ema"):
        assert a[key].keys() == b[key].keys()
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), f"{key}.{name}"
    for opt in ("generator_opt", "partner_opt"):
        for index, slot in a[opt]["state"].items():
            for name, value in slot.items():
                assert torch.equal(value, b[opt]["state"][index][name]), f"{opt}.{index}.{name}"
    for key in ("step", "images_seen", "epoch", "position"):
        assert a[key] == b[key]
    assert torch.equal(a["permutation"], b["permutation"])
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])


@pytest.mark.parametrize("preset", ["fast", "keras-acgan"])
def test_n_plus_resume_plus_n_equals_2n(tiny_npz, tmp_path, preset):
    # 96 images / batch 8 = 12 steps an epoch: the run crosses epochs, so data order is exercised too.
    # keras-acgan adds dropout, uniform noise and a 2x G batch.
    config = tiny_config(preset, dataset=str(tiny_npz), steps=15, seed=5)
    train(config, tmp_path / "split", quiet=True)
    train(with_train(config, steps=30), tmp_path / "split", resume=tmp_path / "split", quiet=True)
    train(with_train(config, steps=30), tmp_path / "whole", quiet=True)
    split, whole = newest(tmp_path / "split"), newest(tmp_path / "whole")
    assert split["step"] == 30 and split["epoch"] == 2
    states_equal(split, whole)
    rows = lambda run: [(r["step"], r.get("d_loss")) for r in read_history(tmp_path / run / "history.jsonl")]  # noqa: E731
    assert rows("split") == rows("whole")


def test_epoch_reports_come_when_asked_and_the_model_does_not_depend_on_them(tiny_npz, tmp_path):
    # 96 images / batch 8: 12 steps an epoch; an epoch ends when the next one draws its first batch (step 37)
    runs = {every: tmp_path / f"every-{every}" for every in (1, 2, 0)}
    for every, run in runs.items():
        train(tiny_config(dataset=str(tiny_npz), steps=37, seed=2, epoch_report_every=every), run, quiet=True)
    grids = {every: sorted(p.name for p in (run / "samples").glob("epoch-*.png")) for every, run in runs.items()}
    assert grids == {1: ["epoch-0001.png", "epoch-0002.png", "epoch-0003.png"], 2: ["epoch-0002.png"], 0: []}
    states_equal(newest(runs[1]), newest(runs[0]))
    states_equal(newest(runs[2]), newest(runs[0]))


def test_checkpoints_are_weights_only_and_pruned(tiny_npz, tmp_path):
    train(tiny_config(dataset=str(tiny_npz), steps=10, checkpoint_every=2, keep_checkpoints=2), tmp_path / "run",
          quiet=True)
    files = list_checkpoints(tmp_path / "run")
    assert [f.name for f in files] == ["step-00000008.pt", "step-00000010.pt"]
    torch.load(files[-1], weights_only=True)
    assert not list((tmp_path / "run" / "checkpoints").glob(".*tmp"))
    saved_config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved_config["train"]["steps"] == 10  # the resolved config is written into the run


def test_crash_between_write_and_rename_keeps_previous(tiny_npz, tmp_path, monkeypatch):
    config = tiny_config(dataset=str(tiny_npz), steps=4)
    train(config, tmp_path / "run", quiet=True)
    previous = list_checkpoints(tmp_path / "run")[-1]

    def crash(*args, **kwargs):
        raise OSError("simulated power loss")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power loss"):
        train(with_train(config, steps=8), tmp_path / "run", resume=tmp_path / "run", quiet=True)
    monkeypatch.undo()
    assert list_checkpoints(tmp_path / "run") == [previous]
    assert load_checkpoint(previous)["step"] == 4
    assert not [p for p in (tmp_path / "run" / "checkpoints").iterdir() if p.name != previous.name]


def test_damaged_newest_checkpoint_falls_back_with_a_warning(tiny_npz, tmp_path, capsys):
    config = tiny_config(dataset=str(tiny_npz), steps=6, checkpoint_every=2, keep_checkpoints=3)
    train(config, tmp_path / "run", quiet=True)
    files = list_checkpoints(tmp_path / "run")
    assert [f.name for f in files] == ["step-00000002.pt", "step-00000004.pt", "step-00000006.pt"]
    files[-1].write_bytes(files[-1].read_bytes()[:5000])  # truncated, as by a full disk
    capsys.readouterr()
    summary = train(with_train(config, steps=8), tmp_path / "run", resume=tmp_path / "run", quiet=True)
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "step-00000006.pt is damaged" in warning[0] and "step-00000004.pt" in warning[0]
    assert summary["step"] == 8 and summary["steps_this_run"] == 4
    assert (tmp_path / "run" / "checkpoints" / "step-00000006.pt.damaged").exists()  # set aside, not deleted
    assert list_checkpoints(tmp_path / "run")[-1].name == "step-00000008.pt"


def test_no_checkpoint_loads_is_one_error(tiny_npz, tmp_path):
    train(tiny_config(dataset=str(tiny_npz), steps=2), tmp_path / "run", quiet=True)
    for path in list_checkpoints(tmp_path / "run"):
        path.write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="none of the 1 checkpoints"):
        load_resumable(tmp_path / "run")


def test_nan_guard_stops_and_keeps_last_good(tiny_npz, tmp_path):
    config = tiny_config(dataset=str(tiny_npz), steps=20, checkpoint_every=4)

    def poison(state):
        if state.step == 6:
            with torch.no_grad():
                next(state.generator.parameters()).fill_(float("nan"))

    with pytest.raises(TrainingDiverged, match=r"at step (6|7)") as info:
        train(config, tmp_path / "run", quiet=True, step_callback=poison)
    assert info.value.checkpoint.name == "step-00000004.pt"
    assert list_checkpoints(tmp_path / "run")[-1].name == "step-00000004.pt"
    summary = train(with_train(config, steps=8), tmp_path / "run", resume=tmp_path / "run", quiet=True)
    assert summary["step"] == 8 and summary["status"] == "finished"


def test_balance_pauses_winner_on_forced_imbalance(tiny_npz, tmp_path):
    config = tiny_config(dataset=str(tiny_npz), steps=40, balance=True, lr_g=0.0, lr_d=5e-3)  # G cannot learn
    train(config, tmp_path / "run", quiet=True)
    rows = read_history(tmp_path / "run" / "history.jsonl")
    events = [r for r in rows if r["kind"] == "balance"]
    assert events and events[0]["paused"] == "D"
    assert sum(r["d_paused_steps"] for r in rows if r["kind"] == "log") > 0


@pytest.mark.parametrize("standing", [0, 3])
def test_export_reload_identical_samples(tiny_npz, tmp_path, standing):
    """The exported generator is the checkpoint's EMA, with its standing statistics recomputed when configured."""
    config = tiny_config(dataset=str(tiny_npz), steps=6, standing_stats=standing)
    train(config, tmp_path / "run", quiet=True)
    ema = build_generator(config.model)
    ema.load_state_dict(newest(tmp_path / "run")["ema"])
    ema.eval()
    expected = standing_statistics(ema, config, standing, seed=config.train.seed + 7)
    loaded, loaded_config, raw = load_generator(tmp_path / "run")
    labels = one_hot(torch.arange(10), 10)
    exported = generate(loaded, loaded_config, labels, seed=3).astype(int)
    if standing:  # recomputed in the trainer's memory layout: the sums round differently, by a grey level at most
        assert np.abs(generate(expected, config, labels, seed=3) - exported).max() <= 1
        assert np.abs(generate(ema, config, labels, seed=3) - exported).max() > 8, "not the copied statistics"
    else:
        assert np.array_equal(generate(ema, config, labels, seed=3), exported)
    assert raw["step"] == 6 and loaded_config.model == config.model


def test_export_averages_the_last_checkpoints(tiny_npz, tmp_path):
    """average_checkpoints 3: the exported G is the mean of the EMA at the last two regular checkpoints and the final
    state; a run trained in slices (a checkpoint off the grid where it stopped) exports the same model."""
    config = tiny_config(dataset=str(tiny_npz), steps=7, checkpoint_every=2, keep_checkpoints=5, standing_stats=0,
                         average_checkpoints=3)
    train(config, tmp_path / "run", quiet=True)
    saved = {int(path.stem.split("-")[1]): load_checkpoint(path)["ema"] for path in list_checkpoints(tmp_path / "run")}
    assert sorted(saved) == [2, 4, 6, 7]
    loaded, _, raw = load_generator(tmp_path / "run", for_sampling=False)
    assert raw["averaged_steps"] == [4, 6, 7]
    for name, tensor in loaded.state_dict().items():
        expected = (torch.stack([saved[step][name] for step in (4, 6, 7)]).mean(0)
                    if tensor.is_floating_point() else saved[7][name])
        assert torch.allclose(tensor, expected, atol=1e-6), name
    assert any(not torch.equal(tensor, saved[7][name]) for name, tensor in loaded.state_dict().items()
               if tensor.is_floating_point()), "not the final EMA"
    assert "averaged over the checkpoints at steps 4, 6 and 7" in (tmp_path / "run" / "model" / "README.md").read_text()
    train(with_train(config, steps=3), tmp_path / "sliced", quiet=True)
    train(with_train(config, steps=7), tmp_path / "sliced", resume=tmp_path / "sliced", quiet=True)
    # a finished run trained without averaging gets it by a resume at its budget: no step trained, re-exported
    train(with_train(config, average_checkpoints=1), tmp_path / "later", quiet=True)
    summary = train(config, tmp_path / "later", resume=tmp_path / "later", quiet=True)
    assert summary["steps_this_run"] == 0
    for run in ("sliced", "later"):
        again, _, again_raw = load_generator(tmp_path / run, for_sampling=False)
        assert again_raw["averaged_steps"] == [4, 6, 7]
        for name, tensor in loaded.state_dict().items():
            assert torch.equal(tensor, again.state_dict()[name]), f"{run}: {name}"


def test_averaging_needs_the_checkpoints_kept(tiny_npz, tmp_path):
    config = tiny_config(dataset=str(tiny_npz), steps=4, checkpoint_every=2, keep_checkpoints=2, average_checkpoints=3)
    with pytest.raises(UserError, match=r"average_checkpoints 3 .* keep_checkpoints \(2\) at least 3"):
        train(config, tmp_path / "run", quiet=True)


def test_mismatched_weights_are_a_clear_error(tiny_npz, tmp_path):
    train(tiny_config(dataset=str(tiny_npz), steps=2), tmp_path / "run", quiet=True)
    config = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    config["model"]["g_base"] = 16
    (tmp_path / "run" / "model" / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match="generator weights do not fit"):
        load_generator(tmp_path / "run")


def test_no_budget_is_an_error(tiny_npz, tmp_path):
    with pytest.raises(UserError, match="no training budget"):
        train(tiny_config(dataset=str(tiny_npz)), tmp_path / "run", quiet=True)
    assert not (tmp_path / "run").exists(), "a refused run leaves nothing behind"


def test_ddp_refuses_minibatch_groups_that_would_mix_real_and_fake(tiny_npz):
    from digitgan.data import load_dataset
    from digitgan.training.distributed import Dist
    from digitgan.training.loop import check_trainable

    config = tiny_config(dataset=str(tiny_npz), steps=1)
    config.model.d_mbstd = 3  # batch 8: a group would straddle the real and the fake half of D's one forward
    train_set = load_dataset(str(tiny_npz), "train")
    check_trainable(config, train_set, Dist())  # one process steps real and fake apart: allowed
    with pytest.raises(UserError, match="batch_size 8 must be a multiple of d_mbstd 3"):
        check_trainable(config, train_set, Dist(world=2))
    config.model.d_mbstd = 4
    check_trainable(config, train_set, Dist(world=2))


def test_minutes_budget_excludes_periodic_work(tmp_path):
    # a larger tiny set and a history row every 50 steps: the tiny model takes thousands of steps in the budget, and
    # the periodic work of a 96-image set (an epoch table, grid and plot every 12 steps) would cost the test ten
    # times the budget, though none of it counts as training time
    images, labels = tiny_arrays(1920)
    np.savez(tmp_path / "tiny.npz", x_train=images, y_train=labels, x_test=images[:64], y_test=labels[:64])
    summary = train(tiny_config(dataset=str(tmp_path / "tiny.npz"), minutes=0.02, log_every=50), tmp_path / "run",
                    quiet=True)
    assert summary["status"] == "finished" and 1.0 <= summary["seconds"] < 5.0


def test_learning_rate_decay_follows_images_seen(tiny_npz, tmp_path):
    from digitgan.training.state import learning_rate_scale

    config = tiny_config(dataset=str(tiny_npz), steps=10, lr_decay_after=40, lr_half_life=20)
    assert learning_rate_scale(config, 40) == 1.0 and learning_rate_scale(config, 60) == 0.5
    train(config, tmp_path / "run", quiet=True)
    saved = newest(tmp_path / "run")
    expected = config.train.lr_g * learning_rate_scale(config, 9 * 8)  # set before the 10th step (72 images seen)
    assert saved["generator_opt"]["param_groups"][0]["lr"] == pytest.approx(expected)


@pytest.mark.parametrize("has_bf16", [False, True, None])
def test_cpu_amp_on_a_cpu_without_bf16_units_says_it_trains_slower(tiny_npz, tmp_path, capsys, monkeypatch,
                                                                     has_bf16):
    import digitgan.training.loop as loop

    monkeypatch.setattr(loop, "cpu_has_bf16", lambda: has_bf16)
    train(tiny_config(dataset=str(tiny_npz), steps=2, cpu_amp=True), tmp_path / "run")
    said = "cpu_amp: this CPU has no bf16 units" in capsys.readouterr().err
    assert said == (has_bf16 is False)  # only when the flags were read and lack them
