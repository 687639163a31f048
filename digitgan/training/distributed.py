"""torch.distributed plumbing for `torchrun -m digitgan train` (DDP): gloo on CPU, nccl on CUDA.

Without torchrun's environment (WORLD_SIZE unset or 1) everything here is a no-op, so the single-process
trainer stays exactly what it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


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
    return Dist(int(os.environ.get("WORLD_SIZE", "1")), int(os.environ.get("RANK", "0")),
                int(os.environ.get("LOCAL_RANK", "0")))


def setup(info: Dist, device: torch.device) -> torch.device:
    """Join the process group (if under torchrun); returns this rank's device."""
    if not info.active:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return device


def teardown(info: Dist) -> None:
    if info.active and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def mean_and_any(values: list[float], flags: list[bool], device: torch.device, info: Dist) -> tuple[list[float],
                                                                                                    list[bool]]:
    """Average `values` and OR `flags` over all ranks in one all-reduce (identity without DDP)."""
    if not info.active:
        return values, flags
    packed = torch.tensor([*values, *(float(f) for f in flags)], dtype=torch.float64, device=device)
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
