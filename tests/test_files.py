"""Writing files: atomic, and a full disk is one clear error (DiskFull, a UserError) that leaves the previous file
intact and no partial file behind — simulated here, and for real on a small tmpfs in tests/cli/test_disk_full.py."""

import errno

import pytest
import torch

from digitgan import files
from digitgan.errors import CannotWrite, DiskFull, UserError
from digitgan.files import atomic_write, make_folder
from digitgan.training.lock import RunLock


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


def test_a_file_where_a_folder_should_be_is_one_clear_error_naming_it(tmp_path):
    (tmp_path / "notes").write_text("mine")
    for make in (lambda: atomic_write(tmp_path / "notes" / "x.png", b"png"),
                 lambda: atomic_write(tmp_path / "notes" / "deeper" / "x.png", b"png"),
                 lambda: make_folder(tmp_path / "notes" / "run"),
                 lambda: RunLock(tmp_path / "notes" / "run").acquire()):  # where `digitgan train --out` starts
        with pytest.raises(CannotWrite, match=f"{tmp_path / 'notes'} is a file, not a folder"):
            make()
    assert (tmp_path / "notes").read_text() == "mine"


def test_a_place_that_refuses_the_file_says_why_and_names_the_file_asked_for(tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".x.png.abc.tmp"))

    monkeypatch.setattr(files.tempfile, "mkstemp", refused)  # root ignores permissions: refuse by hand
    with pytest.raises(CannotWrite) as info:
        atomic_write(tmp_path / "x.png", b"png")
    assert str(info.value) == f"cannot write {tmp_path / 'x.png'}: permission denied"
