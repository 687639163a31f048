"""torch.distributed plumbing for DDP (`digitgan train --nproc K`, or `torchrun -m digitgan train`): gloo on CPU,
nccl on CUDA.

Without a launcher's environment (WORLD_SIZE unset or 1) everything here is a no-op, so the single-process
trainer stays exactly what it was.

Ending a run without a deadlock. A gloo process group runs its collectives on worker threads; its destructor joins
them while holding the GIL. A worker that drops the last reference to a finished collective destroys the tensors
it holds there, and a tensor whose Python object died meanwhile needs the GIL to release that object: if the
group is destroyed at that moment, each waits for the other forever (seen at the end of `--nproc 2` runs on a busy
machine). Two rules rule it out: every tensor this module hands to a collective outlives the group (the reused
buffers below; parameters and buffers of modules the trainer still holds), and `process_group()` ends the group
explicitly in a fixed order: wait for every rank, release the DDP wrappers (their reducers hold the group) while
the group is still registered, then destroy it — on every exit path, an exception included.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist

from digitgan.runtime import launch_env
from digitgan.training.launch import launcher_store

# (length, device) -> the float64 tensor mean_and_any reduces in; kept for the life of the process (see above).
_REDUCE_BUFFERS: dict[tuple[int, str], torch.Tensor] = {}


@dataclass(frozen=True)
class Dist:
    world: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def from_env() -> Dist:
    return Dist(*launch_env())


def setup(info: Dist, device: torch.device) -> torch.device:
    """Join the process group (under `--nproc` or torchrun); returns this rank's device.

    A rank of digitgan's own launcher joins on the launcher's TCPStore, named explicitly; under torchrun (or any
    launcher that sets MASTER_ADDR / MASTER_PORT) the group is found the standard env:// way."""
    if not info.active:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        address = launcher_store()
        if address is None:
            dist.init_process_group(backend=backend)
        else:
            store = dist.TCPStore(address[0], address[1], info.world, is_master=False)
            dist.init_process_group(backend=backend, store=store, rank=info.rank, world_size=info.world)
    return device


@contextmanager
def process_group(info: Dist, device: torch.device) -> Iterator[tuple[torch.device, list[Callable[[], None]]]]:
    """Join the process group for the block; yields (this rank's device, releases). Append to `releases` what
    holds the group (e.g. a callback that drops the DDP wrappers); they run before the group is destroyed.

    On a normal exit every rank waits for the others (all collectives done) first; on an exception it does not
    wait (the others may never get there): destroying the group closes this rank's connections, so the peers'
    pending collectives fail at once instead of waiting out their timeout."""
    device = setup(info, device)
    releases: list[Callable[[], None]] = []
    clean = False
    try:
        yield device, releases
        clean = True
    finally:
        teardown(info, releases, clean)


def teardown(info: Dist, releases: list[Callable[[], None]] | None = None, clean: bool = True) -> None:
    """End the process group in the order that cannot deadlock (module docstring)."""
    if not (info.active and dist.is_initialized()):
        return
    try:
        if clean:
            dist.barrier()
    finally:
        for release in releases or []:
            release()
        gc.collect()  # reducers caught in reference cycles drop the group now, while it is still registered
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001 - on the error path the group may be broken; the first error is the one to see
            if clean:
                raise


def mean_and_any(values: list[float], flags: list[bool], device: torch.device, info: Dist) -> tuple[list[float],
                                                                                                    list[bool]]:
    """Average `values` and OR `flags` over all ranks in one all-reduce (identity without DDP)."""
    if not info.active:
        return values, flags
    key = (len(values) + len(flags), str(device))
    packed = _REDUCE_BUFFERS.get(key)
    if packed is None:
        packed = _REDUCE_BUFFERS[key] = torch.zeros(key[0], dtype=torch.float64, device=device)
    packed.copy_(torch.tensor([*values, *(float(f) for f in flags)], dtype=torch.float64))
    dist.all_reduce(packed)
    values_out = (packed[:len(values)] / info.world).tolist()
    return values_out, [bool(v > 0) for v in packed[len(values):].tolist()]


def wrap(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    from torch.nn.parallel import DistributedDataParallel

    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=device_ids)


def sync_buffers(info: Dist, *modules: torch.nn.Module) -> None:
    """Broadcast rank 0's buffers (BatchNorm running statistics) so that every rank ends a step identical.

    DDP itself broadcasts them at the start of each wrapped forward; doing it at the end of the step too
    keeps checkpoints, EMA and evaluation independent of which rank one looks at."""
    if not info.active:
        return
    for module in modules:
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)
