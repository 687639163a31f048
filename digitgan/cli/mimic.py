"""`digitgan mimic`: draw one digit (a PNG or photo), and digitgan writes any number, or the clock, in that hand."""

from __future__ import annotations

from pathlib import Path

import click

from digitgan.cli.options import OutputFile, load_model, resolve_model, run_option, seed_option, threads_option


@click.command()
@click.option("--image", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="your digit: a PNG or JPEG, dark on light or light on dark, any size")
@click.option("--digit", type=click.IntRange(0, 9), help="which digit it is (default: read by the reference "
                                                         "classifier)")
@click.option("--write", "text", help="the number to write in that hand (digits, ':', '-', space)")
@click.option("--clock", "clock_seconds", type=click.IntRange(1, 3600), help="instead: a clock of this many seconds "
                                                                              "from now, in that hand (GIF)")
@click.option("--out", type=OutputFile(".png", ".gif"), required=True, help="the picture (.png; .gif for --clock)")
@click.option("--save-hand", type=OutputFile(".json"), help="keep the hand (its noise) for `write/clock --hand`")
@run_option()
@seed_option()
@threads_option()
def mimic(image: Path, digit: int | None, text: str | None, clock_seconds: int | None, out: Path,
          save_hand: Path | None, run: str | None, seed: int, threads: int | None) -> int:
    """Find the hand of your digit (the noise that makes the generator draw it) and write with it. Beside OUT, a
    picture OUT.seen.png shows the digit as the model saw it (MNIST-style: cropped, 20x20, centred) and the
    generator's redrawing of it."""
    import time

    import numpy as np
    import torch

    from digitgan.drawing.hand import encode, hand_record, invert, load_encoder, preprocess, read_class, read_image
    from digitgan.drawing.hand import save_hand as write_hand
    from digitgan.drawing.numbers import clock_frames, rows_picture, write_number
    from digitgan.drawing.sampling import generate
    from digitgan.errors import UserError
    from digitgan.files import save_frames, save_png
    from digitgan.models import one_hot

    if (text is None) == (clock_seconds is None):
        raise UserError("give --write NUMBER or --clock SECONDS")
    from digitgan.modelfolder.folder import find_model_dir

    generator, config, _ = load_model(run, threads)
    model_dir = find_model_dir(resolve_model(run))
    seen = preprocess(read_image(image))
    if digit is None:
        digit, probability = read_class(seen)
        print(f"read as a {digit} (reference classifier, p = {probability:.2f}); --digit says otherwise")
    started = time.perf_counter()
    try:  # the encoder's answer as one of the starts, when the model folder has one
        start = encode(load_encoder(model_dir), seen[None], np.array([digit]), config.model.num_classes)
    except UserError:
        start = None
    z, loss = invert(generator, config, seen[None], np.array([digit]), seed=seed, start=start)
    print(f"found the hand in {time.perf_counter() - started:.1f} s (loss {loss[0]:.4f})")
    redrawn = generate(generator, config, one_hot(torch.tensor([digit]), config.model.num_classes), z=z)
    seen_path = out.with_suffix(".seen.png")
    save_png(seen_path, rows_picture(np.stack([seen, redrawn[0]])[None]), scale=4)
    if text is not None:
        print(save_png(out, rows_picture(write_number(generator, config, text, writers=z)), scale=2))
    else:
        local = time.localtime()
        start = local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec
        print(save_frames(out, clock_frames(generator, config, start, clock_seconds, 10.0, writer=z), fps=10.0))
    print(f"{seen_path}: your digit as the model saw it, and the generator's redrawing of it")
    if save_hand is not None:
        print(write_hand(save_hand, hand_record(z, digit, config, model_dir, float(loss[0]), seen)))
    return 0


@click.command("hand-encoder")
@run_option()
@click.option("--steps", type=click.IntRange(1, 1_000_000), default=3000, show_default=True, help="training steps")
@seed_option()
@threads_option()
def hand_encoder(run: str | None, steps: int, seed: int, threads: int | None) -> int:
    """Train the hand encoder of a model (the noise of a drawn digit in one forward pass) into its model folder,
    where `mimic` and the offline page find it."""
    import time

    from digitgan.data import load_dataset
    from digitgan.drawing.hand import EncoderRecipe, save_encoder, train_encoder
    from digitgan.modelfolder.folder import find_model_dir

    generator, config, _ = load_model(run, threads)
    model_dir = find_model_dir(resolve_model(run))
    train = load_dataset(config.train.dataset, "train")
    recipe = EncoderRecipe(steps=steps, seed=seed)
    started = time.monotonic()
    encoder = train_encoder(generator, config, train.images, train.labels, recipe)
    print(save_encoder(model_dir, encoder, recipe, {"train_seconds": round(time.monotonic() - started, 1)}))
    return 0
