"""Run by torchrun or digitgan's launcher in tests/training/test_distributed.py: trains a tiny run and dumps this rank's
final weights. Mode "poison": rank 0's G turns NaN at step 3; every rank must stop with exit code 3."""

import sys
from pathlib import Path

import torch

from digitgan.config import RunConfig
from digitgan.training import train

if __name__ == "__main__":
    config_path, run_dir, dump_dir, steps, resume = sys.argv[1:6]
    import json

    config = RunConfig.from_dict(json.loads(Path(config_path).read_text()))
    config.train.steps = int(steps)
    torch.set_num_threads(1)
    seen = {}

    def capture(state):
        if state.step == int(steps):
            seen["g"] = {k: v.clone() for k, v in state.generator.state_dict().items()}
            seen["d"] = {k: v.clone() for k, v in state.partner.state_dict().items()}
            seen["rank"], seen["world"] = state.rank, state.world

    def poison(state):
        if state.step == 3 and state.rank == 0:
            with torch.no_grad():
                next(state.generator.parameters()).fill_(float("nan"))

    if resume == "poison":
        from digitgan.errors import TrainingDiverged

        try:
            train(config, Path(run_dir), quiet=True, step_callback=poison)
        except TrainingDiverged:
            raise SystemExit(3) from None
        raise SystemExit(0)
    train(config, Path(run_dir), resume=Path(run_dir) if resume == "resume" else None, quiet=True,
          step_callback=capture)
    torch.save(seen, Path(dump_dir) / f"rank{seen['rank']}-world{seen['world']}-step{steps}.pt")
