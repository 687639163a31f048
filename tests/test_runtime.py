"""Process settings every digitgan command applies: threads and the allocator."""

import pytest
import torch

from digitgan import runtime


def test_tune_allocator_is_idempotent():
    first = runtime.tune_allocator()
    assert isinstance(first, bool)
    assert runtime.tune_allocator() == first


def test_tune_allocator_can_be_turned_off(monkeypatch):
    monkeypatch.setattr(runtime, "_allocator_tuned", False)
    monkeypatch.setenv("DIGITGAN_KEEP_FREED_MEMORY", "0")
    assert runtime.tune_allocator() is False


def test_set_threads():
    before = torch.get_num_threads()
    try:
        assert runtime.set_threads(1) == 1 and torch.get_num_threads() == 1
        assert runtime.set_threads(None) == runtime.cpu_count()
        with pytest.raises(ValueError):
            runtime.set_threads(0)
    finally:
        torch.set_num_threads(before)
