"""Process-wide settings every `digitgan` command applies: CPU threads and the memory allocator.

Nothing here imports torch at module level, so that settings which must precede torch's start can live here too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from collections.abc import Container, MutableMapping

_allocator_tuned = False

# How long an OpenMP worker spins before it sleeps when it waits for work (libgomp's GOMP_SPINCOUNT; its default
# is 300,000 spins). Spinning wins while the process has the cores to itself and costs several times the run time
# when another busy process shares them; benchmarks/RESULTS.md ("under load") measures the choice.
OPENMP_DEFAULTS = {"GOMP_SPINCOUNT": "3000"}
OPENMP_USER_KEYS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")


def apply_openmp_defaults(environ: MutableMapping[str, str] | None = None,
                          loaded: Container[str] | None = None) -> dict[str, str]:
    """Set digitgan's OpenMP waiting defaults in the environment, before torch (and its OpenMP runtime) starts.

    A value the user set for any waiting knob (OMP_WAIT_POLICY, GOMP_SPINCOUNT, KMP_BLOCKTIME) wins, and
    DIGITGAN_OPENMP_DEFAULTS=0 turns this off. Returns what was set (nothing once torch is loaded: too late).
    """
    environ = os.environ if environ is None else environ
    loaded = sys.modules if loaded is None else loaded
    if environ.get("DIGITGAN_OPENMP_DEFAULTS", "1") == "0" or "torch" in loaded:
        return {}
    if any(key in environ for key in OPENMP_USER_KEYS):
        return {}
    environ.update(OPENMP_DEFAULTS)
    return dict(OPENMP_DEFAULTS)


def launch_env(environ: MutableMapping[str, str] | None = None) -> tuple[int, int, int]:
    """(world size, rank, local rank) from a launcher's environment (`--nproc`, torchrun); (1, 0, 0) without one."""
    environ = os.environ if environ is None else environ
    return (int(environ.get("WORLD_SIZE", "1")), int(environ.get("RANK", "0")), int(environ.get("LOCAL_RANK", "0")))


# Under `digitgan train --nproc`, every rank meets the same user error; a rank leaves its line in this folder and the
# launcher says the line of the rank that failed, once, after it has ended the others (a rank that printed it itself
# could be ended by the launcher before it had the chance: the first rank to fail need not be rank 0).
LAUNCHER_ERRORS = "DIGITGAN_LAUNCHER_ERRORS"


def say_stop_line(line: str, environ: MutableMapping[str, str] | None = None) -> None:
    """Say the one line of a run that stops (a user error, a divergence) on stderr once per launch, not once per
    rank: handed to the `--nproc` launcher where there is one (written before the rank exits, so the launcher finds it
    when it sees the exit), else said by rank 0 (torchrun, or no launcher at all)."""
    environ = os.environ if environ is None else environ
    folder = environ.get(LAUNCHER_ERRORS)
    _, rank, _ = launch_env(environ)
    if folder and os.path.isdir(folder):
        path = os.path.join(folder, f"rank{rank}")
        with open(path + ".part", "w", encoding="utf-8") as handle:
            handle.write(line)
        os.replace(path + ".part", path)
    elif rank == 0:
        print(line, file=sys.stderr, flush=True)


def rank_error_line(folder: str, rank: int) -> str | None:
    """The line rank `rank` left with say_stop_line in `folder`; None when it left none."""
    try:
        with open(os.path.join(folder, f"rank{rank}"), encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def pick_device(name: str):  # -> torch.device (torch is imported here, not at module level)
    """The one device policy of every command: `auto` is CUDA when available, else the CPU; `cuda` without a CUDA
    device is a UserError; anything else is refused."""
    import torch

    from digitgan.errors import UserError

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("no CUDA device is available (use the cpu, or let digitgan pick with auto)")
    if name not in ("cpu", "cuda"):
        raise UserError(f"unknown device '{name}'; choose auto, cpu or cuda")
    return torch.device(name)


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask), not the machine's total."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo's names for x86's bf16 dot-product units


def cpu_has_bf16(cpuinfo: str | None = None) -> bool | None:
    """Whether this CPU has bf16 units (what makes `cpu_amp` pay): True / False from Linux's /proc/cpuinfo flags
    (or the text given), None where they cannot be read."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as file:
                cpuinfo = file.read()
        except OSError:
            return None
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), None)
    return None if flags is None else any(flag in flags for flag in BF16_FLAGS)


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


class ThreadGovernor:
    """Picks the faster of all CPUs and one thread for a training loop, from measured step rates, as load changes.

    Alone, every core is fastest; beside another busy process, two threads of ours on two shared cores wait on
    each other while the scheduler runs someone else, and one thread trains faster (benchmarks/RESULTS.md, "under
    load"). Every `window` seconds of training the rate of the current count is recorded; now and then (and at
    once when the rate drops below `drop` x the best seen recently) one window tries the other count, and the
    faster of the two latest measurements stays. Exploring backs off while it keeps losing.
    """

    def __init__(self, most: int, window: float = 0.5, explore_every: int = 20, drop: float = 0.7,
                 first_explore: int = 2) -> None:
        self.most, self.window, self.explore_every, self.drop = most, window, explore_every, drop
        self.current = most
        self.seconds = 0.0
        self.images = 0
        self.latest: dict[int, float] = {}      # threads -> images/s of its latest window
        self.windows_since_explore = explore_every - first_explore  # learn both rates early
        self.backoff = 1
        self.exploring_from: int | None = None
        self.switches = 0

    @property
    def active(self) -> bool:
        return self.most > 1

    def record(self, seconds: float, images: int) -> int | None:
        """Account one training step; returns the new thread count when it changes (already applied)."""
        if not self.active:
            return None
        self.seconds += seconds
        self.images += images
        if self.seconds < self.window:
            return None
        rate = self.images / self.seconds
        self.seconds, self.images = 0.0, 0
        previous = self.latest.get(self.current)
        self.latest[self.current] = rate
        other = 1 if self.current == self.most else self.most
        if self.exploring_from is not None:  # this window tried `current`: keep it if it beat what we left
            left = self.exploring_from
            self.exploring_from = None
            if rate > self.latest[left]:
                self.backoff = 1
                return None
            self.backoff = min(self.backoff * 2, 32)
            return self._apply(left)
        self.windows_since_explore += 1
        slowed = previous is not None and rate < self.drop * previous
        if slowed or self.windows_since_explore >= self.explore_every * self.backoff:
            self.windows_since_explore = 0
            self.exploring_from = self.current
            return self._apply(other)
        return None

    def _apply(self, threads: int) -> int:
        import torch

        torch.set_num_threads(threads)
        self.current = threads
        self.switches += 1
        return threads
