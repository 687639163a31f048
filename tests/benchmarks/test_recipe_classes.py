"""The class-loss screen (bench section "recipe_classes"): every lever is a buildable configuration of the `shipped`
preset; every lever trains with both seeds once (a second call resumes and adds nothing); the table shows the seeds'
mean, FCD per seed and the 7s' and 9s' diversity against real data's."""

import json
from pathlib import Path
from types import SimpleNamespace

import benchmarks.sections.recipe as recipe
import benchmarks.sections.recipe_classes as recipe_classes
from benchmarks.report import render
from digitgan.config import load_preset, with_settings
from digitgan.models import check_buildable


def test_every_lever_is_a_buildable_configuration():
    for changes in recipe_classes.LEVERS.values():
        check_buildable(with_settings(load_preset(recipe.PRESET), changes).model)


def test_diversity_shares_are_the_model_s_over_real_data_s():
    report = {"model": {"intra_class_diversity": [5.0, 9.0]}, "real_floor": {"intra_class_diversity": [10.0, 9.0]}}
    assert recipe_classes.diversity_shares(report) == [0.5, 1.0]


def test_each_lever_trains_each_seed_once_and_the_table_renders(tmp_path, monkeypatch):
    trained = []

    def time_to_quality(preset, minutes, eval_seconds, out, steps_per_second, changes):
        run = Path(out) / f"run-{len(trained)}"
        (run / "eval").mkdir(parents=True)
        diversity = [10.0] * 10
        diversity[7] = 8.5 + changes["seed"]
        (run / "eval" / "report.json").write_text(json.dumps(
            {"model": {"intra_class_diversity": diversity}, "real_floor": {"intra_class_diversity": [10.0] * 10}}))
        trained.append(dict(changes))
        return {"steps": 1000 + len(trained), "images_seen": 64_000, "train_seconds": 180.0, "run_dir": str(run)}

    def evaluated(run, cas, smoke):
        return {"accuracy": 0.998, "fcd": 1.0 + len(trained) / 10, "precision": 0.75, "recall": 0.7,
                "coverage": 0.82, "broken": 0.003, **({"cas": 0.99} if cas else {})}

    monkeypatch.setattr(recipe, "time_to_quality", time_to_quality)
    monkeypatch.setattr(recipe, "evaluated", evaluated)
    saves = []
    context = SimpleNamespace(smoke=False, results={}, save=lambda: saves.append(1),
                              steps_per_second=lambda preset: 20.0,
                              args=SimpleNamespace(runs=tmp_path, recipe_minutes=3.0, recipe_final_minutes=15.0))
    recipe_classes.run(context)
    levers, finals = list(recipe_classes.LEVERS), recipe_classes.FINALS
    runs = 2 * (len(levers) + len(finals))
    assert [(run["seed"], run.get("d_cond")) for run in trained][:2] == [(0, None), (1, None)]
    assert len(trained) == runs and saves
    assert all(run == {**recipe_classes.LEVERS[name], "seed": seed} for run, (name, seed) in
            zip(trained[2 * len(levers):], [(name, seed) for name in finals for seed in (0, 1)], strict=True))
    rows = context.results["recipe_classes"]["rows"]
    assert rows[levers[0]]["fcd"] == (1.1 + 1.2) / 2
    final_rows = context.results["recipe_classes"]["finals"]["rows"]
    assert list(final_rows) == list(finals) and final_rows[finals[0]]["cas"] == 0.99
    first = json.dumps(context.results, sort_keys=True)
    recipe_classes.run(context)
    assert len(trained) == runs and json.dumps(context.results, sort_keys=True) == first
    context.results["machine"] = {"cpu": "Some CPU", "threads": 2, "cores": 2, "torch": "2", "python": "3",
                                  "date": "d", "matmul_peak_gflops": 1}
    text = render(context.results)
    assert "the class loss's pull" in text
    assert f"| {levers[0]} | 1,001/1,002 | 0.9980 | 1.150 | 1.100 / 1.200 | 0.750 |" in text
    assert "| 90% | 100% |" in text  # 7s: (0.85 + 0.95) / 2 of real data's diversity; 9s: as varied as real
    first_final = 2 * len(levers) + 1  # the finals' first run: the baseline, seed 0
    assert (f"| {levers[0]} | {1000 + first_final:,}/{1001 + first_final:,} | 0.9980 | "
            f"{1.0 + (first_final + 0.5) / 10:.3f} |") in text
    assert "| 0.9900 | 90% | 100% |" in text and "15 minutes each, the same two training seeds" in text
    assert "follows the baseline trained again in that sitting" in text
