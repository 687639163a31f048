"""Run directories written before the training/ package (digitgan 0.1 at adfd650) still resume and load.

tests/fixtures/legacy-run-0.1/ was written by that code (HOW.md has the script): a 6-step run with two
checkpoints and an exported model, and expected.pt, what the old code produced when it resumed the run to 12 steps
(on that machine's CPU).
"""

import shutil
from pathlib import Path

import numpy as np
import torch

from digitgan.config import with_train
from digitgan.drawing.sampling import generate
from digitgan.modelfolder.folder import load_generator
from digitgan.models import one_hot
from digitgan.training import train
from digitgan.training.checkpoints import load_resumable
from digitgan.training.history import read_history

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "legacy-run-0.1"


def test_legacy_run_resumes_bit_identically_and_its_model_loads(tmp_path, monkeypatch):
    shutil.copytree(FIXTURE, tmp_path / "legacy")
    monkeypatch.chdir(tmp_path / "legacy")  # its config names the data set as tiny.npz, relative
    expected = torch.load("expected.pt", weights_only=True)

    generator, config, raw = load_generator(Path("run"))
    assert raw["step"] == 6 and config.train.dataset == "tiny.npz"
    images = generate(generator, config, one_hot(torch.arange(10), 10), seed=3)
    # written on another CPU type: the same pixels, each within one grey level (float rounding at a level's edge)
    assert np.abs(images.astype(int) - expected["exported_images_seed3"].numpy().astype(int)).max() <= 1

    shutil.copytree("run", "chained")
    train(with_train(config, steps=12), Path("run"), resume=Path("run"), quiet=True)
    _, resumed = load_resumable(Path("run"))
    assert resumed["step"] == expected["step"] == 12 and resumed["images_seen"] == expected["images_seen"]
    # Against the old code's own continuation: the same to float rounding. Bit for bit only on the CPU type the
    # fixture was written on (oneDNN picks kernels by instruction set, and they round differently).
    # the old checkpoint's names (discriminator, g_opt, d_opt) are read under today's (partner, ...)
    for old, network in (("generator", "generator"), ("discriminator", "partner"), ("ema", "ema")):
        for name, tensor in expected[old].items():
            assert torch.allclose(resumed[network][name], tensor, rtol=1e-4, atol=1e-5), f"{network}.{name}"
    logged = [(row["step"], row.get("d_loss")) for row in read_history(Path("run/history.jsonl"))]
    assert [step for step, _ in logged] == [row[0] for row in expected["history_d_loss"]]
    assert np.allclose([v for _, v in logged if v is not None],
                       [row[1] for row in expected["history_d_loss"] if row[1] is not None], rtol=1e-4)
    # Bit for bit on any machine: the legacy checkpoint resumed in two legs (6 -> 9 -> 12) equals one leg (6 -> 12)
    for steps in (9, 12):
        train(with_train(config, steps=steps), Path("chained"), resume=Path("chained"), quiet=True)
    _, chained = load_resumable(Path("chained"))
    for network in ("generator", "partner", "ema"):
        for name, tensor in resumed[network].items():
            assert torch.equal(chained[network][name], tensor), f"{network}.{name}: 6 + 3 + 3 != 6 + 6 steps"
