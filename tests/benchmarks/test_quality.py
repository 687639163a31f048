"""The time-to-quality runs every screen is built on: a run cut short by a stop request is not recorded."""

import json

import pytest

from benchmarks.sections import quality


def test_a_run_stopped_before_its_minutes_stops_the_bench(tmp_path, monkeypatch):
    trained = []

    def train(config, run_dir, quiet):
        trained.append(config.train.minutes)
        (run_dir / "model").mkdir(parents=True)
        (run_dir / "model" / "config.json").write_text(json.dumps(config.to_dict()))
        summary = {"status": "interrupted", "seconds": 3.0, "step": 5, "images_seen": 320}
        (run_dir / "summary.json").write_text(json.dumps(summary))
        return summary

    monkeypatch.setattr(quality, "train", train)
    with pytest.raises(KeyboardInterrupt):
        quality.time_to_quality("fast", 15.0, 10.0, tmp_path, 30.0)
    # a rerun with reuse trains again rather than reading the cut-short run's summary
    with pytest.raises(KeyboardInterrupt):
        quality.time_to_quality("fast", 15.0, 10.0, tmp_path, 30.0, reuse=True)
    assert trained == [15.0, 15.0]


def test_a_run_keeps_no_checkpoints_unless_its_changes_ask_for_the_averaging(tmp_path, monkeypatch):
    """The screens export the EMA at the run's end; a lever may ask for checkpoints and their average instead."""
    configs = []

    def train(config, run_dir, quiet):
        configs.append(config.train)
        summary = {"status": "finished", "seconds": 3.0, "step": 5, "images_seen": 320}
        run_dir.mkdir(parents=True)
        (run_dir / "history.jsonl").write_text("")
        return summary

    monkeypatch.setattr(quality, "train", train)
    quality.time_to_quality("fast", 1.0, 10.0, tmp_path, 30.0)
    quality.time_to_quality("fast", 1.0, 10.0, tmp_path, 30.0,
                            changes={"checkpoint_every": 2000, "average_checkpoints": 3})
    assert [(c.checkpoint_every, c.average_checkpoints, c.minutes) for c in configs] == [(0, 1, 1.0), (2000, 3, 1.0)]
