"""The shipped model's row of the distribution section (`--only shipped`): read from the committed report, no
training; a model shipped before it keeps its row."""

import json
from types import SimpleNamespace

from benchmarks.sections.distribution import KEYS, recipe_note, run_shipped
from digitgan.modelfolder.folder import default_model_dir


def test_the_shipped_row_is_the_committed_report_and_the_one_before_is_kept():
    report = json.loads((default_model_dir() / "report.json").read_text())
    before = {"step": 12000, "preset": "shipped", **dict.fromkeys(KEYS, 0.5), "cas": 0.9,
              "real_floor": report["real_floor"]}
    context = SimpleNamespace(smoke=False, results={"distribution": {"levers": {}, "shipped": before}})
    run_shipped(context)
    data = context.results["distribution"]
    shipped = data["shipped"]
    assert shipped["source"] == "the committed report (make pretrained)"
    assert {key: shipped[key] for key in KEYS} == {key: report["model"][key] for key in KEYS}
    assert shipped["cas"] == report["model"]["cas"] and shipped["step"] == report["step"]
    config = json.loads((default_model_dir() / "config.json").read_text())
    assert shipped["recipe"] == recipe_note(config)
    assert data["earlier_shipped"] == [before]
    run_shipped(context)  # the same model again: nothing more moves
    assert data["earlier_shipped"] == [before] and data["shipped"] == shipped


def test_the_recipe_note_tells_shipped_models_apart():
    plain = {"step": 90000, "train": {"label_smoothing": 0.0}}
    assert recipe_note(plain) == "no label smoothing, the EMA at step 90,000"
    averaged = {"step": 90000, "averaged_steps": [70000, 80000, 90000], "train": {"label_smoothing": 0.1}}
    assert recipe_note(averaged) == "one-sided label smoothing 0.1, the EMA averaged over steps 70,000-90,000"
