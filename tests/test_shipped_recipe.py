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


def test_readme_s_table_of_the_shipped_model_is_its_report():
    from pathlib import Path

    report = json.loads((default_model_dir() / "report.json").read_text())
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text().splitlines()

    def row(label: str, scores: dict) -> str:
        return (f"| {label} | {scores['accuracy']:.4f} | {scores['fcd']:.3f} | {scores['recall']:.3f} | "
                f"{scores['coverage']:.3f} | {scores['broken']:.4f} | {scores['cas']:.4f} |")

    assert row("shipped model", report["model"]) in readme
    assert row("real data (floor)", {**report["real_floor"], "cas": report["classifier"]["test_accuracy"]}) in readme
