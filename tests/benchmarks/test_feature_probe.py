"""The discriminator-as-feature-extractor probe on a tiny unconditional run: protocol and report structure (the
figures come from `python -m benchmarks.feature_probe` on make reproduce's runs, never from tests)."""

import json

import pytest

from benchmarks.feature_probe import main, subset
from digitgan.errors import UserError
from digitgan.training import train
from tests.conftest import tiny_config


def test_probe_reports_every_extractor_and_k(tmp_path, tiny_npz):
    train(tiny_config("dcgan", dataset=str(tiny_npz), steps=2), tmp_path / "runs" / "dcgan", quiet=True)
    assert main(["--runs", str(tmp_path / "runs"), "--out", str(tmp_path), "--ks", "2", "5", "--seeds", "0", "1",
                 "--quick", "--threads", "1"]) == 0
    results = json.loads((tmp_path / "features.json").read_text())
    assert set(results["extractors"]) == {"raw pixels", "dcgan D, trained without labels", "dcgan D, random weights"}
    for row in results["extractors"].values():
        assert set(row["accuracy"]) == {"2", "5"} and all(0 <= v["mean"] <= 1 for v in row["accuracy"].values())
    text = (tmp_path / "FEATURES.md").read_text()
    assert "| raw pixels | 784 |" in text and "k = 5" in text
    # a D trained another way gets rows of its own beside the earlier ones; raw pixels are not measured again
    train(tiny_config("dcgan", dataset=str(tiny_npz), steps=3), tmp_path / "other" / "dcgan", quiet=True)
    assert main(["--runs", str(tmp_path / "other"), "--out", str(tmp_path), "--ks", "2", "5", "--seeds", "0", "1",
                 "--quick", "--threads", "1", "--tag", "3 steps"]) == 0
    merged = json.loads((tmp_path / "features.json").read_text())["extractors"]
    assert merged["raw pixels"] == results["extractors"]["raw pixels"]
    assert merged["dcgan D, trained without labels"]["step"] == 2
    assert merged["dcgan D (3 steps), trained without labels"]["step"] == 3 and len(merged) == 5
    # another protocol is refused rather than mixed in
    with pytest.raises(UserError, match="another protocol"):
        main(["--runs", str(tmp_path / "other"), "--out", str(tmp_path), "--ks", "2", "--seeds", "0", "1",
              "--quick", "--threads", "1"])


def test_the_labelled_subset_has_k_per_class_and_depends_on_the_seed():
    import numpy as np

    labels = np.arange(200) % 10
    a, b = subset(labels, 3, 0, 10), subset(labels, 3, 1, 10)
    assert len(a) == 30 and all((labels[a] == c).sum() == 3 for c in range(10)) and set(a) != set(b)


def test_a_conditional_d_is_refused(tmp_path, tiny_npz):
    from benchmarks.feature_probe import trained_discriminator

    train(tiny_config("fast", dataset=str(tiny_npz), steps=1), tmp_path / "run", quiet=True)
    with pytest.raises(UserError, match="trained with labels"):
        trained_discriminator(tmp_path / "run")
