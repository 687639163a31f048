"""One registry of model kinds: each kind's parts resolve in the layer that builds them, and no code outside
digitgan/kinds.py compares a kind's name."""

import re
from pathlib import Path

from digitgan.config import load_preset
from digitgan.kinds import KINDS, OBJECTIVE_NAMES, PARTNER_NAMES, kind_of
from digitgan.modelfolder.card import card_text
from digitgan.models import PARTNERS, Discriminator, Encoder, build_partner
from digitgan.training.autoencoder import AutoencoderObjective
from digitgan.training.objective import OBJECTIVES, Objective, objective_for

PACKAGE = Path(__file__).resolve().parents[1] / "digitgan"


def test_every_kind_names_parts_that_exist():
    assert tuple(PARTNERS) == PARTNER_NAMES and tuple(OBJECTIVES) == OBJECTIVE_NAMES
    for kind in KINDS.values():
        assert kind.partner in PARTNERS and kind.objective in OBJECTIVES


def test_each_preset_gets_the_parts_its_kind_declares():
    expected = {"gan": (Discriminator, Objective, False), "vae": (Encoder, AutoencoderObjective, True),
                "ae": (Encoder, AutoencoderObjective, False)}
    for preset in ("fast", "vae", "ae"):
        config = load_preset(preset)
        partner, objective, variational = expected[config.model.kind]
        assert isinstance(build_partner(config.model), partner)
        built = objective_for(config)
        assert isinstance(built, objective)
        if isinstance(built, AutoencoderObjective):
            assert built.variational is variational
        assert f"`{preset}` {kind_of(config.model.kind).title}" in card_text(config, {}, None)


def test_no_module_outside_the_registry_compares_a_kind_name():
    pattern = re.compile(r"""kind\s*(==|!=|in)\s*\(?['"](gan|vae|ae)""")
    offenders = [f"{path.relative_to(PACKAGE)}:{number}" for path in PACKAGE.rglob("*.py") if path.name != "kinds.py"
                 for number, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []
