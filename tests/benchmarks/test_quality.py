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
