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

    from digitgan.drawing.hand import find_hand, hand_record
    from digitgan.drawing.hand import save_hand as write_hand
    from digitgan.drawing.numbers import clock_frames, rows_picture, write_number
    from digitgan.drawing.sampling import generate
    from digitgan.errors import UserError
    from digitgan.files import save_frames, save_png
    from digitgan.modelfolder.encoder import optional_encoder
    from digitgan.modelfolder.folder import find_model_dir
    from digitgan.models import one_hot

    if (text is None) == (clock_seconds is None):
        raise UserError("give --write NUMBER or --clock SECONDS")
    generator, config, _ = load_model(run, threads)
    model_dir = find_model_dir(resolve_model(run))
    # the encoder's answer is one of the starts when the model folder has one
    hand = find_hand(generator, config, image, digit, encoder=optional_encoder(model_dir), seed=seed)
    z, digit, seen = hand.z, hand.digit, hand.preprocessed
    if hand.probability is not None:
        print(f"read as a {digit} (reference classifier, p = {hand.probability:.2f}); --digit says otherwise")
    print(f"found the hand in {hand.seconds:.1f} s (loss {hand.loss:.4f})")
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
        print(write_hand(save_hand, hand_record(z, digit, config, model_dir, hand.loss, seen)))
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
    from digitgan.drawing.hand import EncoderRecipe, train_encoder
    from digitgan.modelfolder.encoder import save_encoder
    from digitgan.modelfolder.folder import find_model_dir

    generator, config, _ = load_model(run, threads)
    model_dir = find_model_dir(resolve_model(run))
    train = load_dataset(config.train.dataset, "train")
    recipe = EncoderRecipe(steps=steps, seed=seed)
    started = time.monotonic()
    encoder = train_encoder(generator, config, train.images, train.labels, recipe)
    print(save_encoder(model_dir, encoder, recipe, {"train_seconds": round(time.monotonic() - started, 1)}))
    return 0
