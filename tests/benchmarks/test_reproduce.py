"""`make reproduce` on tiny budgets: it trains, evaluates, dreams, resumes without redoing work, and its report has
a row for every way of drawing."""

import json

import pytest

from benchmarks.reproduce import BUDGETS, DREAMS, main
from benchmarks.reproductions_report import render


@pytest.mark.slow
def test_reproduce_smoke_and_resume(tmp_path, small_real_floor):
    args = ["--smoke", "--only", "fast", "vae", "dream", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path),
            "--threads", "1"]
    assert main(args) == 0
    results = json.loads((tmp_path / "reproductions.json").read_text())
    assert set(results["runs"]) == {"fast", "vae"} and set(results["dreams"]) == set(DREAMS)
    for row in results["runs"].values():
        assert row["curve"] and 0 <= row["model"]["recall"] <= 1 and "cas" in row["model"] or row is results[
            "runs"]["vae"]
    d = results["runs"]["fast"]["d_accuracy"]
    assert all(0 <= d[key] <= 1 for key in ("real", "fake", "both")) and "d_accuracy" not in results["runs"]["vae"]
    text = (tmp_path / "REPRODUCTIONS.md").read_text()
    assert "`fast`" in text and "`vae`" in text and all(name in text for name in DREAMS)
    assert "- D at the end (eval mode): right on" in text
    for picture in ("fast.png", "vae.png", "vae-reconstructions.png", "curves.png", "all.png"):
        assert (tmp_path / "reproductions" / picture).exists(), picture
    # each row keeps its strip of samples, so all.png can be drawn again once the run folders are gone
    strips = [row["strip"] for row in [*results["runs"].values(), *results["dreams"].values()]]
    assert len(strips) == 5 and all((tmp_path / "reproductions" / strip).is_file() for strip in strips)
    stamp = (tmp_path / "runs" / "fast" / "eval" / "report.json").stat().st_mtime
    assert main(args) == 0  # everything already done: nothing is trained or evaluated again
    assert (tmp_path / "runs" / "fast" / "eval" / "report.json").stat().st_mtime == stamp


def test_report_has_a_row_for_every_way_of_drawing(tmp_path):
    scores = {"accuracy": 0.9, "fcd": 2.0, "recall": 0.5, "coverage": 0.7, "cas": 0.95, "broken": 0.01}
    row = {"run": "r", "budget_images": 1000, "images_seen": 1000, "epochs": 0.02, "train_seconds": 10.0,
           "claim": "a claim", "gpu_epochs": 15, "curve": [], "model": scores, "real_floor": scores}
    results = {"machine": {}, "runs": {preset: dict(row) for preset in BUDGETS},
               "dreams": {name: {"run": "d", "seconds": 5.0, "driven": {"says_asked": 1.0, "mean_probability": 0.99},
                                 "model": {**scores, "n": 100}} for name in DREAMS}}
    text = render(results, tmp_path)
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(any(f"`{preset}`" in line for line in table) for preset in BUDGETS)
    assert all(any(name in line for line in table) for name in DREAMS) and any("real data" in line for line in table)
    assert "DEVICE=cuda" in text and "Not run yet" in text
    # an earlier recipe's row stays beside the new one, with its own picture and its recipe said
    results["runs"]["simple-gan (PyTorch defaults)"] = {**row, "recipe": "PyTorch's defaults",
                                                        "picture": "simple-gan-pytorch-defaults.png"}
    text = render(results, tmp_path)
    assert "## `simple-gan (PyTorch defaults)`" in text and "- Recipe: PyTorch's defaults." in text
    assert "(reproductions/simple-gan-pytorch-defaults.png)" in text and "(reproductions/simple-gan.png)" in text
    assert "shared the 2 cores" not in text
    results["runs"]["fast"]["shared_cores"] = True  # its seconds are marked as bounds, the others' are not
    table = [line for line in render(results, tmp_path).splitlines() if line.startswith("| `")]
    assert [line.count("\\*") for line in table[:3]] == [2, 0, 0] and "shared the 2 cores" in render(results, tmp_path)
    gpu_rows = {"keras-acgan": {**row, "budget_images": 900_000, "budget_of": "source", "reached": True,
                                "epochs": 15.0},
                "writing-numbers": {k: v for k, v in row.items() if k not in ("model", "real_floor")}
                | {"budget_images": 6_000_000, "budget_of": "source", "reached": False, "epochs": 20.0}}
    results["gpu"] = {"runs": gpu_rows}
    results["gpu_machine"] = {"device": "NVIDIA H200", "torch": "2.11.0"}
    text = render(results, tmp_path)
    assert "NVIDIA H200" in text and "Not run yet" not in text
    assert any("`keras-acgan` | 15 epochs (source) | 15 epochs |" in line for line in text.splitlines())
    assert any("`writing-numbers`" in line and "not yet finished" in line for line in text.splitlines())


