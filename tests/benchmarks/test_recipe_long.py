"""The long run (bench section "recipe_long"): a lever's budget at equal training time, a run that resumes across
invocations, and its table."""

import json
import shutil

import pytest
import torch

from benchmarks.common import apply_changes, train_towards
from benchmarks.report import render
from benchmarks.sections.recipe_long import LONG_LEVERS, SCHEDULE_LEVERS, equal_time_config, folder_name
from digitgan.config import load_preset
from digitgan.models import check_buildable


def test_every_lever_trains_in_one_folder_of_its_own():
    names = [folder_name(name) for name in LONG_LEVERS]
    assert len(set(names)) == len(names) and all("/" not in name and " " not in name for name in names)
    assert folder_name("learning rates to 1/64") == "learning-rates-to-1-64"


def test_a_slower_lever_gets_fewer_steps_and_a_schedule_scaled_with_them():
    base = load_preset("shipped").train
    config = equal_time_config(LONG_LEVERS[0], 0.5, 90_000)
    check_buildable(config.model)
    assert config.train.steps == 45_000 and config.train.seed == 0
    assert config.train.lr_decay_after == base.lr_decay_after // 2
    assert config.train.lr_half_life == base.lr_half_life // 2
    assert config.model.d_dense == [256]


def test_a_schedule_lever_keeps_its_own_schedule_scaled_with_the_run():
    base = load_preset("shipped").train
    name = next(iter(SCHEDULE_LEVERS))
    assert name in LONG_LEVERS
    config = equal_time_config(name, 1.0, 90_000)
    assert config.train.steps == 90_000 and config.train.lr_decay_after == base.lr_decay_after
    assert config.train.lr_half_life == SCHEDULE_LEVERS[name]["lr_half_life"] != base.lr_half_life
    assert equal_time_config(name, 0.5, 90_000).train.lr_half_life == SCHEDULE_LEVERS[name]["lr_half_life"] // 2


def test_the_budget_row_is_the_shipped_recipe_for_150_000_steps_with_its_schedule_scaled():
    from benchmarks.sections.recipe_long import BUDGET, SET_RATIOS

    shipped = load_preset("shipped")
    config = equal_time_config(BUDGET, SET_RATIOS[BUDGET], 90_000)
    assert config.model == shipped.model and config.train.steps == 150_000
    assert config.train.lr_decay_after == 4_800_000 and config.train.lr_half_life == 1_600_000  # both x 5/3
    assert SET_RATIOS["twin auxiliary classifiers (TAC-GAN)"] == 1.0


def test_the_second_seed_row_is_the_shipped_recipe_with_only_its_seed_changed():
    from benchmarks.sections.recipe_long import SECOND_SEED, SET_RATIOS

    second = equal_time_config(SECOND_SEED, SET_RATIOS[SECOND_SEED], 90_000)
    shipped = equal_time_config("learning rates halving every 480,000 images (1/64 at the end)", 1.0, 90_000)
    assert second.train.seed == 1 and shipped.train.seed == 0
    assert second.model == load_preset("shipped").model and second.train.steps == 90_000
    assert apply_changes(second, {"seed": 0, "lr_half_life": shipped.train.lr_half_life}) == shipped


def test_label_smoothing_s_second_seed_differs_from_its_first_by_the_seed_alone():
    from benchmarks.sections.recipe_long import LABEL_SMOOTHING, LABEL_SMOOTHING_SECOND_SEED, SET_RATIOS

    first = equal_time_config(LABEL_SMOOTHING, SET_RATIOS[LABEL_SMOOTHING], 90_000)
    second = equal_time_config(LABEL_SMOOTHING_SECOND_SEED, SET_RATIOS[LABEL_SMOOTHING_SECOND_SEED], 90_000)
    assert first.train.label_smoothing == second.train.label_smoothing == 0.1 and first.train.steps == 90_000
    assert second.train.seed == 1 and apply_changes(second, {"seed": 0}) == first


def test_the_levers_on_label_smoothing_change_the_shipped_recipe_by_what_they_name():
    from benchmarks.sections.recipe_long import SET_RATIOS, SMOOTHING_AND_BETA2, STRONGER_SMOOTHING

    stronger = equal_time_config(STRONGER_SMOOTHING, SET_RATIOS[STRONGER_SMOOTHING], 90_000)
    both = equal_time_config(SMOOTHING_AND_BETA2, SET_RATIOS[SMOOTHING_AND_BETA2], 90_000)
    assert stronger.train.label_smoothing == 0.2 and stronger.train.steps == 90_000 and stronger.train.seed == 0
    assert both.train.label_smoothing == 0.1 and both.train.beta2 == 0.99 and both.train.steps == 90_000
    assert apply_changes(both, {"beta2": stronger.train.beta2, "label_smoothing": 0.2}) == stronger


