"""DDP on CPU (gloo, loopback): 2 processes on tiny data, identical weights, one writer, resume across sizes; runs
that always end (exit codes through the launcher, an exception on every rank, launches beside a busy process)."""

import json
import signal
import subprocess
import sys
import time

import pytest
import torch

from digitgan.training.checkpoints import list_checkpoints, load_resumable
from digitgan.training.history import read_history
from tests.conftest import BIN_DIR, competing_process, kill_group, run_cli, run_group, tiny_config

TINY = ["--set", "z_dim=8", "--set", "g_base=8", "--set", "batch_size=8", "--set", "g_stages=[[8,4,2],[8,4,2]]",
        "--set", "d_stages=[[8,4,2],[8,4,2]]", "--quiet"]


def torchrun(nproc, *args, timeout=300):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", *args]
    return run_group(command, timeout=timeout)


def worker(tmp_path, tiny_npz, nproc, steps, resume):
    """One torchrun launch of tests/training/ddp_worker.py, within a time limit (the whole group killed after)."""
    config = tiny_config(dataset=str(tiny_npz), checkpoint_every=0)
    (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))
    (tmp_path / "dumps").mkdir(exist_ok=True)
    result = torchrun(nproc, "tests/training/ddp_worker.py", str(tmp_path / "config.json"), str(tmp_path / "run"),
                      str(tmp_path / "dumps"), str(steps), "resume" if resume else "new", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return [torch.load(tmp_path / "dumps" / f"rank{rank}-world{nproc}-step{steps}.pt", weights_only=True)
            for rank in range(nproc)]


@pytest.mark.slow
def test_two_ranks_identical_weights_one_writer_and_resume_across_world_sizes(tmp_path, tiny_npz):
    """Through torchrun and train() called directly; beside a busy process, where the exit deadlock appeared (a
    rank stuck in the gloo group's destructor: digitgan/training/distributed.py says why)."""
    with competing_process():
        ranks_through_sizes(tmp_path, tiny_npz)


def ranks_through_sizes(tmp_path, tiny_npz):
    ranks = worker(tmp_path, tiny_npz, 2, 6, resume=False)
    for side in ("g", "d"):
        for name, tensor in ranks[0][side].items():
            assert torch.equal(tensor, ranks[1][side][name]), f"{side}.{name} differs across ranks"
    saved = load_resumable(tmp_path / "run")[1]
    assert saved["step"] == 6 and saved["images_seen"] == 6 * 8 * 2  # global batch = 2 x 8
    assert all(torch.equal(saved["generator"][k], v) for k, v in ranks[0]["g"].items())
    steps = [row["step"] for row in read_history(tmp_path / "run" / "history.jsonl") if row["kind"] == "log"]
    assert steps == sorted(set(steps)), "more than one rank wrote the history"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["global_batch"] == 16

    # 2 -> 1: the single process continues from the DDP checkpoint
    single = worker(tmp_path, tiny_npz, 1, 9, resume=True)[0]
    saved = load_resumable(tmp_path / "run")[1]
    assert saved["step"] == 9 and saved["images_seen"] == 6 * 16 + 3 * 8
    assert all(torch.equal(saved["generator"][k], v) for k, v in single["g"].items())
    # 1 -> 2: and two processes continue from the single-process checkpoint, in step
    ranks = worker(tmp_path, tiny_npz, 2, 12, resume=True)
    assert all(torch.equal(v, ranks[1]["g"][k]) for k, v in ranks[0]["g"].items())
    assert load_resumable(tmp_path / "run")[1]["images_seen"] == 6 * 16 + 3 * 8 + 3 * 16


def test_ddp_user_error_is_one_line_and_exit_2(tmp_path, tiny_npz):
    result = run_cli("train", "--nproc", "2", "--dataset", str(tiny_npz), "--steps", "2", "--out",
                     str(tmp_path / "run"), "--set", "r1_gamma=1.0", "--set", "batch_size=8", "--quiet", timeout=120)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("digitgan: error:") and "double backward" in lines[0]


def test_ddp_divergence_from_the_cli_is_one_line_and_exit_3(tmp_path, tiny_npz):
    from digitgan.training import train

    run = tmp_path / "run"
    train(tiny_config(dataset=str(tiny_npz), steps=2, checkpoint_every=2), run, quiet=True)
    checkpoint = list_checkpoints(run)[-1]
    state = torch.load(checkpoint, weights_only=True)
    next(iter(state["generator"].values())).fill_(float("nan"))  # a run resumed from weights gone bad
    torch.save(state, checkpoint)
    result = run_cli("train", "--nproc", "2", "--resume", str(run), "--steps", "6", "--quiet", timeout=120)
    assert result.returncode == 3, result.stderr[-3000:]
    stopped = [line for line in result.stderr.splitlines() if line.startswith("digitgan: training stopped:")]
    assert len(stopped) == 1 and "is nan at step 3" in stopped[0], result.stderr[-3000:]


def test_ddp_divergence_ends_every_rank_with_exit_3(tmp_path, tiny_npz):
    config = tiny_config(dataset=str(tiny_npz), checkpoint_every=0, steps=50)
    (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))
    launcher = ("import sys; from digitgan.training.launch import Launch; sys.exit(Launch(2, [sys.executable, "
                f"'tests/training/ddp_worker.py', {str(tmp_path / 'config.json')!r}, {str(tmp_path / 'run')!r}, "
                f"{str(tmp_path)!r}, '50', 'poison']).run())")
    result = run_group([sys.executable, "-c", launcher], timeout=120)
    assert result.returncode == 3, result.stderr[-3000:]


