"""Exploring a trained generator: write a number in one hand, morph between digits, a clock, label scaling, and a
labelled synthetic data set. Each returns uint8 pictures; the CLI and the web API only choose values and files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from digitgan.config import RunConfig
from digitgan.drawing.sampling import generate, label_mix
from digitgan.errors import UserError
from digitgan.files import atomic_write, make_folder, save_png, write_json
from digitgan.models import one_hot, sample_noise

MAX_STYLES = 64        # writers (rows) in one picture
MAX_STEPS = 256        # frames of an interpolation
MAX_SECONDS = 3600     # length of a clock
MAX_FPS = 60.0
MAX_SCALES = 64
MAX_EXPORT = 1_000_000


def _check_styles(styles: int) -> None:
    if not 1 <= styles <= MAX_STYLES:
        raise UserError(f"the number of styles must be between 1 and {MAX_STYLES}, got {styles}")


# --- write a number in one hand -------------------------------------------------------------------------

SEPARATORS = ":- "
MAX_TEXT = 64  # characters


def parse_text(text: str, num_classes: int = 10) -> list[str]:
    """Validate a number to write: digits and the separators ':', '-', ' ' only."""
    if not text or len(text) > MAX_TEXT:
        raise UserError(f"text must have 1 to {MAX_TEXT} characters, got {len(text)}")
    bad = sorted({ch for ch in text if not (ch.isdigit() and int(ch) < num_classes) and ch not in SEPARATORS})
    if bad:
        raise UserError(f"cannot write {', '.join(repr(ch) for ch in bad)} in '{text}': only digits and ':', '-', "
                        "space")
    if all(ch in SEPARATORS for ch in text):
        raise UserError(f"'{text}' has no digit to write")
    return list(text)


def separator_glyph(char: str) -> np.ndarray:
    """A 28x28 uint8 drawing of ':' (two dots), '-' (a bar) or ' ' (blank)."""
    glyph = np.zeros((28, 28), dtype=np.uint8)
    if char == ":":
        glyph[8:12, 12:16] = 255
        glyph[17:21, 12:16] = 255
    elif char == "-":
        glyph[13:16, 7:21] = 255
    return glyph


def writer_noise(config: RunConfig, styles: int, seed: int, hand: torch.Tensor | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """(styles, z_dim): the noise of `styles` writers drawn from `seed`; with a hand (1, z_dim), the first writer is
    that hand and the others stay the seed's."""
    _check_styles(styles)
    writers = sample_noise(styles, config.model, torch.Generator(device=device).manual_seed(seed), device)
    if hand is not None:
        writers[0] = hand.reshape(-1).to(writers)
    return writers


def write_number(generator: torch.nn.Module, config: RunConfig, text: str, styles: int = 1,
                 seed: int = 0, writers: torch.Tensor | None = None) -> np.ndarray:
    """(styles, len(text), 28, 28) uint8: row r is one writer (one latent for all its digits); `writers`
    (rows, z_dim): the writers' noise (a hand found by digitgan.drawing.hand), instead of `styles` drawn from seed."""
    if writers is not None:
        styles = len(writers)
    _check_styles(styles)
    if not config.model.conditional:
        raise UserError(f"this model ({config.preset}) is unconditional: it cannot write chosen digits")
    chars = parse_text(text, config.model.num_classes)
    positions = [i for i, ch in enumerate(chars) if ch not in SEPARATORS]
    device = next(generator.parameters()).device
    if writers is None:
        writers = sample_noise(styles, config.model, torch.Generator(device=device).manual_seed(seed), device)
    z = writers.to(device).repeat_interleave(len(positions), dim=0)
    labels = torch.tensor([int(chars[i]) for i in positions]).repeat(styles)
    digits = generate(generator, config, one_hot(labels, config.model.num_classes), z=z)
    cells = np.zeros((styles, len(chars), 28, 28), dtype=np.uint8)
    for index, char in enumerate(chars):
        if char in SEPARATORS:
            cells[:, index] = separator_glyph(char)
    cells[:, positions] = digits.reshape(styles, len(positions), 28, 28)
    return cells


