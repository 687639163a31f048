"""Reading and writing the IDX format of MNIST (http://yann.lecun.com/exdb/mnist/), gzip or raw."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from digitgan.errors import UserError
from digitgan.files import atomic_write

# IDX type byte -> numpy big-endian dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_DTYPE_CODES = {np.dtype("uint8"): 0x08, np.dtype("int8"): 0x09}


def read_bytes(path: Path, fix_hint: str) -> bytes:
    """Whole file contents, transparently gunzipped; a truncated or corrupt gzip is a UserError."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}; {fix_hint}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as error:
            raise UserError(f"{path} is a truncated or corrupt gzip file ({error}); {fix_hint}") from None
    return raw


def parse_idx(payload: bytes, path: Path, fix_hint: str) -> np.ndarray:
    """Decode one IDX blob; checks the magic number and that the header's counts match the payload."""
    if len(payload) < 4 or payload[0] != 0 or payload[1] != 0 or payload[2] not in _IDX_DTYPES:
        raise UserError(f"{path} is not an IDX file (bad magic number {payload[:4].hex()}); {fix_hint}")
    ndim = payload[3]
    header_size = 4 + 4 * ndim
    if ndim == 0 or len(payload) < header_size:
        raise UserError(f"{path} has a truncated IDX header; {fix_hint}")
    dims = struct.unpack(f">{ndim}I", payload[4:header_size])
    dtype = np.dtype(_IDX_DTYPES[payload[2]])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    body = len(payload) - header_size
    if body != expected:
        raise UserError(
            f"{path}: header says {'x'.join(map(str, dims))} ({expected} bytes) but the payload has "
            f"{body} bytes (truncated or corrupt); {fix_hint}"
        )
    array = np.frombuffer(payload, dtype=dtype, offset=header_size).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: Path, fix_hint: str = "replace the file") -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a native-endian numpy array."""
    return parse_idx(read_bytes(path, fix_hint), path, fix_hint)


def idx_bytes(array: np.ndarray, compress: bool = False) -> bytes:
    """A uint8/int8 array encoded as IDX (gzipped when `compress`)."""
    array = np.ascontiguousarray(array)
    if array.dtype not in _DTYPE_CODES:
        raise ValueError(f"IDX writer supports uint8/int8, got {array.dtype}")
    header = bytes([0, 0, _DTYPE_CODES[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    blob = header + array.tobytes()
    return gzip.compress(blob, mtime=0) if compress else blob


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """Write a uint8/int8 array as an IDX file (atomically; gzip when `compress`)."""
    return atomic_write(path, idx_bytes(array, compress))