def test_the_wide_g_at_the_budget_scales_its_equal_time_share_to_the_budget_row():
    from benchmarks.sections.recipe_long import BUDGET, SET_RATIOS, WIDE_G, WIDE_G_AT_BUDGET

    assert LONG_LEVERS.index(WIDE_G) < LONG_LEVERS.index(WIDE_G_AT_BUDGET)  # planned after the share it scales
    wide = equal_time_config(WIDE_G_AT_BUDGET, 0.4468 * SET_RATIOS[BUDGET], 90_000)
    budget = equal_time_config(BUDGET, SET_RATIOS[BUDGET], 90_000)
    assert wide.train.steps == 67_000 and wide.train.label_smoothing == 0.1 and wide.train.seed == 0
    assert (wide.model.g_base, wide.model.g_stages) == (256, [[128, 4, 2], [64, 4, 2]])
    assert wide.train.lr_decay_after == round(budget.train.lr_decay_after * 67_000 / 150_000)


def test_a_class_finalist_s_steps_are_its_finals_share_against_the_baseline_of_their_sitting():
    from types import SimpleNamespace

    from benchmarks.sections.recipe_long import DEEPER_D_ADC, FINALS_BASELINES, finals_ratio

    assert DEEPER_D_ADC in LONG_LEVERS
    def seeds(*steps):
        return {"seeds": [{"seed": seed, "steps": count} for seed, count in enumerate(steps)]}

    rows = {DEEPER_D_ADC: seeds(15_000, 17_000), FINALS_BASELINES[DEEPER_D_ADC]: seeds(19_000, 21_000),
            "shipped recipe": seeds(10_000, 10_000)}  # another sitting's baseline: not this one
    context = SimpleNamespace(results={"recipe_classes": {"finals": {"rows": rows}}})
    assert finals_ratio(context, DEEPER_D_ADC) == pytest.approx(0.8)
    config = equal_time_config(DEEPER_D_ADC, 0.8, 90_000)
    check_buildable(config.model)
    assert config.train.steps == 72_000 and config.train.seed == 0 and config.train.label_smoothing == 0.1
    assert (config.model.d_cond, config.train.aux_weight) == ("projection-adc", 1.0)
    assert len(config.model.d_stages) == 3
    rows[FINALS_BASELINES[DEEPER_D_ADC]] = seeds(19_000)  # a sitting still training: nothing to scale by yet
    with pytest.raises(SystemExit, match="no 15-minute finals"):
        finals_ratio(context, DEEPER_D_ADC)


def test_a_run_continues_where_the_last_invocation_stopped(tmp_path):
    cheap = {"standing_stats": 2, "steps": 3, "eval_every": 0}
    config = apply_changes(equal_time_config(LONG_LEVERS[0], 1.0, 100), cheap)
    run = tmp_path / "run"
    assert train_towards(config, run, 0.0)
    longer = apply_changes(config, {"steps": 5})
    assert train_towards(longer, run, 0.0)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["step"] == 5 and summary["steps_this_run"] == 2, "the second call resumed, not restarted"
    assert train_towards(longer, run, 0.0)  # reached: nothing trained again
    assert json.loads((run / "summary.json").read_text()) == summary


def test_the_long_run_table_renders_rows_and_what_is_still_training():
    row = {"steps": 90_000, "train_seconds": None, "accuracy": 0.998, "fcd": 0.69, "precision": 0.77,
           "recall": 0.80, "coverage": 0.86, "broken": 0.004, "cas": 0.99}
    trained = {**row, "steps": 57_800, "train_seconds": 4_920.0, "machines": ["AMD EPYC", "Intel Xeon"]}
    data = {"base_steps": 90_000, "rows": {"shipped recipe": row, "batch 128": trained},
            "planned": {"D twice as wide + dense 256": {"steps": 56_400, "ratio": 0.627}},
            "end_path": {"400": {**row, "fcd": 0.65}}}
    machine = {"cpu": "cpu", "threads": 2, "cores": 2, "torch": "2", "python": "3", "date": "d",
               "matmul_peak_gflops": 1}
    text = render({"machine": machine, "recipe_long": data})  # the whole file, as `make bench` writes it
    assert "## The long run" in text
    assert "| shipped recipe | 90,000 | — | 0.9980 | 0.690 |" in text
    assert "| batch 128 | 57,800 | 82.0 on AMD EPYC and Intel Xeon | 0.9980 |" in text  # where its minutes went
    assert "D twice as wide + dense 256 (56,400 steps)" in text
    assert "| 100 batches (the model as committed) | 0.9980 | 0.690 |" in text
    assert "| 400 batches | 0.9980 | 0.650 |" in text