def rows_picture(cells: np.ndarray, padding: int = 2) -> np.ndarray:
    """(rows, cols, 28, 28) -> one grid picture; digits of a row touch (padding 0) like handwriting."""
    rows, cols = cells.shape[:2]
    picture = np.zeros((rows * (28 + padding) + padding, cols * 28 + 2 * padding), dtype=np.uint8)
    for row in range(rows):
        top = padding + row * (28 + padding)
        picture[top:top + 28, padding:padding + cols * 28] = np.concatenate(list(cells[row]), axis=1)
    return picture


# --- interpolation --------------------------------------------------------------------------------------

def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between rows a (N, D) and b (N, D) at fractions t (T,) -> (N, T, D)."""
    a_unit, b_unit = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
    omega = torch.arccos((a_unit * b_unit).sum(1).clamp(-1 + 1e-7, 1 - 1e-7))[:, None]  # (N, 1)
    t = t[None, :]
    sin_omega = torch.sin(omega)
    weight_a = torch.sin((1 - t) * omega) / sin_omega
    weight_b = torch.sin(t * omega) / sin_omega
    return weight_a[..., None] * a[:, None] + weight_b[..., None] * b[:, None]


def interpolate(generator: torch.nn.Module, config: RunConfig, start: int, end: int, steps: int, space: str,
                styles: int = 1, seed: int = 0, writers: torch.Tensor | None = None) -> np.ndarray:
    """(styles, steps, 28, 28) uint8 frames.

    label space: the same noise per row, label vector (1-t)·e_start + t·e_end.
    latent space: class `start` fixed, noise walks by slerp from one random latent to another.
    writers (styles, z_dim): each row's noise (label space) or starting noise (latent space), instead of the seed's.
    """
    if writers is not None:
        styles = len(writers)
    if not 2 <= steps <= MAX_STEPS:
        raise UserError(f"an interpolation needs between 2 and {MAX_STEPS} steps, got {steps}")
    _check_styles(styles)
    classes = config.model.num_classes
    for digit in (start, end):
        if not 0 <= digit < classes:
            raise UserError(f"digits must be 0-{classes - 1}, got {digit}")
    device = next(generator.parameters()).device
    rng = torch.Generator(device=device).manual_seed(seed)
    fractions = torch.linspace(0, 1, steps)
    if space == "label":
        if not config.model.conditional:
            raise UserError("label-space interpolation needs a conditional model")
        rows = writers.to(device) if writers is not None else sample_noise(styles, config.model, rng, device)
        z = rows.repeat_interleave(steps, dim=0)
        label_vector = label_mix(start, end, fractions, classes).repeat(styles, 1)
    elif space == "latent":
        first = sample_noise(styles, config.model, rng, device)
        second = sample_noise(styles, config.model, rng, device)
        if writers is not None:
            first = writers.to(device)
        z = slerp(first, second, fractions.to(device)).reshape(styles * steps, -1)
        label_vector = one_hot(torch.full((styles * steps,), start), classes)
    else:
        raise UserError(f"interpolation space must be label or latent, got '{space}'")
    return generate(generator, config, label_vector, z=z).reshape(styles, steps, 28, 28)


# --- the clock ------------------------------------------------------------------------------------------

def parse_time(text: str) -> int:
    """'HH:MM' or 'HH:MM:SS' (24 h) -> seconds since midnight."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise UserError(f"'{text}' is not a time in the form HH:MM or HH:MM:SS")
    hours, minutes, seconds = (int(p) for p in (parts + ["00"])[:3])
    if hours > 23 or minutes > 59 or seconds > 59:
        raise UserError(f"{text} is not a time of day")
    return hours * 3600 + minutes * 60 + seconds


