"""A full disk for real: training into a small tmpfs (root only; skipped where mounting is not allowed)."""

import shutil
import subprocess
import uuid

import pytest

from digitgan.training.checkpoints import list_checkpoints, load_checkpoint
from tests.conftest import run_cli


@pytest.fixture
def small_disk(tmp_path):
    """A 9 MB tmpfs: room for one `fast` checkpoint (about 6 MB), not for two."""
    def mount(megabytes):
        folder = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
        folder.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)],
                              capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()[:100]}")
        mounted.append(folder)
        return folder

    mounted = []
    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], capture_output=True)


@pytest.mark.slow
def test_training_into_a_full_disk_stops_with_one_line_and_a_resumable_checkpoint(small_disk, tmp_path, tiny_npz):
    disk = small_disk(9)
    result = run_cli("train", "--preset", "fast", "--dataset", str(tiny_npz), "--steps", "5", "--out",
                     str(disk / "run"), "--set", "checkpoint_every=1", "--set", "eval_every=0", "--quiet")
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("digitgan: warning:") and "checkpoints" in lines[0]  # said at the start
    assert len(lines) == 2 and lines[1].startswith("digitgan: error: no space left to write ")
    assert "step-00000002.pt" in lines[1] and "MiB free" in lines[1] and "Traceback" not in result.stderr
    kept = list_checkpoints(disk / "run")
    assert [p.name for p in kept] == ["step-00000001.pt"] and load_checkpoint(kept[0])["step"] == 1
    assert not [p for p in (disk / "run" / "checkpoints").iterdir() if p.name.endswith(".tmp")]
    # resumable elsewhere
    shutil.copytree(disk / "run", tmp_path / "moved")
    result = run_cli("train", "--resume", str(tmp_path / "moved"), "--steps", "2", "--quiet")
    assert result.returncode == 0, result.stderr[-2000:]


def test_no_room_for_even_one_checkpoint(small_disk, tiny_npz):
    disk = small_disk(3)
    result = run_cli("train", "--preset", "fast", "--dataset", str(tiny_npz), "--steps", "2", "--out",
                     str(disk / "run"), "--set", "checkpoint_every=1", "--set", "eval_every=0", "--quiet")
    assert result.returncode == 2 and "no space left to write" in result.stderr and "Traceback" not in result.stderr


def test_any_command_writing_into_a_full_disk_says_so_in_one_line(small_disk):
    disk = small_disk(1)
    with (disk / "filler").open("wb", buffering=0) as filler:  # fill it to the last byte
        try:
            while True:
                filler.write(b"\0" * 4096)
        except OSError:
            pass
    result = run_cli("write", "2026", "--styles", "4", "--out", str(disk / "pictures" / "2026.png"))
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and "no space left" in result.stderr and "2026.png" in result.stderr
