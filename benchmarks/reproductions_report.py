"""REPRODUCTIONS.md from reproductions.json: one table for every way of drawing a digit, then each source beside
what we measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _f(value: Any, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


SHARED_NOTE = ("\\* trained while other work shared the 2 cores: images seen are the budget, the seconds an upper "
               "bound and images/s a lower one.")


def _row(name: str, scores: dict[str, Any], seconds: Any, images: Any, shared: bool = False) -> str:
    rate = images / seconds if seconds and images else None
    mark = "\\*" if shared else ""
    return (f"| {name} | {_f(scores.get('accuracy'), '.4f')} | {_f(scores.get('fcd'), '.3f')} | "
            f"{_f(scores.get('recall'), '.3f')} | {_f(scores.get('coverage'), '.3f')} | "
            f"{_f(scores.get('cas'), '.4f')} | "
            f"{_f(scores.get('broken'), '.4f')} | {_f(seconds, ',.0f')}{mark} | {_f(rate, ',.0f')}{mark} |")


HEADER = ["| way of drawing | conditional accuracy | FCD | recall | coverage | CAS (10k) | broken share | "
          "time (s) | images/s |", "|---|---|---|---|---|---|---|---|---|"]


def table(results: dict[str, Any]) -> list[str]:
    lines = list(HEADER)
    floor = None
    for preset, row in results.get("runs", {}).items():
        if "model" not in row:
            continue
        lines.append(_row(f"`{preset}`", row["model"], row.get("train_seconds"), row.get("images_seen"),
                          row.get("shared_cores", False)))
        floor = row["real_floor"]
    for name, row in results.get("dreams", {}).items():
        lines.append(_row(name, row["model"], row.get("seconds"), row["model"].get("n")))
    if floor is not None:
        lines.append(_row("real data (10k training images; CAS: the same recipe on 60k real)", floor, None, None))
    if any(row.get("shared_cores") for row in results.get("runs", {}).values()):
        lines += ["", SHARED_NOTE]
    return lines


def gpu_section(gpu: dict[str, Any]) -> list[str]:
    """The rows trained on a GPU to the sources' own budgets, apart from the CPU rows."""
    machine = gpu.get("gpu_machine", {})
    lines = ["## On a GPU: the sources' own budgets", "",
             f"Trained by `make reproduce DEVICE=cuda` (resumable, in slices: `REPRO_ARGS=\"--slice-minutes 8\"`) on "
             f"{machine.get('device', 'a CUDA device')} (torch {machine.get('torch')}, {machine.get('date')}). "
             "Budget: the source's epochs where it names some, else the project's own CPU budget (marked *ours*). "
             "Scored exactly as the CPU rows.", "", "| way of drawing | budget | trained | conditional accuracy | FCD "
             "| recall | coverage | CAS (10k) | broken share | time (s) | images/s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for preset, row in gpu["runs"].items():
        budget = (f"{row['budget_images'] / 60_000:g} epochs" + (" (ours)" if row.get("budget_of") == "ours" else
                                                                   " (source)"))
        trained = f"{row['epochs']:g} epochs" + ("" if row.get("reached", True) else " — not yet finished")
        if "model" in row:
            lines.append(_row(f"`{preset}` | {budget} | {trained}", row["model"], row.get("train_seconds"),
                              row.get("images_seen")))
        else:
            lines.append(f"| `{preset}` | {budget} | {trained} | — | — | — | — | — | — | "
                         f"{_f(row.get('train_seconds'), ',.0f')} | — |")
    lines += ["", "![GPU rows](reproductions/all-cuda.png)", "", "![GPU curves](reproductions/curves-cuda.png)", ""]
    return lines


def equal_time_section(results: dict[str, Any]) -> list[str]:
    """Every preset trained the same minutes on this machine's CPU: what each way of drawing gives a laptop user in
    the same time (the dream rows train nothing: their time is the dreaming's)."""
    equal = results.get("equal_time")
    if not equal or not equal.get("runs"):
        return ["## On 2 CPU cores at equal time", "", "Not measured yet: `make reproduce REPRO_ARGS=\"--equal-minutes "
                "10\"` trains every preset 10 minutes of 2-core training time and scores it.", ""]
    machine = results.get("equal_time_machine", {})
    lines = [f"## On 2 CPU cores at equal time: {equal['minutes']:g} minutes of training each", "",
             "The laptop question — what does each way of drawing give in the same time? Every preset trained "
             f"{equal['minutes']:g} minutes by the trainer's own clock on quiet cores ({machine.get('threads')} "
             f"threads, torch {machine.get('torch')}, {machine.get('date')}), scored as above; images seen show how "
             "far each got. The dream rows train nothing (time: dreaming 10,000 images).", "", *HEADER]
    picture = ["", "![a row of samples per way, and real data](reproductions/all-equal-time.png)"]
    floor = None
    for preset, row in equal["runs"].items():
        lines.append(_row(f"`{preset}` ({row['images_seen']:,} images, {row['epochs']:g} epochs)", row["model"],
                          row.get("train_seconds"), row.get("images_seen")))
        floor = row["real_floor"]
    for name, row in results.get("dreams", {}).items():
        lines.append(_row(name, row["model"], row.get("seconds"), row["model"].get("n")))
    if floor is not None:
        lines.append(_row("real data (10k training images; CAS: the same recipe on 60k real)", floor, None, None))
    return [*lines, *picture, ""]


def render(results: dict[str, Any], runs: Path) -> str:
    machine = results.get("machine", {})
    lines = ["# Reproductions: every way to draw a digit, on one scale", "",
             "Three sections, three questions:", "",
             "- **On 2 CPU cores, budgets in images** (this table): does a source's recipe give what the source says, "
             "at the source's budget where 2 cores can afford it (`simple-gan`) or at ours (`fast`)?",
             "- **On 2 CPU cores at equal time**: what does each way of drawing give a laptop user in the same "
             "minutes of training?",
             "- **On a GPU: the sources' own budgets**: what do the sources' recipes give at the budgets they name "
             "(days on a CPU)?", "",
             f"Runs of `make reproduce` on this machine ({machine.get('threads')} threads, torch "
             f"{machine.get('torch')}, {machine.get('date')}). Every row is scored the same way: 10,000 samples "
             "(1,000 per class) by the shipped reference classifier, each metric beside the real data's floor; CAS "
             "trains the reference recipe on 10,000 generated (or dreamed) images and tests it on the real test set. "
             "Time: training seconds (for the dream rows, the optimisation's); images/s: training images per second "
             "(dreams: images dreamed per second).", "", *table(results), "",
             "![a row of samples per way, and real data](reproductions/all.png)", "",
             "Accuracy and FCD against images seen (light evaluation, 2,000 samples):", "",
             "![curves](reproductions/curves.png)", ""]
    lines += equal_time_section(results)
    if results.get("gpu", {}).get("runs"):
        lines += gpu_section({**results["gpu"], "gpu_machine": results.get("gpu_machine", {})})
    else:
        lines += ["## On a GPU", "", "Not run yet: `make reproduce DEVICE=cuda` trains every source preset to the "
                  "source's own budget, in resumable slices (`REPRO_ARGS=\"--slice-minutes 8\"`).", ""]
    for preset, row in results.get("runs", {}).items():
        if "model" not in row:
            continue
        model, floor = row["model"], row["real_floor"]
        lines += [f"## `{preset}`", "", f"- Source: {row['claim']}.",
                  *([f"- Recipe: {row['recipe']}."] if row.get("recipe") else []),
                  f"- Budget here: {row['budget_images']:,} images ({row['budget_images'] / 60000:.2f} epochs); "
                  f"trained {row['images_seen']:,} images in {_f(row.get('train_seconds'), ',.0f')} s"
                  + (" (other work shared the cores: an upper bound)." if row.get("shared_cores") else "."),
                  f"- Measured: conditional accuracy {_f(model.get('accuracy'), '.4f')} (floor "
                  f"{_f(floor.get('accuracy'), '.4f')}), FCD {model['fcd']:.3f} (floor {floor['fcd']:.3f}), recall "
                  f"{model['recall']:.3f} ({floor['recall']:.3f}), coverage {model['coverage']:.3f} "
                  f"({floor['coverage']:.3f}), broken {model['broken']:.4f} ({floor['broken']:.4f})."]
        if row.get("d_accuracy"):
            d = row["d_accuracy"]
            lines.append(f"- D at the end (eval mode): right on {d['both']:.1%} of 10,000 test digits and 10,000 fresh "
                         f"fakes (reals {d['real']:.1%}, fakes {d['fake']:.1%}).")
        if row.get("gpu_epochs") and row["epochs"] < row["gpu_epochs"]:
            lines.append(f"- How far: {row['epochs']:.2f} of the source's {row['gpu_epochs']:g} epochs on 2 CPU "
                         f"cores; the GPU section trains the whole budget (`make reproduce DEVICE=cuda`).")
        lines += ["", f"![{preset}](reproductions/{row.get('picture', preset + '.png')})", ""]
        if Path(runs / preset / "samples" / "reconstructions.png").exists():
            lines += ["Held-out digits (odd rows) and what the autoencoder makes of them (even rows):", "",
                      f"![reconstructions](reproductions/{preset}-reconstructions.png)", ""]
    if results.get("dreams"):
        lines += ["## Driving a classifier backwards (`digitgan dream`)", "",
                  "Pixels optimised (200 Adam steps, from uniform noise or from a blank page) until a classifier says "
                  "the asked digit; the total-variation (TV) prior penalises the differences between neighbouring "
                  "pixels. "
                  "The driven classifiers are not the evaluator (digitgan/dream_weights/ has their model cards).", "",
                  "| variant | driven classifier says the asked digit | its mean probability | reference classifier "
                  "agrees | FCD | broken share |", "|---|---|---|---|---|---|"]
        for name, row in results["dreams"].items():
            driven, model = row["driven"], row["model"]
            lines.append(f"| {name} | {driven['says_asked']:.1%} | {driven['mean_probability']:.3f} | "
                         f"{model['accuracy']:.1%} | {model['fcd']:.1f} | {model['broken']:.3f} |")
        lines.append("")
        for name, row in results["dreams"].items():
            lines += [f"{name}: ![{name}](reproductions/{Path(row['run']).name}.png)", ""]
    return "\n".join(lines)


def main() -> int:
    """Render REPRODUCTIONS.md again from the committed reproductions.json (after a change of the report's text)."""
    import json

    from benchmarks.common import HERE
    from digitgan.files import write_text

    results = json.loads((HERE / "reproductions.json").read_text())
    write_text(HERE / "REPRODUCTIONS.md", render(results, Path("runs/reproduce")))
    print(f"wrote {HERE / 'REPRODUCTIONS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