def test_the_end_path_recomputes_the_standing_statistics_the_trainer_exports(tmp_path):
    """A copy with the run's own number of batches gives back the exported BatchNorm statistics; more batches move
    them (the end path's rows differ from the committed model by those statistics alone)."""
    from benchmarks.sections.recipe_long import with_standing_statistics
    from digitgan.modelfolder.folder import load_generator
    from digitgan.training import train

    config = apply_changes(load_preset("fast"), {"steps": 2, "standing_stats": 3, "eval_every": 0})
    train(config, tmp_path / "run", quiet=True)
    exported, _, _ = load_generator(tmp_path / "run", for_sampling=False)

    def buffers(batches):
        again, again_config, raw = load_generator(with_standing_statistics(tmp_path / "run", batches,
                                                                           tmp_path / f"copy-{batches}"),
                                                  for_sampling=False)
        assert again_config.train.standing_stats == batches and raw["step"] == 2
        return {name: b for name, b in again.named_buffers() if b.is_floating_point()}

    same, more = buffers(3), buffers(12)
    for name, buffer in exported.named_buffers():
        if buffer.is_floating_point():
            torch.testing.assert_close(same[name], buffer, msg=name)
    assert any(not torch.allclose(more[name], same[name]) for name in same)


def test_averaging_checkpoints_means_the_ema_weights_and_one_gives_back_the_exported_model(tmp_path):
    """The EMA over a longer horizon: one checkpoint through the averaging path is the model the run exported
    (same weights, same standing statistics); two give the mean of the two checkpoints' EMA parameters."""
    from benchmarks.sections.recipe_long import with_averaged_checkpoints
    from digitgan.modelfolder.folder import load_generator
    from digitgan.training import train
    from digitgan.training.checkpoints import list_checkpoints, load_checkpoint

    config = apply_changes(load_preset("fast"), {"steps": 4, "standing_stats": 3, "eval_every": 0,
                                                 "checkpoint_every": 2, "keep_checkpoints": 5})
    train(config, tmp_path / "run", quiet=True)
    exported, _, _ = load_generator(tmp_path / "run", for_sampling=False)
    one, steps = with_averaged_checkpoints(tmp_path / "run", 1, tmp_path / "one")
    assert steps == [4]
    again, _, raw = load_generator(one, for_sampling=False)
    assert raw["step"] == 4
    for (name, tensor), (_, same) in zip(exported.state_dict().items(), again.state_dict().items(), strict=True):
        torch.testing.assert_close(same, tensor, msg=name)
    two, steps = with_averaged_checkpoints(tmp_path / "run", 2, tmp_path / "two")
    assert steps == [2, 4]
    averaged, _, _ = load_generator(two, for_sampling=False)
    emas = [load_checkpoint(path)["ema"] for path in list_checkpoints(tmp_path / "run")[-2:]]
    for name, parameter in averaged.named_parameters():
        torch.testing.assert_close(parameter, (emas[0][name] + emas[1][name]) / 2, msg=name)
    assert any(not torch.equal(parameter, dict(again.named_parameters())[name])
               for name, parameter in averaged.named_parameters())
    slice_stop = tmp_path / "run" / "checkpoints" / "step-00000003.pt"  # where a slice of the run stopped
    shutil.copy(list_checkpoints(tmp_path / "run")[0], slice_stop)
    torch.save({**load_checkpoint(slice_stop), "step": 3}, slice_stop)
    assert with_averaged_checkpoints(tmp_path / "run", 2, tmp_path / "again")[1] == [2, 4], "a slice's stop is skipped"


def test_a_noise_scale_draws_what_the_model_draws_from_the_scaled_noise(tmp_path):
    """The copy at scale s draws from z what the model draws from s·z, for every class; scale 1 is the model."""
    from benchmarks.sections.recipe_long import with_noise_scale
    from digitgan.modelfolder.folder import load_generator
    from digitgan.models import one_hot
    from digitgan.training import train

    config = apply_changes(load_preset("shipped"), {"steps": 2, "standing_stats": 3, "eval_every": 0,
                                                    "average_checkpoints": 1})
    train(config, tmp_path / "run", quiet=True)
    model, _, raw = load_generator(tmp_path / "run")
    z, labels = torch.randn(20, config.model.z_dim), one_hot(torch.arange(20) % 10, 10)
    for scale in (1.0, 1.2):
        scaled, _, scaled_raw = load_generator(with_noise_scale(tmp_path / "run", scale, tmp_path / f"s{scale}"))
        assert scaled_raw["step"] == raw["step"] == 2
        with torch.no_grad():
            torch.testing.assert_close(scaled(z, labels), model(scale * z, labels), atol=1e-5, rtol=1e-4)
    with torch.no_grad():
        assert not torch.allclose(scaled(z, labels), model(z, labels), atol=1e-3)


