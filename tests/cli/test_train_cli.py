"""`digitgan train` and `digitgan sample` as a user types them: in process (CliRunner), and a few real processes
for what only real processes show (the run lock, kill -9, Ctrl-C)."""

import json
import signal
import subprocess
import time

import pytest
from PIL import Image

from digitgan.training.checkpoints import list_checkpoints, load_resumable
from tests.cli.conftest import one_line_error
from tests.conftest import BIN_DIR, run_cli

TINY = ["--set", "z_dim=8", "--set", "g_base=8", "--set", "g_stages=[[8,4,2],[8,4,2]]",
        "--set", "d_stages=[[8,4,2],[8,4,2]]", "--set", "batch_size=8", "--set", "log_every=2",
        "--set", "eval_every=0", "--threads", "1", "--quiet"]


def step_of(run):
    return load_resumable(run)[1]["step"]


def test_train_sample_resume(invoke, tiny_npz, tmp_path):
    run = tmp_path / "run"
    result = invoke("train", "--dataset", str(tiny_npz), "--steps", "14", "--out", str(run), *TINY)
    assert result.exit_code == 0, result.stderr
    assert "finished at step 14" in result.stdout
    for name in ("history.jsonl", "loss.png", "samples/final.png", "samples/epoch-0001.png", "config.json",
                 "model/config.json", "model/generator.safetensors", "checkpoints/step-00000014.pt", "summary.json"):
        assert (run / name).exists(), name
    result = invoke("sample", str(run), "--digit", "7", "-n", "9", "--out", str(tmp_path / "seven.png"))
    assert result.exit_code == 0, result.stderr
    with Image.open(tmp_path / "seven.png") as picture:
        assert picture.size == (2 * (3 * 30 + 2),) * 2
    assert invoke("sample", str(run), "--out", str(tmp_path / "all.png"), "-n", "4").exit_code == 0
    with Image.open(tmp_path / "all.png") as picture:
        assert picture.size == (2 * (4 * 30 + 2), 2 * (10 * 30 + 2))
    result = invoke("train", "--resume", str(run), "--steps", "16", "--threads", "1", "--quiet")
    assert result.exit_code == 0 and "finished at step 16" in result.stdout, result.stderr
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps_this_run"] == 2 and summary["total_seconds"] > summary["seconds"]
    assert "s of training; this run" in result.stdout, "a resumed run says both times"
    assert "model.g_base: 8 -> 16" in one_line_error(invoke("train", "--resume", str(run), "--set", "model.g_base=16",
                                                            "--steps", "20"))
    assert "preset: fast -> keras-acgan" in one_line_error(invoke("train", "--resume", str(run), "--preset",
                                                                  "keras-acgan", "--steps", "20"))
    assert "already holds a run" in one_line_error(invoke("train", "--dataset", str(tiny_npz), "--steps", "2",
                                                          "--out", str(run), *TINY))
    assert "was trained with seed 0" in one_line_error(invoke("train", "--resume", str(run), "--seed", "3",
                                                              "--steps", "20"))
    # a resume may change train settings: the learning rate, say
    result = invoke("train", "--resume", str(run), "--steps", "18", "--set", "lr_g=5e-4", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert json.loads((run / "config.json").read_text())["train"]["lr_g"] == 5e-4
    assert load_resumable(run)[1]["generator_opt"]["param_groups"][0]["lr"] == 5e-4, "the new rate is the one used"


@pytest.mark.parametrize("args, message", [
    (["--preset", "nope", "--steps", "1"], "unknown preset 'nope'"),
    (["--preset", "missing.toml", "--steps", "1"], "preset file missing.toml does not exist"),
    (["--steps", "5", "--minutes", "1"], "give one budget"),
    (["--steps", "5", "--set", "nosuch=1"], "setting 'nosuch': no such setting"),
    (["--steps", "5", "--set", "model.lr_g=1"], "setting 'model.lr_g': no such setting"),
    (["--steps", "5", "--set", "novalue"], "key=value"),
    (["--steps", "5", "--set", "lr_g=fast"], "train.lr_g: 'fast' must be a number"),
    (["--steps", "1", "--set", "g_body=foo"], "model.g_body: 'foo' is not one of mlp, dcgan, upsample"),
    (["--steps", "1", "--set", "loss=foo"], "train.loss: 'foo' is not one of bce, hinge, lsgan, wgan-gp, rpgan"),
    (["--steps", "1", "--set", "noise=foo"], "model.noise: 'foo' is not one of normal, uniform"),
    (["--steps", "1", "--set", "d_cond=foo"], "model.d_cond: 'foo' is not one of"),
    (["--steps", "1", "--set", "g_stages=[8,4,2]"], "model.g_stages: [8, 4, 2] must be a list"),
    (["--steps", "1", "--set", "g_stages=[[8,4,3],[8,4,2]]"], "scale 3 in [8, 4, 3] is out of range"),
    (["--steps", "1", "--set", "g_stages=[[8,4,2]]"], "exactly two scale-2 stages"),
    (["--steps", "1", "--set", "g_stages=[[8,4,2],[8,4,2],[8,4,2]]"], "draws (1, 56, 56) images"),
    (["--steps", "1", "--set", "lr_g=nan"], "train.lr_g: nan must be a finite number"),
    (["--steps", "1", "--set", "lr_d=inf"], "train.lr_d: inf must be a finite number"),
    (["--steps", "1", "--set", "lr_g=-1e-3"], "train.lr_g: -0.001 is out of range"),
    (["--steps", "1", "--set", "z_dim=0"], "model.z_dim: 0 is out of range"),
    (["--steps", "1", "--set", "z_dim=1.5"], "model.z_dim: 1.5 must be a whole number"),
    (["--steps", "1", "--set", "batch_size=0"], "train.batch_size: 0 is out of range"),
    (["--steps", "1", "--set", "beta1=1.0"], "train.beta1: 1.0 is out of range"),
    (["--steps", "1", "--set", "ema_decay=1"], "train.ema_decay: 1.0 is out of range"),
    (["--steps", "1", "--set", "balance_band=[2, 1]"], "0 < low < high"),
    (["--steps", "1", "--set", "spectral_norm=yes"], "must be true or false"),
    (["--steps", "1", "--set", "g_base=1000000000"], "model.g_base: 1000000000 is out of range"),
    (["--steps", "1", "--set", "g_dense=[16384,16384]", "--set", "g_body=mlp"], "parameters, more than"),
    (["--steps", "1", "--set", "num_classes=3"], "has 10 classes but the model expects 3"),
    (["--steps", "-5"], "-5 is not in the range"),
    (["--steps", "five"], "'five' is not a valid integer"),
    (["--steps", "5", "--dataset", "/no/such.npz"], "unknown data source"),
    (["--resume", "/no/such/run"], "/no/such/run does not exist"),
    (["--steps", "5", "--device", "tpu"], "'tpu' is not one of 'auto', 'cpu', 'cuda'"),
    (["--steps", "5", "--threads", "0"], "0 is not in the range"),
])
def test_bad_settings_are_one_line_exit_2(invoke, args, message):
    assert message in one_line_error(invoke("train", *args))


@pytest.mark.parametrize("args, message", [
    (["sample", "/no/such/run", "--out", "x.png"], "does not exist"),
    (["sample", "--digit", "5", "--out", "x.gif"], "'x.gif' must end in .png"),
    (["sample", "--digit", "five", "--out", "x.png"], "'five' is not a digit or 'all'"),
    (["sample", "--digit", "12", "--out", "x.png"], "digit 12 is not a class of this model"),
    (["sample", "-n", "0", "--out", "x.png"], "0 is not in the range"),
    (["sample", "--out", "."], "is a directory"),
])
def test_sample_bad_input(invoke, args, message):
    assert message in one_line_error(invoke(*args))


def test_model_folder_with_absurd_config_is_refused_before_building(invoke, tiny_npz, tmp_path):
    run = tmp_path / "run"
    assert invoke("train", "--dataset", str(tiny_npz), "--steps", "2", "--out", str(run), *TINY).exit_code == 0
    config = json.loads((run / "model" / "config.json").read_text())
    for key, value, message in (("g_base", 1_000_000_000, "model.g_base: 1000000000 is out of range"),
                                ("g_cond", "magic", "model.g_cond: 'magic' is not one of")):
        bad = json.loads(json.dumps(config))
        bad["model"][key] = value
        (run / "model" / "config.json").write_text(json.dumps(bad))
        line = one_line_error(invoke("sample", str(run), "--out", str(tmp_path / "x.png")))
        assert message in line and "config.json" in line
    (run / "model" / "config.json").write_text("{not json")
    assert "is unreadable" in one_line_error(invoke("sample", str(run), "--out", str(tmp_path / "x.png")))


def test_unconditional_model_cannot_be_asked_for_a_digit(invoke, tiny_npz, tmp_path):
    plain = tmp_path / "plain"
    result = invoke("train", "--preset", "simple-gan", "--dataset", str(tiny_npz), "--steps", "2",
                    "--set", "batch_size=8", "--out", str(plain), "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "unconditional" in one_line_error(invoke("sample", str(plain), "--digit", "3", "--out", "x.png"))
    assert invoke("sample", str(plain), "--out", "all.png", "-n", "2").exit_code == 0


def _start(run, tiny_npz, *extra):
    return subprocess.Popen([str(BIN_DIR / "digitgan"), "train", "--dataset", str(tiny_npz), "--minutes", "5",
                             "--out", str(run), "--set", "checkpoint_every=20", *TINY[:-1], *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.slow
def test_run_lock_two_processes_and_kill_9(tiny_npz, tmp_path):
    """A second trainer on a run being trained is refused, naming the owner; after kill -9 a resume works."""
    run = tmp_path / "run"
    owner = _start(run, tiny_npz)
    try:
        _wait_for(lambda: list_checkpoints(run))
        second = run_cli("train", "--resume", str(run), "--steps", "100000", "--threads", "1", "--quiet")
        assert second.returncode == 2 and "Traceback" not in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        assert f"is being trained by process {owner.pid}" in second.stderr
        fresh = run_cli("train", "--dataset", str(tiny_npz), "--steps", "3", "--out", str(run), *TINY)
        assert fresh.returncode == 2 and ("already holds a run" in fresh.stderr or str(owner.pid) in fresh.stderr)
        assert owner.poll() is None, "the owner keeps training"
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=30)
    step = step_of(run)
    result = run_cli("train", "--resume", str(run), "--steps", str(step + 3), "--threads", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    assert step_of(run) == step + 3


def _interrupted(run, tiny_npz, signum) -> str:
    """Start a run, send `signum` once it trains; it must exit 130 with no traceback. Returns its stdout."""
    process = _start(run, tiny_npz)
    _wait_for(lambda: (run / "history.jsonl").exists())
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted at step" in out and "Traceback" not in err
    return out


def test_ctrl_c_saves_a_clean_checkpoint(tiny_npz, tmp_path):
    """SIGINT finishes the step, writes a checkpoint and the model, exits 130; the run then resumes."""
    run = tmp_path / "run"
    _interrupted(run, tiny_npz, signal.SIGINT)
    step = step_of(run)
    assert step > 0 and (run / "model" / "generator.safetensors").exists()
    result = run_cli("train", "--resume", str(run), "--steps", str(step + 2), "--threads", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    assert step_of(run) == step + 2


def test_a_closed_terminal_sighup_stops_like_sigterm(tiny_npz, tmp_path):
    """SIGHUP (the terminal closed) finishes the step, writes a checkpoint and the model, exits 130."""
    run = tmp_path / "run"
    _interrupted(run, tiny_npz, signal.SIGHUP)
    assert list_checkpoints(run) and (run / "model" / "generator.safetensors").exists()
    assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"


def test_presets_describe_themselves_and_readme_shows_them():
    from pathlib import Path

    from digitgan.cli.presets import markdown_table
    from digitgan.config import preset_descriptions, preset_names

    listed = run_cli("presets")
    assert listed.returncode == 0
    descriptions = preset_descriptions()
    assert set(descriptions) == set(preset_names()) and all(descriptions.values())
    for name, text in descriptions.items():
        assert any(line.split()[0] == name and text in line for line in listed.stdout.splitlines()), name
    help_text = " ".join(run_cli("train", "--help").stdout.split()).replace("- ", "-")  # click wraps at hyphens
    assert all(name in help_text for name in preset_names()), help_text
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert markdown_table() in readme, "README's preset table drifted: paste `digitgan presets --markdown`"
