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
