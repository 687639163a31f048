"""Config at the bottom: the names of every registry are declared in digitgan/choices.py; config reads them without
importing models, training or torch, and the implementing registries agree with them."""

import subprocess
import sys

import pytest

from digitgan.choices import LOSS_NAMES, MODEL_CHOICES, check_registry


def test_config_imports_nothing_above_it():
    code = ("import sys, digitgan.config as c; c.load_preset('fast'); "
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith(('digitgan.models', "
            "'digitgan.training'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_registries_match_the_declared_names():
    from digitgan.models import CHOICES
    from digitgan.training.objective import LOSSES

    assert {name: tuple(registry) for name, registry in CHOICES.items()} == MODEL_CHOICES
    assert tuple(LOSSES) == LOSS_NAMES
    with pytest.raises(AssertionError, match="declares"):
        check_registry("loss", {**LOSSES, "new": None}, LOSS_NAMES)
