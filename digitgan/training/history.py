"""What training shows and keeps: a progress line, the JSONL history, the epoch table, the curves."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from digitgan.files import atomic_write, pyplot, save_figure


def _mean(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [row[key] for row in rows if isinstance(row.get(key), float)]
    return float(np.mean(values)) if values else None


class History:
    """history.jsonl: one `log` row per logging interval plus `epoch` and `balance` event rows."""

    def __init__(self, path: Path, truncate_after_step: int | None = None, enabled: bool = True) -> None:
        self.path = path
        self.enabled = enabled
        self.tensorboard = None
        if not enabled:
            return
        if truncate_after_step is not None and path.exists():
            # Rows after the checkpoint we resume from describe steps that will be redone; a partial row at
            # the checkpoint's step is superseded, since its window travels in the checkpoint.
            kept = []
            for line in path.read_text().splitlines():
                row = json.loads(line) if line.strip() else None
                step = row.get("step", 0) if row else None
                if row and (step < truncate_after_step or (step == truncate_after_step and not row.get("partial"))):
                    kept.append(line)
            atomic_write(path, "".join(line + "\n" for line in kept))
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tensorboard = SummaryWriter(str(path.parent / "tensorboard"))
        except ImportError:  # optional extra: pip install 'digitgan[tensorboard]'
            pass

    def _write(self, row: dict[str, Any]) -> None:
        if not self.enabled:
            return
        with self.path.open("a") as handle:
            handle.write(json.dumps(row) + "\n")

    def log(self, state: Any, window: list[dict[str, Any]], seconds: float, partial: bool = False) -> None:
        row: dict[str, Any] = {"kind": "log", "step": state.step, "images_seen": state.images_seen,
                               "epoch": state.epoch, "seconds": round(seconds, 3)}
        if partial:
            row["partial"] = True
        for key in dict.fromkeys(key for metrics in window for key in metrics):  # every numeric metric, in order
            value = _mean(window, key)
            if value is not None:
                row[key] = round(value, 5)
        for side in ("D", "G"):
            row[f"{side.lower()}_paused_steps"] = sum(1 for r in window if r.get("paused") == side)
        self._write(row)
        if self.tensorboard is not None:
            for key, value in row.items():
                if key not in ("kind", "step", "images_seen", "epoch") and isinstance(value, int | float):
                    self.tensorboard.add_scalar(key, value, state.images_seen)

    def event(self, state: Any, kind: str, **fields: Any) -> None:
        self._write({"kind": kind, "step": state.step, "images_seen": state.images_seen, **fields})


def read_history(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class ProgressBar:
    """One live line on a terminal (redrawn ≤ 5×/s); on a pipe, a line every 10 s instead."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.drawn = False

    def update(self, state: Any, metrics: dict[str, Any], train: Any, num_images: int, seconds: float,
               images_this_run: int, fields: tuple[tuple[str, str, str], ...]) -> None:
        """Redraw the line: state's progress towards the budget, `images_this_run` over `seconds` of training, and
        the metrics named by `fields` ((label, key, format) each)."""
        now = time.monotonic()
        if self.quiet or now - self.last < (0.2 if self.tty else 10.0):
            return
        self.last = now
        rate = images_this_run / max(seconds, 1e-9)
        if train.steps:
            goal = f"step {state.step}/{train.steps}"
        elif train.epochs:
            goal = f"epoch {state.images_seen / num_images:.2f}/{train.epochs:g}"
        else:
            goal = f"{seconds / 60:.1f}/{train.minutes:g} min"
        shown = " ".join(f"{label} {metrics[key]:{fmt}}" for label, key, fmt in fields if key in metrics)
        line = f"{goal} | {state.images_seen:,} img | {rate:,.0f} img/s | {shown}"
        if metrics.get("paused"):
            line += f" | {metrics['paused']} paused"
        if self.tty:
            sys.stderr.write("\r" + line[:160].ljust(160))
            self.drawn = True
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def note(self, text: str) -> None:
        if self.quiet:
            return
        if self.drawn:
            sys.stderr.write("\n")
            self.drawn = False
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.drawn and not self.quiet:
            sys.stderr.write("\n")
            self.drawn = False


def epoch_table(epoch: int, rows: list[dict[str, Any]], held_out: dict[str, float], seconds: float,
                entries: tuple[tuple[str, str, str], ...]) -> str:
    """The Keras ACGAN's end-of-epoch table: training and held-out test losses, and the time.

    entries: (row name, training metric, held-out key) per row, as the objective defines them.
    """
    lines = [f"epoch {epoch} ({seconds:.1f} s, {len(rows)} steps)",
             f"{'component':<30}{'train':>10}{'test':>10}"]
    for name, train_key, test_key in entries:
        train_value = _mean(rows, train_key)
        if train_value is None:
            continue
        test_value = held_out.get(test_key)
        test_text = f"{test_value:>10.4f}" if test_value is not None else f"{'-':>10}"
        lines.append(f"{name:<30}{train_value:>10.4f}{test_text}")
    return "\n".join(lines)


LOSS_LABELS = {"d_loss": "D loss", "g_loss": "G loss", "loss": "loss", "reconstruction": "reconstruction",
               "kl": "KL"}


def plot_history(history_path: Path, out: Path, losses: tuple[str, ...] = ("d_loss", "g_loss"),
                 rates: tuple[tuple[str, str], ...] = ()) -> Path | None:
    """Loss curves (and rates in [0, 1], such as D's outputs) against images seen (PNG), with the light
    evaluation beside them when there is one. Returns None when there is nothing to plot."""
    rows = [row for row in read_history(history_path) if row.get("kind") == "log"]
    if len(rows) < 2:
        return None
    plt = pyplot()
    seen = [row["images_seen"] for row in rows]
    evals = [row for row in read_history(history_path) if row.get("kind") == "eval"]
    panels = 1 + bool(rates) + bool(evals)
    figure, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4), squeeze=False)
    loss_axis, axes = axes[0][0], list(axes[0][1:])
    if evals:
        eval_seen = [row["images_seen"] for row in evals]
        fcd_axis = axes[-1]
        fcd_axis.plot(eval_seen, [row["fcd"] for row in evals], color="tab:red", label="FCD (2k samples)")
        fcd_axis.set_yscale("log")
        fcd_axis.set_xlabel("images seen")
        fcd_axis.set_title("light evaluation")
        fcd_axis.legend(loc="upper left")
        if any("accuracy" in row for row in evals):
            accuracy_axis = fcd_axis.twinx()
            accuracy_axis.plot(eval_seen, [row.get("accuracy") for row in evals], color="tab:green",
                               label="conditional accuracy")
            accuracy_axis.set_ylim(0, 1)
            accuracy_axis.legend(loc="upper right")
    for key in losses:
        loss_axis.plot(seen, [row.get(key) for row in rows], label=LOSS_LABELS.get(key, key))
    loss_axis.set_xlabel("images seen")
    loss_axis.set_title("losses")
    loss_axis.legend()
    if rates:
        prob_axis = axes[0]
        for key, label in rates:
            if any(key in row for row in rows):
                prob_axis.plot(seen, [row.get(key) for row in rows], label=label)
        prob_axis.set_xlabel("images seen")
        prob_axis.set_ylim(0, 1)
        prob_axis.set_title("D outputs")
        prob_axis.legend()
    figure.tight_layout()
    return save_figure(figure, out, dpi=80)
