"""One list of headline metrics: the served page's /api/model, the ONNX file's metadata and the model card show
the same keys and values of the shipped model's report."""

import json

import onnx
from fastapi.testclient import TestClient

from digitgan.config import load_preset
from digitgan.modelfolder.card import front_matter
from digitgan.modelfolder.evaluation import HEADLINE_KEYS, evaluation_summary, read_report
from digitgan.modelfolder.folder import default_model_dir
from digitgan.modelfolder.onnx_export import export_onnx
from digitgan.pages.server import create_app


def card_metrics(lines: list[str]) -> dict[str, float]:
    """{key: value} from a card's model-index (`- type: KEY` followed by `value: V`)."""
    found, key = {}, None
    for line in lines:
        if line.strip().startswith("- type: "):
            key = line.split(": ", 1)[1]
        elif line.strip().startswith("value: ") and key:
            found[key], key = float(line.split(": ", 1)[1]), None
    return found


def test_page_onnx_and_card_show_the_same_headline_figures(tmp_path):
    model_dir = default_model_dir()
    report = read_report(model_dir)
    summary = evaluation_summary(report)
    assert set(summary["model"]) == set(HEADLINE_KEYS)  # the shipped report has every headline metric

    served = TestClient(create_app()).get("/api/model").json()["evaluation"]
    props = {p.key: p.value for p in onnx.load(str(export_onnx(None, tmp_path / "g.onnx"))).metadata_props}
    in_onnx = json.loads(props["evaluation"])
    assert served == in_onnx == json.loads(json.dumps(summary))

    card = card_metrics(front_matter(load_preset("fast"), report))
    assert list(card) == list(summary["model"])
    assert all(abs(card[key] - value) <= 5e-4 * max(1.0, abs(value)) for key, value in summary["model"].items())
    shipped_card = card_metrics((model_dir / "README.md").read_text().split("\n---\n")[0].splitlines())
    assert list(shipped_card) == list(summary["model"])


def test_a_folder_without_a_report_shows_no_figures(tmp_path):
    assert read_report(tmp_path) is None and evaluation_summary(None) is None
    (tmp_path / "report.json").write_text("{not json")
    assert read_report(tmp_path) is None  # unreadable: the figures are hidden, nothing fails
