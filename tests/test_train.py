"""The trainer: exact resume, atomic checkpoints, NaN guard, balance, export/reload, and the CLI."""

import json
import os

import numpy as np
import pytest
import torch

from digitgan import checkpoint as ckpt
from digitgan.checkpoint import load_generator
from digitgan.config import replace
from digitgan.errors import UserError
from digitgan.explore import generate
from digitgan.models import one_hot
from digitgan.train import TrainingDiverged, train, update_balance
from digitgan.train_log import read_history
from tests.conftest import run_cli, tiny_config


def _config(tiny_npz, **changes):
    config = tiny_config(dataset=str(tiny_npz), **changes)
    return config


def _states_equal(a, b):
    for key in ("generator", "discriminator", "ema"):
        assert a[key].keys() == b[key].keys()
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), f"{key}.{name}"
    for opt in ("g_opt", "d_opt"):
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
    config = _config(tiny_npz, steps=15)
    config.train.seed = 5
    if preset == "keras-acgan":
        config = tiny_config("keras-acgan", dataset=str(tiny_npz), steps=15)  # dropout + uniform noise + 2x G batch
    train(config, tmp_path / "split", quiet=True)
    train(replace(config, steps=30), tmp_path / "split", resume=tmp_path / "split", quiet=True)
    train(replace(config, steps=30), tmp_path / "whole", quiet=True)
    split = ckpt.load_checkpoint(ckpt.resolve_checkpoint(tmp_path / "split"))
    whole = ckpt.load_checkpoint(ckpt.resolve_checkpoint(tmp_path / "whole"))
    assert split["step"] == 30 and split["epoch"] == 2
    _states_equal(split, whole)
    rows = lambda run: [(r["step"], r.get("d_loss")) for r in read_history(tmp_path / run / "history.jsonl")]  # noqa: E731
    assert rows("split") == rows("whole")


def test_checkpoints_are_weights_only_and_pruned(tiny_npz, tmp_path):
    config = _config(tiny_npz, steps=10, checkpoint_every=2, keep_checkpoints=2)
    train(config, tmp_path / "run", quiet=True)
    files = ckpt.list_checkpoints(tmp_path / "run")
    assert [f.name for f in files] == ["step-00000008.pt", "step-00000010.pt"]
    torch.load(files[-1], weights_only=True)
    assert not list((tmp_path / "run" / "checkpoints").glob(".*tmp"))


def test_crash_between_write_and_rename_keeps_previous(tiny_npz, tmp_path, monkeypatch):
    config = _config(tiny_npz, steps=4)
    train(config, tmp_path / "run", quiet=True)
    previous = ckpt.resolve_checkpoint(tmp_path / "run")

    def crash(*args, **kwargs):
        raise OSError("simulated power loss")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power loss"):
        train(replace(config, steps=8), tmp_path / "run", resume=tmp_path / "run", quiet=True)
    monkeypatch.undo()
    assert ckpt.resolve_checkpoint(tmp_path / "run") == previous
    assert ckpt.load_checkpoint(previous)["step"] == 4
    assert not [p for p in (tmp_path / "run" / "checkpoints").iterdir() if p.name != previous.name]


def test_nan_guard_stops_and_keeps_last_good(tiny_npz, tmp_path):
    config = _config(tiny_npz, steps=20, checkpoint_every=4)

    def poison(state):
        if state.step == 6:
            with torch.no_grad():
                next(state.generator.parameters()).fill_(float("nan"))

    with pytest.raises(TrainingDiverged, match=r"at step (6|7)") as info:
        train(config, tmp_path / "run", quiet=True, step_callback=poison)
    assert info.value.checkpoint.name == "step-00000004.pt"
    assert ckpt.resolve_checkpoint(tmp_path / "run").name == "step-00000004.pt"
    summary = train(replace(config, steps=8), tmp_path / "run", resume=tmp_path / "run", quiet=True)
    assert summary["step"] == 8 and summary["status"] == "finished"


def test_balance_pauses_winner_on_forced_imbalance(tiny_npz, tmp_path):
    config = _config(tiny_npz, steps=40, balance=True, lr_g=0.0, lr_d=5e-3)  # G cannot learn: D wins
    train(config, tmp_path / "run", quiet=True)
    events = [r for r in read_history(tmp_path / "run" / "history.jsonl") if r["kind"] == "balance"]
    assert events and events[0]["paused"] == "D"
    logged = [r for r in read_history(tmp_path / "run" / "history.jsonl") if r["kind"] == "log"]
    assert sum(r["d_paused_steps"] for r in logged) > 0


def test_balance_rule_both_sides():
    class S:
        balance = {"d_avg": None, "g_avg": None, "paused": ""}

    state = S()
    assert update_balance(state, d_adv=0.2, g_adv=3.0, band=[0.5, 2.0]) == "D"
    state.balance = {"d_avg": None, "g_avg": None, "paused": ""}
    assert update_balance(state, d_adv=3.0, g_adv=0.2, band=[0.5, 2.0]) == "G"
    state.balance = {"d_avg": None, "g_avg": None, "paused": "G"}
    assert update_balance(state, d_adv=1.4, g_adv=0.7, band=[0.5, 2.0]) == ""


def test_export_reload_identical_samples(tiny_npz, tmp_path):
    config = _config(tiny_npz, steps=6)
    train(config, tmp_path / "run", quiet=True)
    saved = ckpt.load_checkpoint(ckpt.resolve_checkpoint(tmp_path / "run"))
    from digitgan.models import build_generator

    ema = build_generator(config.model)
    ema.load_state_dict(saved["ema"])
    ema.eval()
    loaded, loaded_config, raw = load_generator(tmp_path / "run")
    labels = one_hot(torch.arange(10), 10)
    assert np.array_equal(generate(ema, config, labels, seed=3), generate(loaded, loaded_config, labels, seed=3))
    assert raw["step"] == 6 and loaded_config.model == config.model


