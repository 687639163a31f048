"""benchmarks.run: a section stopped part-way keeps its rows and says where they come from."""

import json

import pytest

import benchmarks.run as bench


def test_a_section_stopped_after_a_row_keeps_the_row_and_its_provenance(tmp_path, monkeypatch):
    def one_row_then_stopped(context):
        context.results["recipe"] = {"screen": {"shipped recipe": {"fcd": 1.0}}}
        context.save()
        raise KeyboardInterrupt

    monkeypatch.setitem(bench.SECTIONS, "recipe", one_row_then_stopped)
    monkeypatch.setattr(bench, "matmul_peak", lambda sizes=(): (100.0, 512))
    with pytest.raises(KeyboardInterrupt):
        bench.main(["--only", "recipe", "--out", str(tmp_path), "--runs", str(tmp_path / "runs"), "--threads", "1"])
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["recipe"]["screen"]["shipped recipe"] == {"fcd": 1.0}
    provenance = results["provenance"]["recipe"]
    assert "benchmarks/sections/recipe.py" in provenance["sources"] and provenance["machine"]["threads"] == 1
