"""Writing files: atomic, and a full disk is one clear error (DiskFull, a UserError) that leaves the previous file
intact and no partial file behind — simulated here, and for real on a small tmpfs in tests/cli/test_disk_full.py."""

import errno

import pytest
import torch

from digitgan import files
from digitgan.errors import DiskFull, UserError
from digitgan.files import atomic_write


def test_a_full_disk_is_a_user_error_naming_the_file_and_the_space(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"before")

    def writer(handle):
        handle.write(b"x" * 100)
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFull) as info:
        atomic_write(target, writer)
    assert isinstance(info.value, UserError) and str(target) in str(info.value) and "MiB free" in str(info.value)
    assert target.read_bytes() == b"before"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]  # no temporary file left


def test_torch_save_failing_on_a_full_disk_is_recognised(tmp_path, monkeypatch):
    """torch's writer reports a failed write as RuntimeError('unexpected pos'), without the OSError."""
    def writer(handle):
        torch.save({"w": torch.zeros(10)}, handle)
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")

    monkeypatch.setattr(files, "free_bytes", lambda path: 1000)
    with pytest.raises(DiskFull):
        atomic_write(tmp_path / "c.pt", writer)
    monkeypatch.setattr(files, "free_bytes", lambda path: 10 * 2**30)  # plenty of space: some other failure
    with pytest.raises(RuntimeError, match="unexpected pos"):
        atomic_write(tmp_path / "c.pt", writer)


def test_other_errors_pass_through_unchanged(tmp_path):
    def writer(handle):
        raise ValueError("not about space")

    with pytest.raises(ValueError, match="not about space"):
        atomic_write(tmp_path / "x", writer)
    assert list(tmp_path.iterdir()) == []
