"""The names every registry answers to, declared once at the bottom of the package (no torch; of ours, only the
kinds registry beside it).

`config` checks a run configuration against these names without importing the code that implements them;
`models` and `training.objective` build their registries (name -> implementation) and assert, at import, that
their keys are exactly these, so a name added in one place and not the other fails at once.
"""

from __future__ import annotations

from digitgan.kinds import KINDS

MODEL_CHOICES: dict[str, tuple[str, ...]] = {
    "kind": tuple(KINDS),
    "noise": ("normal", "uniform"),
    "g_body": ("mlp", "dcgan", "upsample"),
    "g_cond": ("hadamard", "concat", "none"),
    "g_norm": ("batch", "none", "class-batch"),
    "g_act": ("relu", "lrelu"),
    "g_out": ("tanh", "sigmoid"),
    "d_body": ("conv", "mlp", "resnet"),
    "d_cond": ("none", "concat", "projection", "acgan", "projection-acgan", "tac", "projection-tac", "adc",
               "projection-adc"),
    "d_pool": ("flatten", "gap"),
    "d_norm": ("none", "batch"),
    "init": ("torch", "glorot"),
}
LOSS_NAMES: tuple[str, ...] = ("bce", "hinge", "lsgan", "wgan-gp", "rpgan")
AUGMENT_NAMES: tuple[str, ...] = ("none", "translation", "translation-cutout")  # D's input (training/augment.py)
AMP_NETWORKS: tuple[str, ...] = ("both", "generator", "discriminator")  # whose forwards `amp` / `cpu_amp` cover

MAX_PARAMETERS = 100_000_000  # per network: 400 MB of float32 weights, 1.2 GB more for Adam


def registries() -> dict[str, tuple[str, ...]]:
    """Allowed names of every choice field of a run configuration (model fields by name, `loss`, `d_augment`,
    `amp_networks`)."""
    return {**MODEL_CHOICES, "loss": LOSS_NAMES, "d_augment": AUGMENT_NAMES, "amp_networks": AMP_NETWORKS}


def check_registry(what: str, registry: dict, names: tuple[str, ...]) -> None:
    """Assert that an implementation registry's keys are exactly the declared names (order included)."""
    if tuple(registry) != names:
        raise AssertionError(f"the {what} registry has {tuple(registry)}, but digitgan/choices.py declares {names}")
