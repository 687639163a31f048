"""Process-wide settings every `digitgan` command applies: CPU threads and the memory allocator.

Nothing here imports torch at module level, so that settings which must precede torch's start can live here too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_allocator_tuned = False


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask), not the machine's total."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def set_threads(threads: int | None = None) -> int:
    """torch's intra-op threads (default: every CPU this process may use) and the allocator setting; returns the
    thread count."""
    import torch

    if threads is not None and threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    count = threads or cpu_count()
    torch.set_num_threads(count)
    tune_allocator()
    return count


def tune_allocator() -> bool:
    """Keep freed memory for reuse instead of unmapping it after each batch (glibc only; a no-op elsewhere).

    Returning and re-faulting large activation blocks after every batch costs more than the small convolutions
    themselves (benchmarks/RESULTS.md, "sampling"); the price is a higher peak RSS for the large presets.
    Process-wide. DIGITGAN_KEEP_FREED_MEMORY=0 turns it off. Returns whether the setting was applied.
    """
    global _allocator_tuned
    if _allocator_tuned:
        return True
    if os.environ.get("DIGITGAN_KEEP_FREED_MEMORY", "1") == "0":
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and non-glibc systems have no mallopt
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    one_gib = 1 << 30
    # Older glibc refuses an mmap threshold above 32 MiB (HEAP_MAX_SIZE / 2); fall back to that cap there.
    mapped = mallopt(m_mmap_threshold, one_gib) == 1 or mallopt(m_mmap_threshold, 32 << 20) == 1
    trimmed = mallopt(m_trim_threshold, one_gib) == 1
    _allocator_tuned = mapped and trimmed
    return _allocator_tuned
