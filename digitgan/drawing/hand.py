"""Your own hand: find the noise that makes the generator draw a given digit, and write anything with it.

A drawn digit (a PNG, a photo of paper, a canvas export) is first made to look like MNIST: grayscale, inverted when
dark-on-light, the paper's background taken away, cropped to the ink's box, scaled to fit 20x20 keeping the aspect
ratio, and centred by its centre of mass in 28x28 (`preprocess`; the user sees that picture). Then `invert` finds z
with G(z, class) close to it: Adam on z from several starts (restarts), a loss on shape — pixels, 3x3-blurred
pixels, and the features of a classifier the evaluation does not use (the plain one `digitgan dream` drives) — and
z's norm clipped after every step so that it stays typical for the model's noise. The found z is the hand: written
with any other label vector it draws other digits in that style (`hand.json` keeps it).
"""

from __future__ import annotations

import base64
import io
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from digitgan.config import RunConfig
from digitgan.errors import UserError
from digitgan.files import write_text
from digitgan.images import from_uint8
from digitgan.models import one_hot, sample_noise

HAND_FORMAT = "digitgan-hand-1"
MAX_PIXELS = 4096 * 4096  # a drawn digit larger than this is refused before it is decoded
INK_SHARE_MAX = 0.9       # an image whose "ink" covers more of it than this holds no digit to find


# --- the drawn digit, the MNIST way ------------------------------------------------------------------------------

