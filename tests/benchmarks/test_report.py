"""RESULTS.md renders every section, and the targets are judged from the numbers (met / not met)."""

from benchmarks.report import render, targets

FLOOR = {"accuracy": 0.998, "fcd": 0.342, "precision": 0.845, "recall": 0.872, "coverage": 0.939, "broken": 0.006,
         "cas": 0.9955}


def machine():
    return {"cpu": "cpu", "threads": 2, "cores": 2, "torch": "2", "python": "3", "date": "d", "matmul_peak_gflops": 1}


def test_distribution_targets_are_judged_from_the_numbers():
    model = {"accuracy": 0.996, "fcd": 0.6, "precision": 0.8, "recall": 0.76, "coverage": 0.88, "broken": 0.005,
             "cas": 0.986}
    results = {"machine": machine(), "distribution": {
        "lever_minutes": 3, "levers": {"a": {"seeds": [{"steps": 10}, {"steps": 11}], **model}},
        "shipped": {"step": 9, **model, "real_floor": FLOOR},
        "fast": {"minutes": 10, "steps": 5, "seconds_to_98": 45.0, **model, "real_floor": FLOOR}}}
    rows = {line.split(" | ")[0][2:]: line for line in targets(results)
            if line.startswith("| ") and "target" not in line}
    assert rows["shipped model: recall ≥ 0.75 (floor 0.872)"].endswith("| met |")
    assert rows["shipped model: coverage ≥ 0.90 (floor 0.939)"].endswith("| **not met** |")
    assert rows["fast from scratch: ≥ 98% conditional accuracy within 60 s"].endswith("| met |")
    text = render(results)
    assert "## The whole distribution" in text and "| a | 2 | 10/11 |" in text


def test_a_newly_shipped_model_keeps_the_earlier_one_s_row():
    from benchmarks.sections.distribution import keep_earlier_shipped

    old = {"step": 90000, "preset": "shipped", "accuracy": 0.9978, "fcd": 0.688, "precision": 0.772, "recall": 0.797,
           "coverage": 0.864, "broken": 0.0042, "cas": 0.9905, "real_floor": FLOOR}
    new = {**old, "step": 120000, "fcd": 0.5, "recall": 0.83}
    data = {"lever_minutes": 3, "levers": {}, "shipped": old}
    data["shipped"] = keep_earlier_shipped(data, dict(old))  # the same model measured again: nothing moves
    assert "earlier_shipped" not in data
    data["shipped"] = keep_earlier_shipped(data, new)
    assert data["shipped"] == new and data["earlier_shipped"] == [old]
    text = render({"machine": machine(), "distribution": data})
    assert "| `shipped` preset as it was then, step 90,000 | 0.9978 | 0.688 |" in text
    newest = {**new, "step": 150000, "fcd": 0.45, "recipe": "no label smoothing, the EMA at step 150,000"}
    data["shipped"] = keep_earlier_shipped(data, newest)
    data["earlier_shipped"][0]["recipe"] = "one-sided label smoothing 0.1, the EMA at step 120,000"
    text = render({"machine": machine(), "distribution": data})
    assert ("| `shipped` preset as it was then, step 120,000: one-sided label smoothing 0.1, the EMA at step 120,000 "
            "| 0.9978 | 0.500 |") in text
    assert "step 150000 (no label smoothing, the EMA at step 150,000), from" in text


def test_load_section_and_targets():
    row = {"images_per_second": 1000.0, "rounds": [1000.0]}
    results = {"machine": machine(), "load": {
        "defaults": {"GOMP_SPINCOUNT": "3000"}, "steps_per_measurement": 1000, "rounds": 3,
        "training": {"alone": {"before": row, "digitgan default (threads fixed: repeats exactly)": row},
                     "beside_competitor": {"before": {**row, "of_alone": 0.2},
                                           "digitgan default (threads fixed: repeats exactly)": {**row,
                                                                                                  "of_alone": 0.5}},
                     "default_alone_vs_fixed": 0.99, "default_beside_competitor_of_alone": 0.31,
                     "adaptive_alone_vs_fixed": 0.96, "adaptive_beside_competitor_of_alone": 0.46},
        "serve": {"digitgan default (threads fixed: repeats exactly)": {
            "idle_p50_ms": 10, "idle_p99_ms": 20, "p50_ms": 15, "p99_ms": 50, "errors": 0,
            "training_images_per_second": 900.0, "p99_vs_idle": 2.5}},
        "ddp_launches": {"launches": 10, "hung": 0, "failed": 0, "limit_s": 90.0, "median_s": 9.0, "max_s": 12.0},
        "ddp": {"x: DDP": row}, "sampling": {"alone": {"before": row}, "beside_competitor": {"before": row}}}}
    text = render(results)
    assert "## Under load" in text and "beside a 2-thread process: ≥ 30% of its alone speed | 31.0% | met |" in text
    assert "--adapt-threads, alone: within 3% of 2 fixed threads | 0.960× | **not met** |" in text
    assert "0 of 10 hung, 0 failed | met |" in text
    assert "serve p99 beside a training ≤ 3× its idle p99" in text and "(2.5×) | met |" in text