def _clock_digits(second: int) -> list[int]:
    second %= 86400
    return [int(ch) for ch in f"{second // 3600:02d}{second // 60 % 60:02d}{second % 60:02d}"]


def clock_label_vectors(second: int, t: float, classes: int) -> torch.Tensor:
    """(6, C) label vectors of HHMMSS at `second`, a fraction t ∈ [0, 1] into the crossfade from second - 1:
    a digit that changed is (1-e)·e_old + e·e_new with the cosine ease e = (1 - cos(pi·t)) / 2."""
    ease = float((1 - np.cos(np.pi * min(max(t, 0.0), 1.0))) / 2)
    return torch.stack([label_mix(old, new, 1.0 if old == new else ease, classes)
                        for old, new in zip(_clock_digits(second - 1), _clock_digits(second), strict=True)])


def clock_picture(digits: np.ndarray) -> np.ndarray:
    """(6, 28, 28) uint8 digits -> the HH:MM:SS picture."""
    colon = separator_glyph(":")
    cells = [digits[0], digits[1], colon, digits[2], digits[3], colon, digits[4], digits[5]]
    return rows_picture(np.stack(cells)[None])


def clock_frames(generator: torch.nn.Module, config: RunConfig, start_seconds: int, duration: int, fps: float,
                 fade: float = 0.5, seed: int = 0, writer: torch.Tensor | None = None) -> list[np.ndarray]:
    """Frames of an HH:MM:SS clock ticking for `duration` seconds from `start_seconds`; the digits that change
    crossfade in label space over `fade` seconds (see clock_label_vectors). One writer draws every digit: its
    noise (1, z_dim) `writer` (a hand), else drawn from `seed`."""
    if not 1 <= duration <= MAX_SECONDS:
        raise UserError(f"a clock runs between 1 and {MAX_SECONDS} seconds, got {duration}")
    if not 0 < fps <= MAX_FPS:
        raise UserError(f"frames per second must be in (0, {MAX_FPS:g}], got {fps}")
    if not config.model.conditional:
        raise UserError("the clock needs a conditional model")
    device = next(generator.parameters()).device
    if writer is None:
        writer = sample_noise(1, config.model, torch.Generator(device=device).manual_seed(seed), device)
    writer = writer.to(device)
    frame_count = max(1, int(round(duration * fps)))
    rows = []
    for frame in range(frame_count):
        elapsed = frame / fps
        whole = int(elapsed)
        t = min((elapsed - whole) / fade, 1.0) if fade > 0 and whole > 0 else 1.0
        rows.append(clock_label_vectors(start_seconds + whole, t, config.model.num_classes))
    label_vector = torch.cat(rows)
    images = generate(generator, config, label_vector, z=writer.expand(len(label_vector), -1))
    return [clock_picture(digits) for digits in images.reshape(frame_count, 6, 28, 28)]


# --- label scaling ---------------------------------------------------------------------------------------

