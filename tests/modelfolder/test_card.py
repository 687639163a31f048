"""Model cards: every exported folder gets README.md in the hub style, with the figures once evaluated."""

from digitgan.config import load_preset
from digitgan.modelfolder.card import card_text


def test_card_has_front_matter_recipe_and_metrics_beside_the_floor():
    config = load_preset("fast")
    evaluation = {"model": {"accuracy": 0.9978, "fcd": 0.688, "recall": 0.797, "coverage": 0.864},
                  "real_floor": {"accuracy": 0.998, "fcd": 0.342, "recall": 0.872, "coverage": 0.939}}
    text = card_text(config, {"step": 90000, "images_seen": 5_760_000}, evaluation)
    head, _, body = text.partition("\n---\n")
    assert head.startswith("---\nlibrary_name: digitgan\nlicense: mit\n") and "- mnist" in head
    assert "type: recall" in head and "value: 0.797" in head and "real data: 0.872" in head
    assert "90,000 steps" in body and "## Intended use and limits" in body and "| recall | 0.797 | 0.872 |" in body


def test_unevaluated_card_says_how_to_get_figures(tiny_run):
    text = (tiny_run / "model" / "README.md").read_text()
    assert text.startswith("---\nlibrary_name: digitgan") and "digitgan evaluate" in text


def test_the_shipped_model_has_its_card_with_figures():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "digitgan" / "modelfolder" / "pretrained" / "README.md").read_text()
    assert text.startswith("---\nlibrary_name: digitgan") and "type: coverage" in text and "| recall |" in text