def read_image(source: bytes | Path) -> np.ndarray:
    """A picture file (PNG, JPEG, ...) -> (H, W) float64 grayscale in [0, 1]; UserError when unreadable."""
    from PIL import Image, UnidentifiedImageError

    name = str(source) if isinstance(source, Path) else "the image"
    try:
        with Image.open(source if isinstance(source, Path) else io.BytesIO(source)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise UserError(f"{name} has {image.width}x{image.height} pixels; at most {MAX_PIXELS:,} are read")
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                flat = Image.new("RGBA", image.size, "white")  # a transparent canvas export: ink on white
                flat.alpha_composite(image.convert("RGBA"))
                image = flat
            return np.asarray(image.convert("L"), dtype=np.float64) / 255.0
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise UserError(f"{name} is not a readable image ({type(error).__name__})") from None


def preprocess(gray: np.ndarray) -> np.ndarray:
    """(H, W) grayscale in [0, 1] -> (28, 28) uint8, ink bright on dark, as MNIST digits are: inverted when the
    border is light (dark ink on paper), the border's level subtracted and the ink stretched to full range,
    cropped to the ink's box, fitted into 20x20 keeping the aspect ratio, centred by centre of mass."""
    from PIL import Image

    if gray.ndim != 2 or min(gray.shape) < 4:
        raise UserError("the image is too small to hold a digit")
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    ink = 1.0 - gray if np.median(border) > 0.5 else gray.copy()
    # the paper's level: what the border mostly shows (a digit seldom fills the edge of its picture)
    background = np.median(np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]]))
    top = np.percentile(ink, 99.9)
    if top - background < 0.15:
        raise UserError("the image has no ink to read: draw a digit darker (or lighter) than its background")
    ink = np.clip((ink - background) / (top - background), 0.0, 1.0)
    ink[ink < 0.2] = 0.0  # paper grain and faint noise below a fifth of the ink's strength
    solid = ink > 0.5
    if solid.mean() > INK_SHARE_MAX:
        raise UserError("the image is nearly all ink: draw one digit on a plain background")
    rows, cols = np.flatnonzero(solid.any(axis=1)), np.flatnonzero(solid.any(axis=0))
    if len(rows) == 0:
        raise UserError("the image has no ink to read: draw a digit darker (or lighter) than its background")
    box = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    height, width = box.shape
    scale = 20.0 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    fitted = np.asarray(Image.fromarray((box * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS),
                        dtype=np.float64)
    canvas = np.zeros((28, 28))
    top_left = ((28 - size[1]) // 2, (28 - size[0]) // 2)
    canvas[top_left[0]:top_left[0] + size[1], top_left[1]:top_left[1] + size[0]] = fitted
    mass = canvas.sum()
    ys, xs = np.mgrid[0:28, 0:28]
    shift_y = int(round(14 - (ys * canvas).sum() / mass)) if mass else 0
    shift_x = int(round(14 - (xs * canvas).sum() / mass)) if mass else 0
    shifted = np.zeros_like(canvas)
    source_rows = slice(max(0, -shift_y), min(28, 28 - shift_y))
    source_cols = slice(max(0, -shift_x), min(28, 28 - shift_x))
    target_rows = slice(max(0, shift_y), min(28, 28 + shift_y))
    target_cols = slice(max(0, shift_x), min(28, 28 + shift_x))
    shifted[target_rows, target_cols] = canvas[source_rows, source_cols]
    return np.clip(np.rint(shifted), 0, 255).astype(np.uint8)


def read_class(digit28: np.ndarray) -> tuple[int, float]:
    """(class, probability) of a preprocessed (28, 28) uint8 digit by the reference classifier."""
    from digitgan.classifiers.reference import load_reference, predict

    classifier, _ = load_reference("mnist")
    logits, _ = predict(classifier, digit28[None])
    probabilities = np.exp(logits[0] - logits[0].max())
    probabilities /= probabilities.sum()
    return int(probabilities.argmax()), float(probabilities.max())


# --- finding the noise ----------------------------------------------------------------------------------------

@dataclass
class InversionSettings:
    steps: int = 150            # Adam steps on z
    restarts: int = 4           # starts per digit; the best final loss wins
    lr: float = 0.05
    blur_weight: float = 1.0    # MSE of 3x3-blurred images, beside the pixels' MSE
    feature_weight: float = 0.02  # MSE of a shape network's features (the plain driven classifier)
    norm_limit: float = 1.2     # z's norm is clipped to norm_limit * sqrt(z_dim) after every step


def _blur(images: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(images, 3, stride=1, padding=1, count_include_pad=False)


def shape_network() -> torch.nn.Module:
    """The features the inversion compares: the classifier `digitgan dream` drives (trained by another recipe than
    the evaluator's reference classifier, so the evaluation judges the result with a network it did not fit)."""
    from digitgan.drawing.dream import load_driven

    network, _ = load_driven("plain")
    return network.eval().requires_grad_(False)


def invert(generator: torch.nn.Module, config: RunConfig, digits: np.ndarray, labels: np.ndarray,
           settings: InversionSettings | None = None, start: torch.Tensor | None = None, seed: int = 0,
           features: torch.nn.Module | None = None) -> tuple[torch.Tensor, np.ndarray]:
    """digits (N, 28, 28) uint8 with their classes (N,) -> (z (N, z_dim), final loss (N,)).

    start: (N, z_dim) z to begin from (an encoder's answer) — it is one of the restarts, the rest are random."""
    settings = settings or InversionSettings()
    generator.eval().requires_grad_(False)
    features = features if features is not None else shape_network()
    count, z_dim, restarts = len(digits), config.model.z_dim, max(1, settings.restarts)
    target = from_uint8(np.repeat(digits, restarts, axis=0))
    label_vector = one_hot(torch.as_tensor(np.repeat(labels, restarts), dtype=torch.long), config.model.num_classes)
    z = sample_noise(count * restarts, config.model, torch.Generator().manual_seed(seed))
    if start is not None:
        z.view(count, restarts, z_dim)[:, 0] = start.detach().to(z.dtype)
    z.requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=settings.lr)
    limit = settings.norm_limit * math.sqrt(z_dim)
    with torch.no_grad():
        target_blur, target_features = _blur(target), features.features(target)

    def losses() -> torch.Tensor:
        drawn = generator(z, label_vector)
        return ((drawn - target).pow(2).flatten(1).mean(1)
                + settings.blur_weight * (_blur(drawn) - target_blur).pow(2).flatten(1).mean(1)
                + settings.feature_weight * (features.features(drawn) - target_features).pow(2).mean(1))

    for _ in range(settings.steps):
        optimizer.zero_grad(set_to_none=True)
        with torch.enable_grad():  # the search differentiates, even when the caller draws under no_grad
            losses().sum().backward()
        optimizer.step()
        with torch.no_grad():
            norms = z.norm(dim=1, keepdim=True)
            z.mul_(torch.clamp(limit / norms, max=1.0))
    with torch.no_grad():
        final = losses().view(count, restarts)
        best = final.argmin(dim=1)
        chosen = z.detach().view(count, restarts, z_dim)[torch.arange(count), best]
    return chosen, final[torch.arange(count), best].numpy()


# --- a drawn picture -> its hand, in one call ----------------------------------------------------------------

@dataclass
class Hand:
    """What `find_hand` found: z (1, z_dim), the digit it drew, how sure the reference classifier was when it read
    the class (None when the class was given), the preprocessed digit (28, 28) uint8, the inversion's final loss and
    the seconds it took."""
    z: torch.Tensor
    digit: int
    probability: float | None
    preprocessed: np.ndarray
    loss: float
    seconds: float


def find_hand(generator: torch.nn.Module, config: RunConfig, picture: bytes | Path, digit: int | None = None,
              encoder: torch.nn.Module | None = None, seed: int = 0,
              settings: InversionSettings | None = None) -> Hand:
    """A picture file (bytes or path) of one drawn digit -> its Hand: preprocessed the MNIST way, its class read by
    the reference classifier unless `digit` is given, z found by `invert` (the encoder's answer as one of the starts
    when an encoder is given). UserError for an unreadable, empty or all-ink picture, or a digit out of range."""
    classes = config.model.num_classes
    if digit is not None and not 0 <= digit < classes:
        raise UserError(f"digit {digit} is not a class of this model (0-{classes - 1})")
    seen = preprocess(read_image(picture))
    probability = None
    if digit is None:
        digit, probability = read_class(seen)
    started = time.perf_counter()
    start = encode(encoder, seen[None], np.array([digit]), classes) if encoder is not None else None
    z, loss = invert(generator, config, seen[None], np.array([digit]), settings=settings, start=start, seed=seed)
    return Hand(z, digit, probability, seen, float(loss[0]), time.perf_counter() - started)


# --- the hand as a short code (a query parameter) and as a file ---------------------------------------------------

HAND_CODE_SCALE = 4096  # the code's step: 1/4096; its range [-8, 8) holds any z a normal or uniform noise draws


def hand_code_length(z_dim: int) -> int:
    """Characters of the hand code of z_dim noise values (64 -> 171)."""
    return math.ceil(2 * z_dim * 4 / 3)


def hand_code(z: torch.Tensor) -> str:
    """z (1, z_dim) or (z_dim,) -> a base64url string without padding: each value as a little-endian int16 in units
    of 1/4096, clipped to [-8, 8). Every string of the right length and alphabet decodes to a valid hand."""
    values = np.clip(np.rint(z.detach().cpu().numpy().reshape(-1) * HAND_CODE_SCALE), -32768, 32767)
    return base64.urlsafe_b64encode(values.astype("<i2").tobytes()).decode().rstrip("=")


def hand_from_code(code: str, z_dim: int) -> torch.Tensor:
    """The z (1, z_dim) of a hand code (`hand_code`); UserError for a code of another length or alphabet."""
    length = hand_code_length(z_dim)
    if len(code) != length or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in code):
        raise UserError(f"a hand is {length} characters of base64url (A-Z, a-z, 0-9, '-', '_') for this model")
    raw = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))[:2 * z_dim]
    return torch.from_numpy(np.frombuffer(raw, dtype="<i2").astype(np.float32) / HAND_CODE_SCALE)[None]