def git(repository, *args):
    import subprocess

    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repository, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_a_section_is_stale_when_a_path_it_measures_changed_since_its_commit(tmp_path):
    from benchmarks.provenance import staleness

    git(tmp_path, "init", "-q")
    for name in ("measured.py", "moved.py", "other.py"):
        (tmp_path / name).write_text(f"# {name}\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "one")
    commit = git(tmp_path, "rev-parse", "HEAD")
    provenance = {"edited": {"commit": commit, "sources": ["measured.py"]},
                  "moved": {"commit": commit, "sources": ["pkg"]},
                  "fresh": {"commit": commit, "sources": ["other.py"]},
                  "unknown": {"commit": "0" * 40, "sources": ["other.py"]}}
    assert staleness(provenance, tmp_path) == {"edited": [], "moved": [], "fresh": [], "unknown": None}
    (tmp_path / "measured.py").write_text("# changed, not yet committed\n")
    (tmp_path / "pkg").mkdir()
    git(tmp_path, "mv", "moved.py", "pkg/moved.py")  # the same content under a new path
    git(tmp_path, "commit", "-qm", "move")
    assert staleness(provenance, tmp_path) == {"edited": ["measured.py"], "moved": ["pkg/moved.py"], "fresh": [],
                                               "unknown": None}


def test_the_committed_results_state_where_each_section_comes_from_and_are_marked_rightly():
    """RESULTS.md is what results.json renders to with today's staleness marks: every section names its commit,
    date and measured paths, and a section is marked stale exactly when a path it measures changed since. (When
    this fails after a change to measured code: `python -m benchmarks.report` rewrites the marks.)"""
    import json
    from pathlib import Path

    from benchmarks.report import SECTIONS

    here = Path(__file__).resolve().parents[2] / "benchmarks"
    results = json.loads((here / "results.json").read_text())
    committed = (here / "RESULTS.md").read_text()
    assert committed.rstrip("\n") == render(results)
    for key, _, measured in SECTIONS:
        if key in results:
            assert all(name in results["provenance"] for name in measured), key
            assert all(f"*`{name}`: measured at `" in committed for name in measured), key


def test_each_section_names_the_machine_it_was_measured_on():
    from benchmarks.report import provenance_lines

    results = {"provenance": {
        "onnx": {"commit": "a" * 40, "date": "d", "sources": ["x.py"],
                 "machine": {"cpu": "AMD EPYC", "threads": 2, "matmul_peak_gflops": 223.8}},
        "page": {"commit": "b" * 40, "date": "d", "sources": ["y.py"]}}}
    onnx, page = provenance_lines(results, ("onnx", "page"), {"onnx": [], "page": []})
    assert "on AMD EPYC (2 threads, matmul peak 223.8 GFLOP/s)" in onnx and "(machine not recorded)" in page


def test_a_matmul_that_a_preset_outruns_is_not_judged_as_the_peak():
    def preset(fraction):
        return {"images_per_second": 100.0, "flops_per_step": 1e9, "gflops": 50.0, "fraction_of_matmul_peak": fraction,
                "g_params": 1, "d_params": 1, "matmul_size": 1024}

    def peak_row(throughput):
        return next(line for line in targets({"machine": machine(), "throughput": throughput})
                    if line.startswith("| training at ≥ 40% of the matmul peak"))

    assert peak_row({"fast": preset(0.72), "acgan": preset(0.8)}).endswith("| 72% | met |")
    outrun = {"fast": preset(0.72), "acgan": preset(2.26)}
    assert peak_row(outrun).endswith("(acgan trained at 226% of it) | not judged |")
    assert "On this CPU the matmul is not the peak: acgan's" in render({"machine": machine(), "throughput": outrun})
