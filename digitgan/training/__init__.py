"""Training: the loop (loop.py), one step (step.py), the objective's math (objective.py), the state and its
checkpoints (state.py, checkpoints.py), periodic work (recorder.py, history.py), run preparation and ownership
(run.py, lock.py), and DDP plumbing (distributed.py)."""

from digitgan.errors import TrainingDiverged
from digitgan.training.loop import train
from digitgan.training.run import RunPlan, prepare_run

__all__ = ["RunPlan", "TrainingDiverged", "prepare_run", "train"]
