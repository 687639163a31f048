"""A short smoke of the benchmark code (timings live in `make bench`, never in tests)."""

import json

import torch

from benchmarks.run import main, render


def test_bench_smoke(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["--smoke", "--only", "throughput", "memory", "sampling", "quality", "gpu", "serve",
                 "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs"), "--threads", "1"]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["machine"]["matmul_peak_gflops"] > 0
    assert results["throughput"]["fast"]["images_per_second"] > 0 and results["throughput"]["fast"]["gflops"] > 0
    assert results["memory_mib"]["fast"] > 50
    sampling = results["sampling"]
    assert len(sampling["variants"]) == 4 and sampling["images_per_second_batch_1024"] > 0
    assert 1e6 < sampling["flops_per_image"] < 1e8, "the default generator's FLOPs per image"
    assert results["gpu"]["available"] == torch.cuda.is_available()
    assert results["quality"]["fast"]["curve"], "the light evaluation must have run"
    assert results["serve_load"]["errors"] == 0 and results["serve_load"]["requests"] == 200
    text = render(results)
    assert "Time to quality" in text and "throughput" in text.lower() and "sampling path" in text
    assert (tmp_path / "out" / "time_to_quality.png").exists()