def test_mismatched_weights_are_a_clear_error(tiny_npz, tmp_path):
    train(_config(tiny_npz, steps=2), tmp_path / "run", quiet=True)
    config = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    config["model"]["g_base"] = 16
    (tmp_path / "run" / "model" / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match="generator weights do not fit"):
        load_generator(tmp_path / "run")


def test_no_budget_is_an_error(tiny_npz, tmp_path):
    with pytest.raises(UserError, match="no training budget"):
        train(_config(tiny_npz), tmp_path / "run", quiet=True)


# --- CLI as a user types it -----------------------------------------------------------------------------

TINY = ["--set", "z_dim=8", "--set", "g_base=8", "--set", "g_stages=[[8,4,2],[8,4,2]]",
        "--set", "d_stages=[[8,4,2],[8,4,2]]", "--set", "batch_size=8", "--set", "log_every=2",
        "--threads", "1", "--quiet"]


def test_cli_train_sample_resume(tiny_npz, tmp_path):
    run = tmp_path / "run"
    result = run_cli("train", "--dataset", str(tiny_npz), "--steps", "14", "--out", str(run), *TINY)
    assert result.returncode == 0, result.stderr
    for name in ("history.jsonl", "loss.png", "samples/final.png", "samples/epoch-0001.png",
                 "model/config.json", "model/generator.safetensors", "checkpoints/step-00000014.pt"):
        assert (run / name).exists(), name
    result = run_cli("sample", str(run), "--digit", "7", "-n", "9", "--out", str(tmp_path / "seven.png"))
    assert result.returncode == 0, result.stderr
    from PIL import Image

    with Image.open(tmp_path / "seven.png") as picture:
        assert picture.size == (2 * (3 * 30 + 2),) * 2
    result = run_cli("sample", str(run), "--out", str(tmp_path / "all.png"), "-n", "4")
    with Image.open(tmp_path / "all.png") as picture:
        assert picture.size == (2 * (4 * 30 + 2), 2 * (10 * 30 + 2))
    result = run_cli("train", "--resume", str(run), "--steps", "16", "--threads", "1", "--quiet")
    assert result.returncode == 0, result.stderr and "step 16" in result.stdout
    result = run_cli("train", "--resume", str(run), "--set", "model.g_base=16", "--steps", "20")
    assert result.returncode == 2 and "model.g_base: 8 -> 16" in result.stderr
    result = run_cli("train", "--resume", str(run), "--preset", "keras-acgan", "--steps", "20")
    assert result.returncode == 2 and "preset: fast -> keras-acgan" in result.stderr
    result = run_cli("train", "--dataset", str(tiny_npz), "--steps", "2", "--out", str(run), *TINY)
    assert result.returncode == 2 and "already holds a run" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["train", "--preset", "nope", "--steps", "1"], "unknown preset"),
    (["train", "--steps", "5", "--minutes", "1"], "not allowed with"),
    (["train", "--steps", "5", "--set", "nosuch=1"], "no such setting"),
    (["train", "--steps", "5", "--set", "lr_g=fast"], "expected a float"),
    (["train", "--steps", "-5"], "must be positive"),
    (["train", "--steps", "5", "--dataset", "/no/such.npz"], "unknown data source"),
    (["train", "--resume", "/no/such/run"], "does not exist"),
    (["sample", "/no/such/run", "--out", "x.png"], "does not exist"),
    (["sample", "--digit", "5", "--out", "x.gif"], "--out must end in .png"),
    (["train", "--steps", "five"], "invalid int value"),
])
def test_cli_bad_input(args, message, tmp_path):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_cli_sample_bad_digit_and_unconditional(tiny_npz, tmp_path):
    run = tmp_path / "run"
    assert run_cli("train", "--dataset", str(tiny_npz), "--steps", "2", "--out", str(run), *TINY).returncode == 0
    result = run_cli("sample", str(run), "--digit", "12", "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "--digit must be 0-9" in result.stderr
    result = run_cli("sample", str(run), "--digit", "3", "--out", str(tmp_path / "x.gif"))
    assert result.returncode == 2 and ".png" in result.stderr
    plain = tmp_path / "plain"
    assert run_cli("train", "--preset", "simple-gan", "--dataset", str(tiny_npz), "--steps", "2",
                   "--set", "batch_size=8", "--out", str(plain), "--quiet").returncode == 0
    result = run_cli("sample", str(plain), "--digit", "3", "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2 and "unconditional" in result.stderr


def test_ctrl_c_saves_a_clean_checkpoint(tiny_npz, tmp_path):
    """SIGINT finishes the step, writes a checkpoint and the model, exits 130; the run then resumes."""
    import signal
    import subprocess
    import time

    from tests.conftest import BIN_DIR

    run = tmp_path / "run"
    process = subprocess.Popen([str(BIN_DIR / "digitgan"), "train", "--dataset", str(tiny_npz), "--minutes", "5",
                                "--out", str(run), *TINY[:-1]], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 60
    while not (run / "history.jsonl").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted at step" in out and "Traceback" not in err
    step = ckpt.load_checkpoint(ckpt.resolve_checkpoint(run))["step"]
    assert step > 0 and (run / "model" / "generator.safetensors").exists()
    result = run_cli("train", "--resume", str(run), "--steps", str(step + 2), "--threads", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    assert ckpt.load_checkpoint(ckpt.resolve_checkpoint(run))["step"] == step + 2
