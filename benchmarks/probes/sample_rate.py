"""Sampling images/s of the shipped model at batch 1024 in a fresh digitgan process (its CLI's process defaults).

usage: python -m benchmarks.probes.sample_rate REPEATS -> {"images_per_second": median over repeats}
"""

import json
import statistics
import sys
import time

from digitgan.runtime import apply_openmp_defaults

apply_openmp_defaults()  # as every digitgan command does, before torch starts

import torch  # noqa: E402

from digitgan.modelfolder.folder import default_model_dir, load_generator  # noqa: E402
from digitgan.models import one_hot, sample_noise  # noqa: E402
from digitgan.runtime import set_threads  # noqa: E402

if __name__ == "__main__":
    set_threads(None)
    generator, config, _ = load_generator(default_model_dir())
    z, labels = sample_noise(1024, config.model), one_hot(torch.arange(1024) % 10, 10)
    times = []
    with torch.no_grad():
        generator(z, labels)
        for _ in range(int(sys.argv[1])):
            start = time.perf_counter()
            generator(z, labels)
            times.append(time.perf_counter() - start)
    print(json.dumps({"images_per_second": 1024 / statistics.median(times)}))
