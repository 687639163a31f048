import gzip

import numpy as np
import pytest

from digitgan.data.idx import read_idx, write_idx
from digitgan.errors import UserError


@pytest.mark.parametrize("compress", [False, True])
def test_roundtrip(tmp_path, compress):
    array = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    path = tmp_path / ("a.gz" if compress else "a")
    write_idx(path, array, compress=compress)
    assert np.array_equal(read_idx(path), array)


def test_bad_magic(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"\x12\x34\x08\x03" + b"\x00" * 20)
    with pytest.raises(UserError, match="bad magic number"):
        read_idx(path)


def test_payload_shorter_than_header_says(tmp_path):
    path = tmp_path / "x"
    write_idx(path, np.zeros((3, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(UserError, match=r"header says 3x28x28 .* payload has 2347 bytes"):
        read_idx(path)


def test_truncated_gzip(tmp_path):
    path = tmp_path / "x.gz"
    write_idx(path, np.zeros((3, 28, 28), dtype=np.uint8), compress=True)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(UserError, match="truncated or corrupt gzip"):
        read_idx(path, fix_hint="run the fix")


def test_corrupt_gzip_body(tmp_path):
    path = tmp_path / "x.gz"
    blob = bytearray(gzip.compress(b"\x00\x00\x08\x01" + b"\x00\x00\x00\x05" + bytes(5)))
    blob[12:16] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(blob))
    with pytest.raises(UserError, match=str(path)):
        read_idx(path)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(UserError, match="nothere"):
        read_idx(tmp_path / "nothere", fix_hint="hint")
