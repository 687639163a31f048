"""Training images/s of `fast` in a fresh `digitgan` process, as a user's `digitgan train` runs it.

usage: python -m benchmarks.probes.train_rate STEPS THREADS|0 [EXTRA digitgan train ARGS...] -> {"images_per_second"}
The process goes through digitgan's CLI, so whatever OpenMP defaults a digitgan command applies are in place;
the caller chooses the environment.
"""

import json
import sys
import tempfile
from pathlib import Path

from digitgan.command import main as digitgan

if __name__ == "__main__":
    steps, threads, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "run"
        arguments = ["train", "--preset", "fast", "--steps", steps, "--seed", "1", "--quiet", "--set", "eval_every=0",
                     "--set", "checkpoint_every=0", "--out", str(run), *extra]
        if threads:
            arguments += ["--threads", str(threads)]
        code = digitgan(arguments)
        if code != 0:
            raise SystemExit(code)
        summary = json.loads((run / "summary.json").read_text())
    print(json.dumps({"images_per_second": summary["images_per_second"], "seconds": summary["seconds"]}))
