"""The load section's machinery on tiny budgets: fresh digitgan processes with chosen OpenMP environments, alone
and beside a competitor (timings live in `make bench`, never in tests)."""

import os

import pytest

from benchmarks.sections import load


def test_environment_drops_the_users_openmp_settings(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    monkeypatch.setenv("GOMP_SPINCOUNT", "5")
    env = load.environment({"GOMP_SPINCOUNT": "7"})
    assert "OMP_WAIT_POLICY" not in env and env["GOMP_SPINCOUNT"] == "7" and env["PATH"] == os.environ["PATH"]


@pytest.mark.slow
def test_training_under_load_measures_every_variant(monkeypatch):
    # two of the variants (each a fresh process alone and beside the competitor); the bench runs all five
    chosen = (load.DEFAULT, load.FIXED)
    monkeypatch.setattr(load, "VARIANTS", {name: load.VARIANTS[name] for name in chosen})
    result = load.training_under_load(rounds=1, steps=3)
    for where in ("alone", "beside_competitor"):
        assert set(result[where]) == set(chosen)
        assert all(row["images_per_second"] > 0 for row in result[where].values())
    assert result["default_alone_vs_fixed"] > 0 and result["default_beside_competitor_of_alone"] > 0