def parse_scales(text: str) -> list[float]:
    """'0,0.25,...,2.25' -> an arithmetic range; otherwise a comma list of numbers."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        if "..." in parts:
            if len(parts) != 4 or parts[2] != "...":
                raise ValueError
            first, second, last = float(parts[0]), float(parts[1]), float(parts[3])
            step = second - first
            if step <= 0 or last < first:
                raise ValueError
            count = int(round((last - first) / step)) + 1
            values = [round(first + i * step, 10) for i in range(count)]
        else:
            values = [float(p) for p in parts]
    except ValueError:
        raise UserError(f"'{text}' is not a list of scales like 0,0.5,1 or a range like 0,0.25,...,2.25") from None
    if not values or len(values) > MAX_SCALES:
        raise UserError(f"give 1 to {MAX_SCALES} scales, got {len(values)}")
    return values


def intensity(generator: torch.nn.Module, config: RunConfig, digit: int, scales: list[float], styles: int = 4,
              seed: int = 0) -> np.ndarray:
    """(styles, len(scales), 28, 28): the digit drawn with label vector s·e_digit for each scale s."""
    if not config.model.conditional:
        raise UserError("intensity needs a conditional model")
    _check_styles(styles)
    classes = config.model.num_classes
    device = next(generator.parameters()).device
    z = sample_noise(styles, config.model, torch.Generator(device=device).manual_seed(seed), device)
    z = z.repeat_interleave(len(scales), dim=0)
    label_vector = (torch.tensor(scales)[:, None] * torch.eye(classes)[digit]).repeat(styles, 1)
    return generate(generator, config, label_vector, z=z).reshape(styles, len(scales), 28, 28)


# --- synthetic data set export ----------------------------------------------------------------------------

def parse_label_counts(spec: str | None, total: int, num_classes: int) -> np.ndarray:
    """Per-class counts: balanced over `total` unless spec gives 'digit:count,...' or 'digit,digit,...'."""
    if not 1 <= total <= MAX_EXPORT:
        raise UserError(f"a data set holds between 1 and {MAX_EXPORT:,} images, got {total}")
    counts = np.zeros(num_classes, dtype=np.int64)
    if spec is None:
        counts[:] = total // num_classes
        counts[: total % num_classes] += 1
        return counts
    entries = [e.strip() for e in spec.split(",") if e.strip()]
    try:
        if all(":" in e for e in entries):
            for entry in entries:
                digit, count = (int(x) for x in entry.split(":"))
                counts[digit] += count
        else:
            digits = [int(e) for e in entries]
            for index, digit in enumerate(digits):
                counts[digit] += total // len(digits) + (1 if index < total % len(digits) else 0)
        if (counts < 0).any():
            raise ValueError
    except (ValueError, IndexError):
        raise UserError(f"'{spec}' is not a label list like '3,5,8' or '0:100,7:900' with digits "
                        f"0-{num_classes - 1}") from None
    if counts.sum() == 0:
        raise UserError(f"'{spec}' asks for no images")
    return counts


EXPORT_FORMATS = ("npz", "idx", "png")


def export_dataset(generator: torch.nn.Module, config: RunConfig, counts: np.ndarray, out: Path, fmt: str,
                   seed: int, source: str) -> dict:
    """Generate counts[c] images of each class c and write them as npz / idx / png, plus manifest.json."""
    import io

    from digitgan.data.idx import idx_bytes

    if fmt not in EXPORT_FORMATS:
        raise UserError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, got '{fmt}'")
    if not config.model.conditional:
        raise UserError("export writes labelled data and needs a conditional model")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"{out} exists and is not an empty folder; choose a new one (nothing is overwritten)")
    classes = config.model.num_classes
    labels = np.repeat(np.arange(classes), counts)
    order = np.random.default_rng(seed).permutation(len(labels))
    labels = labels[order]
    images = generate(generator, config, one_hot(torch.from_numpy(labels), classes), seed=seed)
    make_folder(out)
    class_names = [str(c) for c in range(classes)]
    if fmt == "npz":
        buffer = io.BytesIO()
        np.savez_compressed(buffer, images=images, labels=labels, class_names=np.array(class_names))
        atomic_write(out / "synthetic.npz", buffer.getvalue())
    elif fmt == "idx":
        atomic_write(out / "train-images-idx3-ubyte.gz", idx_bytes(images, compress=True))
        atomic_write(out / "train-labels-idx1-ubyte.gz", idx_bytes(labels.astype(np.uint8), compress=True))
    else:
        for name in class_names:
            (out / name).mkdir()
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            save_png(out / class_names[label] / f"{index:06d}.png", image)
    manifest = {"model": source, "preset": config.preset, "seed": seed, "format": fmt, "count": int(len(labels)),
                "per_class": {name: int(c) for name, c in zip(class_names, counts, strict=True)},
                "load_with": f"digitgan.data.load_dataset('{out / 'synthetic.npz' if fmt == 'npz' else out}')"}
    write_json(out / "manifest.json", manifest)
    return manifest
