"""The shipped-recipe levers (bench section "recipe"): every lever is a valid, buildable configuration of the
`shipped` preset; the rank judges the whole report; the section's table renders."""

from benchmarks.report import _recipe
from benchmarks.sections.recipe import BASE_STEPS, LEVERS, PRESET, mean_rank, scaled_config
from digitgan.config import load_preset, with_settings
from digitgan.models import check_buildable


def test_every_lever_is_a_buildable_configuration():
    for changes in LEVERS.values():
        config = with_settings(load_preset(PRESET), changes)
        check_buildable(config.model)


def test_the_rank_weighs_fcd_recall_coverage_and_broken_alike():
    rows = {"a": {"fcd": 0.5, "recall": 0.80, "coverage": 0.90, "broken": 0.004},
            "b": {"fcd": 0.6, "recall": 0.85, "coverage": 0.92, "broken": 0.003},
            "c": {"fcd": 0.7, "recall": 0.70, "coverage": 0.85, "broken": 0.010}}
    ranks = mean_rank(rows)
    assert ranks["b"] < ranks["a"] < ranks["c"]  # better on three of four beats better on one


def test_the_recipe_table_renders():
    row = {"steps": 1000, "accuracy": 0.99, "fcd": 0.7, "precision": 0.8, "recall": 0.8, "coverage": 0.86,
           "broken": 0.004}
    data = {"minutes": [3.0, 15.0], "screen": {"shipped recipe": row, "EMA 0.9995": row},
            "screen_rank": {"shipped recipe": 1.5, "EMA 0.9995": 1.5},
            "finals": {"shipped recipe": {"seeds": [{**row, "seed": 0, "cas": 0.99}, {**row, "seed": 1, "cas": 0.98}]}}}
    text = "\n".join(_recipe({"recipe": data}))
    assert "Towards the real floor" in text and "| EMA 0.9995 | 1,000 |" in text and "0.9850" in text


def test_a_stopped_run_shows_the_seeds_it_measured_and_what_is_left():
    row = {"steps": 1000, "accuracy": 0.99, "fcd": 0.7, "precision": 0.8, "recall": 0.8, "coverage": 0.86,
           "broken": 0.004, "cas": 0.99}
    names = ["shipped recipe", "a", "b", "c", "d"]
    data = {"minutes": [3.0, 15.0], "screen": {name: row for name in names},
            "screen_rank": dict(zip(names, [3.0, 1.0, 2.0, 2.5, 4.0], strict=True)),
            "finals": {"shipped recipe": {**row, "seeds": [{**row, "seed": 0}, {**row, "seed": 1}]},
                       "a": {"seeds": [{**row, "seed": 0, "fcd": 0.65}]}}}
    text = "\n".join(_recipe({"recipe": data}))
    assert "| a (seed 0 only) | 1,000 | 0.9900 | 0.650 |" in text
    assert "Not finished yet (the section resumes where it stopped): a, b, c." in text


def test_the_scaled_schedule_table_sits_beside_the_finals_baseline():
    row = {"steps": 12_200, "accuracy": 0.99, "fcd": 0.7, "precision": 0.8, "recall": 0.8, "coverage": 0.86,
           "broken": 0.004, "cas": 0.99}
    baseline = {"seeds": [{**row, "seed": 0, "fcd": 0.9}, {**row, "seed": 1, "fcd": 0.8}]}
    scaled = {"steps": 12_200, "seeds": [{**row, "seed": 0, "lr_decay_after": 390_400, "lr_half_life": 130_133}]}
    data = {"minutes": [3.0, 15.0], "finals": {"shipped recipe": baseline}, "scaled": scaled}
    text = "\n".join(_recipe({"recipe": data}))
    assert "decay after 390,400 images, half-life 130,133" in text
    assert "| shipped recipe, 15-minute finals (constant rates) | 12,200/12,200 | 0.9900 | 0.850 |" in text
    assert "| shipped recipe, schedule scaled to the run (seed 0 only) | 12,200 | 0.9900 | 0.700 |" in text


def test_the_scaled_run_keeps_the_shipped_schedule_in_proportion():
    base = load_preset(PRESET).train
    config = scaled_config({}, 12_200 / BASE_STEPS)
    assert config.train.steps == 12_200 and config.train.seed == 0
    assert config.train.lr_decay_after / (12_200 * config.train.batch_size) == base.lr_decay_after / (
        BASE_STEPS * base.batch_size)
    halvings = (12_200 * config.train.batch_size - config.train.lr_decay_after) / config.train.lr_half_life
    assert round(halvings, 2) == round((BASE_STEPS * base.batch_size - base.lr_decay_after) / base.lr_half_life, 2)
