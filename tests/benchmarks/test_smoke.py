"""A short smoke of the benchmark code (timings live in `make bench`, never in tests)."""

import json

import pytest
import torch

from benchmarks.common import tensors
from benchmarks.report import render
from benchmarks.run import main
from benchmarks.sections.levers import lever_throughput
from digitgan.models.thin_conv import ThinConv2d


def bench(tmp_path, monkeypatch, *sections):
    monkeypatch.chdir(tmp_path)
    assert main(["--smoke", "--only", *sections, "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs"),
                 "--threads", "1"]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["machine"]["matmul_peak_gflops"] > 0
    assert "provenance" not in results, "a smoke run measures nothing worth recording"
    return results


@pytest.mark.slow
def test_bench_smoke_training_memory_gpu_serve(tmp_path, monkeypatch):
    results = bench(tmp_path, monkeypatch, "throughput", "memory", "gpu", "serve")
    assert results["throughput"]["fast"]["images_per_second"] > 0 and results["throughput"]["fast"]["gflops"] > 0
    assert results["memory_mib"]["fast"] > 50
    fast = results["throughput"]["fast"]
    assert fast["bursts"] >= 3 and fast["matmul_peak_beside_gflops"] > 0
    assert results["gpu"]["available"] == torch.cuda.is_available()
    assert results["serve_load"]["errors"] == 0 and results["serve_load"]["requests"] == 200
    assert "throughput" in render(results).lower()


@pytest.mark.slow
def test_bench_smoke_sampling(tmp_path, monkeypatch):
    results = bench(tmp_path, monkeypatch, "sampling")
    sampling = results["sampling"]
    assert len(sampling["variants"]) == 4 and sampling["images_per_second_batch_1024"] > 0
    assert 1e6 < sampling["flops_per_image"] < 1e8, "the default generator's FLOPs per image"
    sizes = sampling["by_generator_size"]
    assert len(sizes) == 7 and all(row["images_per_second_batch_1024"] > 0 for row in sizes.values())
    shipped = sizes["128 -> 64 -> 32 (the shipped model's recipe)"]["mflop_per_image"]
    assert abs(shipped - sampling["flops_per_image"] / 1e6) < 0.01, "the size table's shipped row is the shipped model"
    assert "sampling path" in render(results)


@pytest.mark.slow
def test_bench_smoke_quality(tmp_path, monkeypatch):
    results = bench(tmp_path, monkeypatch, "quality")
    assert results["quality"]["fast"]["curve"], "the light evaluation must have run"
    assert "Time to quality" in render(results)
    assert (tmp_path / "out" / "time_to_quality.png").exists()


@pytest.mark.slow
def test_bench_smoke_page(tmp_path, monkeypatch):
    from digitgan.pages.browser import available

    page = bench(tmp_path, monkeypatch, "page")["page"]
    assert page["single_file_bytes"] <= 8 * 2**20 and page["parity_max_abs"] <= 1e-3
    assert all(share >= 0.9 for share in page["style_checks"].values())
    if available():
        assert page["browser"]["seconds_to_first_number"] > 0 and page["browser"]["digits_per_second"]["batch 64"] > 0
    assert "The offline page" in render({"machine": bench_machine(), "page": page})


def bench_machine():
    return {"cpu": "cpu", "threads": 2, "cores": 2, "torch": "2", "python": "3", "date": "d", "matmul_peak_gflops": 1}


def test_lever_throughput_alternates_variants(monkeypatch):
    import benchmarks.sections.levers as bench

    built = []
    original = bench.prepare

    def spy(preset, images, labels, **options):
        state, config = original(preset, images, labels, **options)
        built.append((options, [type(m) for m in state.partner.modules() if isinstance(m, torch.nn.Conv2d)]))
        return state, config

    monkeypatch.setattr(bench, "prepare", spy)
    images, labels = tensors(256)
    measured = lever_throughput({"shipped": {}, "plain": {"thin_convs": False}, "separate": {
        "changes": {"d_joint_forward": False}}}, 0.1, images, labels)
    assert list(measured) == ["shipped", "plain", "separate"]
    assert all(row["bursts"] >= 3 and row["images_per_second"] > 0 for row in measured.values())
    assert measured["shipped"]["vs_first"] == 1.0
    assert ThinConv2d in built[0][1] and ThinConv2d not in built[1][1], "the thin-conv lever turns ThinConv2d off"
