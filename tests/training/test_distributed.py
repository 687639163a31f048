"""DDP on CPU (gloo, loopback): 2 processes on tiny data, identical weights, one writer, resume across sizes."""

import json
import subprocess
import sys

import torch

from digitgan.training.checkpoints import load_resumable
from digitgan.training.history import read_history
from tests.conftest import run_cli, tiny_config


def torchrun(nproc, *args, timeout=300):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def worker(tmp_path, tiny_npz, nproc, steps, resume):
    config = tiny_config(dataset=str(tiny_npz), checkpoint_every=0)
    (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))
    (tmp_path / "dumps").mkdir(exist_ok=True)
    result = torchrun(nproc, "tests/training/ddp_worker.py", str(tmp_path / "config.json"), str(tmp_path / "run"),
                      str(tmp_path / "dumps"), str(steps), "resume" if resume else "new")
    assert result.returncode == 0, result.stderr[-3000:]
    return [torch.load(tmp_path / "dumps" / f"rank{rank}-world{nproc}-step{steps}.pt", weights_only=True)
            for rank in range(nproc)]


def test_two_ranks_identical_weights_one_writer_and_resume_across_world_sizes(tmp_path, tiny_npz):
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


def test_cli_nproc_launches_torchrun(tmp_path, tiny_npz):
    result = run_cli("train", "--nproc", "2", "--dataset", str(tiny_npz), "--steps", "4", "--out",
                     str(tmp_path / "run"), "--set", "z_dim=8", "--set", "g_base=8", "--set", "batch_size=8",
                     "--set", "g_stages=[[8,4,2],[8,4,2]]", "--set", "d_stages=[[8,4,2],[8,4,2]]", "--quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "DDP: 2 processes, global batch 16" in result.stdout
    assert load_resumable(tmp_path / "run")[1]["images_seen"] == 4 * 16


def test_ddp_refuses_what_it_cannot_do(tmp_path, tiny_npz):
    result = run_cli("train", "--nproc", "2", "--dataset", str(tiny_npz), "--steps", "2", "--out",
                     str(tmp_path / "run"), "--set", "r1_gamma=1.0", "--set", "batch_size=8", "--quiet")
    assert result.returncode != 0 and "double backward" in result.stderr