@pytest.mark.slow
def test_equal_time_rows_train_minutes_and_render(tmp_path, small_real_floor):
    args = ["--smoke", "--only", "fast", "--equal-minutes", "0.01", "--runs", str(tmp_path / "runs"), "--out",
            str(tmp_path), "--threads", "1"]
    assert main(args) == 0
    results = json.loads((tmp_path / "reproductions.json").read_text())
    row = results["equal_time"]["runs"]["fast"]
    assert row["minutes"] == 0.01 and row["images_seen"] > 0 and 0.55 <= row["train_seconds"] < 5
    assert "runs" not in results or "fast" not in results["runs"]  # the budget rows are another section
    text = (tmp_path / "REPRODUCTIONS.md").read_text()
    assert "at equal time: 0.01 minutes of training each" in text and "`fast` (" in text
    assert "reproductions/all-equal-time.png" in text and (tmp_path / "reproductions" / "all-equal-time.png").exists()
    # a later session without the run folder keeps the stored row instead of training it again
    import shutil

    shutil.rmtree(tmp_path / "runs" / "equal-time" / "fast")
    assert main(args) == 0
    assert json.loads((tmp_path / "reproductions.json").read_text())["equal_time"]["runs"]["fast"] == row
    assert not (tmp_path / "runs" / "equal-time" / "fast").exists()


def test_the_comparison_picture_is_drawn_from_kept_strips_and_says_what_it_leaves_out(tmp_path, capsys):
    from PIL import Image

    from benchmarks.reproduce import strips_picture

    (tmp_path / "rows").mkdir()
    Image.new("L", (302, 32), 128).save(tmp_path / "rows" / "a.png")
    strips_picture([("a long name that did not fit in the old label column", "rows/a.png"), ("gone", None)],
                   tmp_path, tmp_path / "all.png")
    assert "leaves out gone" in capsys.readouterr().out
    with Image.open(tmp_path / "all.png") as picture:
        assert picture.height == 2 * 32 * 2 and picture.width > 2 * (150 + 302)  # the label column grew


def test_equal_time_budget_is_one_for_every_row(tmp_path):
    import pytest

    from digitgan.errors import UserError

    (tmp_path / "reproductions.json").write_text(json.dumps({"equal_time": {"minutes": 10, "runs": {}}}))
    with pytest.raises(UserError, match="quiet cores"):
        main(["--smoke", "--only", "fast", "--equal-minutes", "10", "--shared-cores", "--out", str(tmp_path)])
    with pytest.raises(UserError, match="equal-time rows of 10 minutes"):
        main(["--smoke", "--only", "fast", "--equal-minutes", "5", "--runs", str(tmp_path / "runs"), "--out",
              str(tmp_path), "--threads", "1"])


def test_the_committed_report_is_the_rendering_of_the_committed_results():
    from pathlib import Path

    from benchmarks.common import HERE

    results = json.loads((HERE / "reproductions.json").read_text())
    assert (HERE / "REPRODUCTIONS.md").read_text() == render(results, Path("runs/reproduce")), \
        "run: python -m benchmarks.reproductions_report"
    for row in [*results["runs"].values(), *results.get("dreams", {}).values()]:
        assert "strip" not in row or (HERE / "reproductions" / row["strip"]).is_file()
