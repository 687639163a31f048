"""Results kept on disk between processes: computed once, read back exactly, computed afresh when any input changes."""

import json

import numpy as np
import pytest
import torch

import digitgan.evaluate.report as report
import digitgan.evaluate.stored as stored_module
from digitgan.evaluate.stored import digest, stored, stored_path
from digitgan.training import train
from tests.conftest import tiny_config


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache folder of the test's own for computed results (the data stay where they are)."""
    monkeypatch.setattr(stored_module, "cache_dir", lambda: tmp_path / "cache")
    return tmp_path / "cache"


def counting(value):
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.asarray(value), "text": np.array(json.dumps({"a": 1.5}))}
    return compute, calls


def test_computed_once_then_read_back_exactly(cache):
    compute, calls = counting(np.linspace(0, 1, 7) / 3)
    first = stored("thing", digest("k"), compute)
    second = stored("thing", digest("k"), compute)
    assert len(calls) == 1 and np.array_equal(first["x"], second["x"]) and second["x"].dtype == np.float64
    assert json.loads(str(second["text"])) == {"a": 1.5}
    assert stored_path("thing", digest("k")).is_file()
    stored("thing", digest("other key"), compute)
    assert len(calls) == 2


def test_every_input_changes_the_key():
    array = np.arange(6, dtype=np.float32)
    model = torch.nn.Linear(2, 2)
    base = digest(array, model, np, 3)
    assert digest(array, model, np, 3) == base
    changed = array.copy()
    changed[0] = 0.5
    assert digest(changed, model, np, 3) != base
    assert digest(array.astype(np.float64), model, np, 3) != base          # the same values in another dtype
    assert digest(array.reshape(2, 3), model, np, 3) != base                # another shape
    with torch.no_grad():
        model.weight[0, 0] += 1
    assert digest(array, model, np, 3) != base                              # other weights
    assert digest(array, torch.nn.Linear(2, 2), json, 3) != digest(array, torch.nn.Linear(2, 2), np, 3)
    assert digest(array, model, np, 4) != digest(array, model, np, 3)


def test_thread_count_and_torch_version_are_part_of_the_name(monkeypatch):
    threads = torch.get_num_threads()
    one = stored_path("thing", "k")
    try:
        torch.set_num_threads(threads + 1)
        assert stored_path("thing", "k") != one
    finally:
        torch.set_num_threads(threads)
    monkeypatch.setattr(torch, "__version__", "0.0.1")
    assert stored_path("thing", "k") != one


def test_a_torn_file_is_computed_afresh_and_an_unwritable_cache_only_costs_time(cache):
    compute, calls = counting([1.0, 2.0])
    path = stored_path("thing", "k")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 not a whole zip")
    assert stored("thing", "k", compute)["x"].tolist() == [1.0, 2.0] and len(calls) == 1
    assert stored("thing", "k", compute)["x"].tolist() == [1.0, 2.0] and len(calls) == 1  # rewritten whole
    path.unlink()
    path.parent.rmdir()
    path.parent.write_text("a file where the folder should be")  # unwritable even for root
    assert stored("thing", "k", compute)["x"].tolist() == [1.0, 2.0] and len(calls) == 2
    assert stored("thing", "k", compute)["x"].tolist() == [1.0, 2.0] and len(calls) == 3


@pytest.mark.slow
def test_a_report_from_the_stored_real_side_is_the_computed_one(tmp_path, cache, monkeypatch, small_real_floor):
    """The real side read from disk (a later process) gives the very report the computing process gave."""
    monkeypatch.setattr(report, "_REAL_SIDES", {})
    torch.set_num_threads(1)
    train(tiny_config(dataset="mnist", steps=2), tmp_path / "run", quiet=True)
    computed = report.evaluate_run(tmp_path / "run", n_per_class=20, seed=0)
    assert len(list((cache / "computed").glob("real-side-*.npz"))) == 1
    report._REAL_SIDES.clear()  # as a new process: only the disk has it
    read_back = report.evaluate_run(tmp_path / "run", n_per_class=20, seed=0)
    assert {**computed, "seconds": 0} == {**read_back, "seconds": 0}
    assert computed["real_floor"]["n"] == 1000

    def computing(*args):
        raise LookupError("computed afresh")
    monkeypatch.setattr(report, "_real_side_arrays", computing)  # a changed input is computed afresh, not read back
    report._REAL_SIDES.clear()
    report.real_side("mnist", 10, seed=0)  # the same inputs: read back
    with pytest.raises(LookupError):
        report.real_side("mnist", 10, seed=1)
    monkeypatch.setattr(report, "FLOOR_SIZE", 900)
    report._REAL_SIDES.clear()
    with pytest.raises(LookupError):
        report.real_side("mnist", 10, seed=0)
