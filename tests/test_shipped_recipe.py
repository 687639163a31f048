"""The `shipped` preset is the recipe of the model shipped inside digitgan: the same model and training settings as
its config.json (the budget and seed aside, which `make pretrained` gives on the command line)."""

import json

from digitgan.config import load_preset
from digitgan.modelfolder.folder import default_model_dir

BUDGET = {"steps", "epochs", "minutes", "seed"}


def test_the_shipped_preset_is_the_shipped_model_s_recipe():
    shipped = json.loads((default_model_dir() / "config.json").read_text())
    preset = load_preset("shipped").to_dict()
    assert preset["model"] == {**preset["model"], **shipped["model"]}  # settings added since keep their defaults
    differing = {key for key in shipped["train"] if shipped["train"][key] != preset["train"][key]} - BUDGET
    assert not differing, {key: (shipped["train"][key], preset["train"][key]) for key in differing}