def hand_record(z: torch.Tensor, digit: int, config: RunConfig, model_dir: Path, loss: float,
                preprocessed: np.ndarray) -> dict[str, Any]:
    return {"format": HAND_FORMAT, "z": [round(float(v), 6) for v in z.flatten()], "digit": digit,
            "z_dim": config.model.z_dim, "noise": config.model.noise, "preset": config.preset,
            "model": str(model_dir), "loss": round(float(loss), 6),
            "preprocessed": preprocessed.astype(int).tolist()}


def save_hand(path: Path, record: dict[str, Any]) -> Path:
    return write_text(path, json.dumps(record) + "\n")


def load_hand(path: Path, config: RunConfig) -> torch.Tensor:
    """The z (1, z_dim) of a hand.json written by `digitgan mimic --save-hand`, checked against the model."""
    try:
        record = json.loads(Path(path).read_text())
        z = torch.tensor(record["z"], dtype=torch.float32)[None]
        found_format = record.get("format")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(f"{path} is not a hand file ({type(error).__name__})") from None
    if found_format != HAND_FORMAT:
        raise UserError(f"{path} is not a hand file (format {found_format!r})")
    if z.shape[1] != config.model.z_dim or not torch.isfinite(z).all():
        raise UserError(f"{path} holds a hand of {z.shape[1]} noise values; this model takes {config.model.z_dim}")
    return z


# --- the encoder: the hand in one forward pass ------------------------------------------------------------------

@dataclass
class EncoderRecipe:
    steps: int = 3000
    batch_size: int = 128
    lr: float = 1e-3
    cycle_weight: float = 1.0   # real digits through E then G must come back (pixels + blurred pixels)
    seed: int = 0


def train_encoder(generator: torch.nn.Module, config: RunConfig, real_images: np.ndarray, real_labels: np.ndarray,
                  recipe: EncoderRecipe | None = None, log: Any = print) -> torch.nn.Module:
    """A HandEncoder for `generator`: on generated (z, class, image) triples it must give z back (MSE in z); on real
    digits (uint8 (N, 28, 28) with labels) the generator must redraw the digit from its answer (cycle loss)."""
    from digitgan.models.hand_encoder import HandEncoder

    recipe = recipe or EncoderRecipe()
    torch.manual_seed(recipe.seed)
    rng = torch.Generator().manual_seed(recipe.seed)
    classes = config.model.num_classes
    encoder = HandEncoder(config.model.z_dim, classes)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=recipe.lr)
    generator.eval().requires_grad_(False)
    real = torch.as_tensor(real_images)
    labels = torch.as_tensor(real_labels, dtype=torch.long)
    for step in range(recipe.steps):
        z = sample_noise(recipe.batch_size, config.model, rng)
        fake_labels = one_hot(torch.randint(0, classes, (recipe.batch_size,), generator=rng), classes)
        with torch.no_grad():
            fakes = generator(z, fake_labels)
        latent = (encoder(fakes, fake_labels) - z).pow(2).mean()
        pick = torch.randint(0, len(real), (recipe.batch_size,), generator=rng)
        images, vectors = from_uint8(real[pick]), one_hot(labels[pick], classes)
        redrawn = generator(encoder(images, vectors), vectors)
        cycle = (redrawn - images).pow(2).mean() + (_blur(redrawn) - _blur(images)).pow(2).mean()
        loss = latent + recipe.cycle_weight * cycle
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % 500 == 0 or step == recipe.steps - 1:
            log(f"hand encoder step {step}: z error {latent.item():.4f}, cycle {cycle.item():.4f}")
    return encoder.eval().requires_grad_(False)


def encode(encoder: torch.nn.Module, digits: np.ndarray, labels: np.ndarray, classes: int) -> torch.Tensor:
    """digits (N, 28, 28) uint8 with classes (N,) -> the encoder's z (N, z_dim)."""
    with torch.no_grad():
        return encoder(from_uint8(digits), one_hot(torch.as_tensor(labels, dtype=torch.long), classes))
