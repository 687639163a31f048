"""Peak resident memory of a fresh process that loads MNIST and trains PRESET for STEPS steps.

usage: python -m benchmarks.probes.rss PRESET STEPS ALLOCATOR(0|1) -> {"peak_rss_mib": ...}
VmHWM belongs to this process image; getrusage's ru_maxrss would carry the parent's peak across exec.
"""

import json
import re
import sys
from pathlib import Path

import torch

from digitgan.config import load_preset
from digitgan.data import load_dataset
from digitgan.runtime import tune_allocator
from digitgan.training.objective import objective_for
from digitgan.training.state import start_state
from digitgan.training.step import train_step


def main(preset: str, steps: int, allocator: bool) -> dict:
    if allocator:
        tune_allocator()
    torch.set_num_threads(2)
    data = load_dataset("mnist", "train")
    images, labels = torch.from_numpy(data.images), torch.from_numpy(data.labels)
    config = load_preset(preset)
    state = start_state(config, len(images), torch.device("cpu"))  # as `digitgan train` sets it up
    objective = objective_for(config)
    for _ in range(steps):
        train_step(state, config, objective, images, labels)
    peak_kib = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
    return {"peak_rss_mib": round(peak_kib / 1024, 1)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1")))