@pytest.mark.slow
def test_ddp_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path, tiny_npz):
    command = [str(BIN_DIR / "digitgan"), "train", "--nproc", "2", "--dataset", str(tiny_npz), "--steps", "1000000",
               "--out", str(tmp_path / "run"), *TINY]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        history = tmp_path / "run" / "history.jsonl"
        while not (history.exists() and any(r["kind"] == "log" for r in read_history(history))):
            assert time.monotonic() < deadline and process.poll() is None, process.communicate()[1][-3000:]
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)  # what the terminal sends to the launcher on Ctrl-C
        _, stderr = process.communicate(timeout=120)
    finally:
        kill_group(process.pid)
    assert process.returncode == 130, stderr[-3000:]
    assert list_checkpoints(tmp_path / "run") and json.loads(
        (tmp_path / "run" / "summary.json").read_text())["status"] == "interrupted"


@pytest.mark.slow
@pytest.mark.parametrize("launches", [1])
def test_launches_beside_a_busy_process_always_end(tmp_path, tiny_npz, launches):
    """The exit deadlock showed up under load: several launches in a row beside a competing 2-thread process,
    each within a time limit, then the resume-across-world-sizes path (2 -> 1 -> 2 processes)."""
    run = tmp_path / "run"
    common = ["--dataset", str(tiny_npz), *TINY]
    with competing_process():
        for index in range(launches):
            target = run.parent / f"run{index}"
            result = run_cli("train", "--nproc", "2", "--steps", "4", "--out", str(target), *common, timeout=90)
            assert result.returncode == 0, f"launch {index}: {result.stderr[-2000:]}"
            assert "DDP: 2 processes, global batch 16" in result.stdout
            assert "Warning" not in result.stderr, result.stderr[-2000:]  # e.g. torch's gradient-layout warning
            assert load_resumable(target)[1]["images_seen"] == 4 * 16
        source = run.parent / "run0"
        result = run_cli("train", "--resume", str(source), "--steps", "6", "--quiet", timeout=90)  # 2 -> 1
        assert result.returncode == 0, result.stderr[-2000:]
        result = run_cli("train", "--nproc", "2", "--resume", str(source), "--steps", "8", "--quiet", timeout=90)
        assert result.returncode == 0, result.stderr[-2000:]
        assert load_resumable(source)[1]["images_seen"] == 4 * 16 + 2 * 8 + 2 * 16