def test_the_averaged_checkpoints_table_sets_each_run_beside_its_own_row():
    row = {"steps": 90_000, "train_seconds": 3_200.0, "accuracy": 0.998, "fcd": 0.69, "precision": 0.77,
           "recall": 0.80, "coverage": 0.86, "broken": 0.004, "cas": 0.99}
    data = {"base_steps": 90_000, "rows": {"shipped recipe": row, "seed 1": row},
            "averaged": {"seed 1": {"3": {**row, "fcd": 0.61, "checkpoint_steps": [70_000, 80_000, 90_000]}}}}
    machine = {"cpu": "cpu", "threads": 2, "cores": 2, "torch": "2", "python": "3", "date": "d",
               "matmul_peak_gflops": 1}
    text = render({"machine": machine, "recipe_long": data})
    assert "| seed 1 | step 90,000 (the run's own) | 0.9980 | 0.690 |" in text
    assert "| seed 1 | mean of 3 checkpoints, steps 70,000-90,000 | 0.9980 | 0.610 |" in text


@pytest.mark.slow
def test_the_section_trains_every_lever_once_and_a_second_call_adds_nothing(tmp_path, monkeypatch):
    """The whole section in its smoke (a few steps a lever, the evaluation replaced by figures): every lever gets a
    row with where its minutes went, the end path its row, and calling it again trains and evaluates nothing."""
    from types import SimpleNamespace

    import benchmarks.sections.recipe_long as recipe_long

    equal_time = recipe_long.equal_time_config
    for name in LONG_LEVERS:  # the smoke's own budget trains every lever
        assert equal_time(name, 1.0, recipe_long.SMOKE_BASE_STEPS).train.steps > 0, name
    cheap = {"steps": 3, "standing_stats": 2}
    monkeypatch.setattr(recipe_long, "equal_time_config",
                        lambda name, ratio, base_steps: apply_changes(equal_time(name, ratio, base_steps), cheap))
    evaluations = []

    def evaluated(run_dir, cas, smoke):
        evaluations.append(run_dir.name)
        return {"accuracy": 0.99, "fcd": 1.0 + len(evaluations) / 100, "precision": 0.7, "recall": 0.7,
                "coverage": 0.8, "broken": 0.01, "cas": 0.98}

    monkeypatch.setattr(recipe_long, "evaluated", evaluated)
    saves = []
    context = SimpleNamespace(smoke=True, results={"machine": {"cpu": "Some CPU"}}, save=lambda: saves.append(1),
                              args=SimpleNamespace(runs=tmp_path, recipe_long_slice_minutes=60.0))
    recipe_long.run(context)
    data = json.loads(json.dumps(context.results["recipe_long"]))
    assert list(data["rows"]) == [recipe_long.BASELINE, *LONG_LEVERS]
    assert data["rows"][recipe_long.BASELINE]["steps"] == 90_000, "the committed model's own row"
    for name in LONG_LEVERS:
        row = data["rows"][name]
        assert row["steps"] == data["planned"][name]["steps"] == 3 and row["machines"] == ["Some CPU"]
        assert row["train_seconds"] > 0
    assert list(data["end_path"]) == ["2"] and list(data["noise_scale"]) == ["1.0", "1.2"] and saves
    assert {name: list(counts) for name, counts in data["averaged"].items()} == {
        name: [str(count) for count in recipe_long.AVERAGED_CHECKPOINTS] for name in recipe_long.AVERAGED_RUNS}
    first = (list(evaluations), json.dumps(context.results, sort_keys=True))
    recipe_long.run(context)
    assert (evaluations, json.dumps(context.results, sort_keys=True)) == first, "nothing trained or evaluated again"
    context.results["machine"].update(threads=2, cores=2, torch="2", python="3", date="d", matmul_peak_gflops=1)
    text = render(context.results)
    assert all(f"| {name} | 3 |" in text for name in LONG_LEVERS)
    assert "| 1 (as shipped) | 0.9900 |" in text and "| 1.2 | 0.9900 |" in text, "the noise scales' rows"
