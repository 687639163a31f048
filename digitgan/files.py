"""Every file digitgan writes for a user to keep goes through here: atomically, in one place per format.

`atomic_write` writes to a temporary file beside the target, fsyncs it and renames it into place, so a crash,
a full disk or Ctrl-C never leaves a half-written file under the final name (nor destroys the previous one).
PNG, GIF, JSON, text and matplotlib figures are built on it.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from digitgan.errors import CannotWrite, DiskFull, UserError


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


NO_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def free_bytes(path: str | Path) -> int | None:
    """Free bytes on the filesystem that holds `path` (or its nearest existing parent); None if unknown."""
    path = Path(path).absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def is_out_of_space(error: BaseException) -> bool:
    """An OSError for a full disk or quota, also when a library re-raised it as another type (torch.save's
    writer reports a failed write as RuntimeError 'unexpected pos'): follow the cause chain."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in NO_SPACE_ERRNOS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _cannot_write(path: Path, error: OSError) -> UserError:
    """The error for a file or folder at `path` that could not be made, in the user's terms."""
    if error.errno in NO_SPACE_ERRNOS:
        return DiskFull(path, free_bytes(path))
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        in_the_way = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
        if in_the_way is not None:
            return CannotWrite(path, f"{in_the_way} is a file, not a folder")
    return CannotWrite(path, (error.strerror or str(error)).lower())


def make_folder(path: str | Path) -> Path:
    """`path` as a folder, made with its parents where missing; a place that cannot hold it raises CannotWrite (or
    DiskFull)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _cannot_write(path, error) from None
    return path


def atomic_write(path: str | Path, data: bytes | str | Callable[[IO[bytes]], Any]) -> Path:
    """Write `data` (bytes, text as UTF-8, or a function given the open binary file) to `path` atomically.

    A full disk raises DiskFull (a UserError naming the file and the space left), a place that cannot hold the file
    (a file where a folder should be, no permission, a read-only filesystem) CannotWrite; the previous file under
    that name, if any, is untouched and no partial file is left."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise _cannot_write(path, error) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            if callable(data):
                data(handle)
            else:
                handle.write(data.encode() if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; a user's outputs should read like any other file
        os.replace(tmp_name, path)
        _fsync_dir(path.parent)
    except BaseException:
        written = os.path.getsize(tmp_name) if os.path.exists(tmp_name) else 0
        Path(tmp_name).unlink(missing_ok=True)
        error = sys.exc_info()[1]
        if isinstance(error, Exception) and _no_space(error, path, written):
            raise DiskFull(path, free_bytes(path)) from None
        raise
    return path


def _no_space(error: Exception, path: Path, written: int) -> bool:
    """Whether a failed write ran out of space. torch's stream writer drops the OSError it met and raises a
    RuntimeError; measured before the partial file was removed, a filesystem that was (nearly) full says it."""
    if is_out_of_space(error):
        return True
    free = free_bytes(path)
    return isinstance(error, RuntimeError) and free is not None and free - written <= 1 << 16


def write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, text if text.endswith("\n") else text + "\n")


def write_json(path: str | Path, value: Any) -> Path:
    return atomic_write(path, json.dumps(value, indent=2) + "\n")


# --- pictures -----------------------------------------------------------------------------------------------

def _image(picture: np.ndarray, scale: int) -> Any:
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(picture, dtype=np.uint8), mode="L")
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    return image


def png_bytes(picture: np.ndarray, scale: int = 1) -> bytes:
    """A (H, W) uint8 picture as grayscale PNG bytes, enlarged `scale` times (nearest neighbour)."""
    buffer = io.BytesIO()
    _image(picture, scale).save(buffer, format="PNG")
    return buffer.getvalue()


def save_png(path: str | Path, picture: np.ndarray, scale: int = 1) -> Path:
    """Save a (H, W) uint8 picture as a grayscale PNG (atomically)."""
    return atomic_write(path, png_bytes(picture, scale))


def gif_bytes(frames: list[np.ndarray], fps: float, scale: int = 2, loop: bool = True) -> bytes:
    """(H, W) uint8 frames as an animated GIF at `fps` frames per second."""
    if fps <= 0:
        raise UserError(f"frames per second must be positive, got {fps}")
    pictures = [_image(frame, scale) for frame in frames]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:],
                     duration=int(round(1000 / fps)), loop=0 if loop else 1, optimize=False)
    return buffer.getvalue()


def save_frames(out: str | Path, frames: list[np.ndarray], fps: float, scale: int = 2) -> Path:
    """Frames as a GIF (.gif), an MP4 (.mp4, needs ffmpeg) or a folder of PNGs (no suffix)."""
    import shutil
    import subprocess

    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".gif":
        return atomic_write(out, gif_bytes(frames, fps, scale))
    if suffix == ".mp4":
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            raise UserError("writing .mp4 needs ffmpeg (apt-get install ffmpeg); write a .gif or a folder instead")
        with tempfile.TemporaryDirectory() as tmp:
            for index, frame in enumerate(frames):
                save_png(Path(tmp) / f"frame-{index:05d}.png", frame, scale=scale)
            video = Path(tmp) / "video.mp4"
            command = [ffmpeg, "-loglevel", "error", "-y", "-framerate", str(fps), "-i", f"{tmp}/frame-%05d.png",
                       "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-pix_fmt", "yuv420p", str(video)]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                raise UserError(f"ffmpeg failed: {result.stderr.strip()[:200]}")
            return atomic_write(out, video.read_bytes())
    if suffix:
        raise UserError(f"{out}: frames are written as .gif, .mp4 or into a folder (a path without a suffix)")
    make_folder(out)
    for index, frame in enumerate(frames):
        save_png(out / f"frame-{index:05d}.png", frame, scale=scale)
    return out


# --- figures ------------------------------------------------------------------------------------------------

def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, path: str | Path, dpi: int = 80) -> Path:
    """Save a matplotlib figure as PNG (atomically) and close it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    pyplot().close(figure)
    return atomic_write(path, buffer.getvalue())
