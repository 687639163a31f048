"""Sampling timings of a model in a fresh process (the allocator setting is process-wide).

usage: python -m benchmarks.probes.sampling THREADS FOLD(0|1) ALLOCATOR(0|1) MODEL_DIR|'' BATCH_REPEATS SINGLES
-> {"batch": [seconds per batch of 1024, ...], "single": [seconds per single image, ...]}
"""

import json
import sys
import time
from pathlib import Path

import torch

from digitgan.modelfolder.folder import default_model_dir, load_generator
from digitgan.models import one_hot, sample_noise
from digitgan.runtime import tune_allocator


def main(threads: int, fold: bool, allocator: bool, model_dir: str, repeats: int, singles: int) -> dict:
    torch.set_num_threads(threads)
    if allocator:
        tune_allocator()
    generator, config, _ = load_generator(Path(model_dir) if model_dir else default_model_dir(), for_sampling=fold)
    z, labels = sample_noise(1024, config.model), one_hot(torch.arange(1024) % 10, 10)
    with torch.no_grad():
        generator(z, labels)
        batch = []
        for _ in range(repeats):
            start = time.perf_counter()
            generator(z, labels)
            batch.append(time.perf_counter() - start)
        single = []
        for index in range(singles):
            start = time.perf_counter()
            generator(z[index:index + 1], labels[index:index + 1])
            single.append(time.perf_counter() - start)
    return {"batch": batch, "single": single}


if __name__ == "__main__":
    threads, fold, allocator, model_dir, repeats, singles = sys.argv[1:7]
    print(json.dumps(main(int(threads), fold == "1", allocator == "1", model_dir, int(repeats), int(singles))))
