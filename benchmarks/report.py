"""RESULTS.md from results.json: the targets table and one section per benchmark, numbers as measured."""

from __future__ import annotations

import statistics
from typing import Any


def _fmt(value: Any, unit: str = "") -> str:
    return "not reached" if value is None else f"{value}{unit}"


def targets(results: dict) -> list[str]:
    """The issue's targets for 2 CPU cores, each checked against this run's numbers (met / not met / not run)."""
    quality, floor = results.get("quality", {}), results.get("fcd_floor_2k")
    fast = quality.get("fast", {})
    rows: list[tuple[str, str, bool | None]] = []

    def reached(key: str, limit: float) -> tuple[str, bool | None]:
        if not fast:
            return "not run", None
        seconds = fast.get(key)
        return (f"{seconds} s" if seconds is not None else "not reached"), seconds is not None and seconds <= limit

    rows.append(("fast: ≥ 90% conditional accuracy within 60 s", *reached("seconds_to_90", 60)))
    rows.append(("fast: ≥ 98% within 5 minutes", *reached("seconds_to_98", 300)))
    if fast.get("curve") and floor:
        within = [p["seconds"] for p in fast["curve"] if p["fcd"] <= 10 * floor]
        rows.append(("fast: FCD ≤ 10× the real floor within 10 minutes",
                     f"after {within[0]:.1f} s" if within else "not reached", bool(within) and within[0] <= 600))
    keras = quality.get("keras-acgan")
    if fast.get("seconds_to_95") and keras:
        theirs = keras.get("seconds_to_95")
        ratio = (theirs or keras["train_seconds"]) / fast["seconds_to_95"]
        rows.append(("≥ 10× less wall time than keras-acgan to 95%",
                     f"{'' if theirs else '≥ '}{ratio:.1f}×" + ("" if theirs else " (keras-acgan never reached 95%)"),
                     ratio >= 10))
    throughput = results.get("throughput", {}).get("fast")
    if throughput:
        fraction = throughput["fraction_of_matmul_peak"]
        preset, most = _above_matmul_peak(results["throughput"])
        if preset:  # a yardstick something outruns is not this CPU's peak: the fraction cannot be judged against it
            rows.append(("training at ≥ 40% of the matmul peak", f"{100 * fraction:.0f}% of a matmul that "
                         f"underestimates this CPU's peak ({preset} trained at {100 * most:.0f}% of it)", None))
        else:
            rows.append(("training at ≥ 40% of the matmul peak", f"{100 * fraction:.0f}%", fraction >= 0.40))
    sampling = results.get("sampling")
    if sampling:
        rate = sampling["images_per_second_batch_1024"]
        rows.append(("sampling ≥ 20,000 images/s at batch 1024", f"{rate:,} images/s", rate >= 20000))
    rows += _distribution_targets(results.get("distribution", {})) + _load_targets(results.get("load", {}))
    rows += _fast_budget_targets(results.get("fast_budget", {}))
    if not rows:
        return []
    verdict = {True: "met", False: "**not met**", None: "not judged"}
    return (["## Targets (2 CPU cores, MNIST)", "", "| target | measured | |", "|---|---|---|"]
            + [f"| {name} | {value} | {verdict[ok]} |" for name, value, ok in rows] + [""])


def _distribution_targets(data: dict) -> list[tuple[str, str, bool | None]]:
    rows: list[tuple[str, str, bool | None]] = []
    ship, fast = data.get("shipped"), data.get("fast")
    if ship:
        floor = ship["real_floor"]
        rows += [("shipped model: conditional accuracy ≥ 99.5%", f"{ship['accuracy']:.4f}", ship["accuracy"] >= 0.995),
                 ("shipped model: recall ≥ 0.75 (floor " + f"{floor['recall']:.3f})", f"{ship['recall']:.3f}",
                  ship["recall"] >= 0.75),
                 ("shipped model: coverage ≥ 0.90 (floor " + f"{floor['coverage']:.3f})", f"{ship['coverage']:.3f}",
                  ship["coverage"] >= 0.90),
                 (f"shipped model: FCD ≤ 2× the floor ({2 * floor['fcd']:.3f})", f"{ship['fcd']:.3f}",
                  ship["fcd"] <= 2 * floor["fcd"]),
                 (f"shipped model: CAS ≥ 98.5% (real data, same recipe: {floor['cas']:.4f})", f"{ship['cas']:.4f}",
                  ship["cas"] >= 0.985),
                 (f"shipped model: broken share ≤ the real data's ({floor['broken']:.4f})", f"{ship['broken']:.4f}",
                  ship["broken"] <= floor["broken"])]
    if fast:
        rows += [("fast from scratch: ≥ 98% conditional accuracy within 60 s", _fmt(fast["seconds_to_98"], " s"),
                  fast["seconds_to_98"] is not None and fast["seconds_to_98"] <= 60),
                 (f"fast from scratch: recall ≥ 0.6 within {fast['minutes']:g} minutes", f"{fast['recall']:.3f}",
                  fast["recall"] >= 0.6),
                 (f"fast from scratch: CAS ≥ 98% within {fast['minutes']:g} minutes", f"{fast['cas']:.4f}",
                  fast["cas"] >= 0.98)]
    return rows


# The measures a `fast_budget` row is judged on against its target: (key, label, the better side, format).
_FAST_BUDGET_KEYS = (("fcd", "FCD", "≤", ".3f"), ("recall", "recall", "≥", ".3f"),
                     ("coverage", "coverage", "≥", ".3f"), ("cas", "CAS", "≥", ".4f"),
                     ("accuracy", "accuracy", "≥", ".4f"))


def _short_of(row: dict, target: dict) -> list[str]:
    """The labels of the judged measures in which `row` falls short of `target`."""
    return [label for key, label, better, _ in _FAST_BUDGET_KEYS
            if (row[key] > target[key] if better == "≤" else row[key] < target[key])]


def _fast_budget_targets(data: dict) -> list[tuple[str, str, bool | None]]:
    """The issue's 15-minute part: `fast` as it is (the seeds' mean) against the model shipped when it was filed."""
    target, row = data.get("target"), data.get("rows", {}).get(data.get("baseline"), {})
    if not target or len(row.get("seeds", [])) < 2:
        return []
    wanted = ", ".join(f"{label} {sign} {target[key]:{fmt}}" for key, label, sign, fmt in _FAST_BUDGET_KEYS)
    measured = ", ".join(f"{label} {row[key]:{fmt}}" for key, label, _, fmt in _FAST_BUDGET_KEYS)
    return [(f"fast in {data['minutes']:g} minutes: the quality of the model shipped before #31 (evaluation seed 1: "
             f"{wanted})", measured, not _short_of(row, target))]


def _load_targets(data: dict) -> list[tuple[str, str, bool | None]]:
    training = data.get("training")
    if not training:
        return []
    if "default_alone_vs_fixed" not in training:  # a run before the default became repeatable
        return []
    rows: list[tuple[str, str, bool | None]] = [
        ("default (repeats exactly), alone: within 3% of 2 fixed threads with GOMP_SPINCOUNT=3000",
         f"{training['default_alone_vs_fixed']:.3f}×", training["default_alone_vs_fixed"] >= 0.97),
        ("default (repeats exactly), beside a 2-thread process: ≥ 30% of its alone speed",
         f"{100 * training['default_beside_competitor_of_alone']:.1f}%",
         training["default_beside_competitor_of_alone"] >= 0.30),
        ("--adapt-threads, alone: within 3% of 2 fixed threads", f"{training['adaptive_alone_vs_fixed']:.3f}×",
         training["adaptive_alone_vs_fixed"] >= 0.97),
        ("--adapt-threads, beside a 2-thread process: ≥ 45% of its alone speed",
         f"{100 * training['adaptive_beside_competitor_of_alone']:.1f}%",
         training["adaptive_beside_competitor_of_alone"] >= 0.45)]
    launches = data.get("ddp_launches")
    if launches:
        rows.append((f"`--nproc 2` launches beside a busy process: none hangs ({launches['limit_s']:g} s each)",
                     f"{launches['hung']} of {launches['launches']} hung, {launches['failed']} failed",
                     launches["hung"] == 0 and launches["failed"] == 0))
    serve = data.get("serve", {}).get("digitgan default (threads fixed: repeats exactly)")
    if serve:
        rows.append(("serve p99 beside a training ≤ 3× its idle p99",
                     f"{serve['p99_ms']} ms vs {serve['idle_p99_ms']} ms idle ({serve['p99_vs_idle']}×)",
                     serve["p99_vs_idle"] <= 3))
    return rows


def _quality(results: dict) -> list[str]:
    lines: list[str] = []
    floor = results.get("fcd_floor_2k")
    lines += ["## Time to quality (MNIST, 2 threads, training time only)", "",
              "Light evaluation every ~10 training seconds: 2,000 samples (200 per class) scored by the shipped "
              f"reference classifier. Real-data FCD floor at 2,000 samples: {floor}.", "",
              "| preset | budget (min) | steps | images | to 90% | to 95% | to 98% | final accuracy | best FCD |",
              "|---|---|---|---|---|---|---|---|---|"]
    for preset, data in results["quality"].items():
        lines.append(f"| {preset} | {data['budget_minutes']} | {data['steps']} | {data['images_seen']:,} | "
                     f"{_fmt(data['seconds_to_90'], ' s')} | {_fmt(data['seconds_to_95'], ' s')} | "
                     f"{_fmt(data['seconds_to_98'], ' s')} | {data.get('final_accuracy', 0):.4f} | "
                     f"{data.get('best_fcd')} |")
    fast = results["quality"].get("fast")
    if fast:
        lines += ["", "Ratios (time of the other preset / time of fast; a preset that never reached the "
                  "threshold within its budget gives a lower bound, budget / fast's time):", ""]
        for preset, data in results["quality"].items():
            if preset == "fast":
                continue
            parts = []
            for threshold in (95, 98):
                mine, theirs = fast[f"seconds_to_{threshold}"], data[f"seconds_to_{threshold}"]
                if mine is None:
                    parts.append(f"{threshold}%: fast did not reach it")
                elif theirs is None:
                    parts.append(f"{threshold}%: ≥ {data['train_seconds'] / mine:.1f}×")
                else:
                    parts.append(f"{threshold}%: {theirs / mine:.1f}×")
            lines.append(f"- {preset}: " + "; ".join(parts))
        if floor and fast.get("curve"):
            within = [p["seconds"] for p in fast["curve"] if p["fcd"] <= 10 * floor]
            lines.append(f"- fast's FCD within 10× the floor ({10 * floor:.3f}): "
                         + (f"after {within[0]:.1f} s" if within else "not within its budget"))
    lines += ["", "![time to quality](time_to_quality.png)", ""]
    return lines


def _above_matmul_peak(throughput: dict) -> tuple[str | None, float]:
    """(the preset furthest above 100% of the matmul peak, its fraction), or (None, 0.0) when none is above it."""
    fraction, preset = max(((data["fraction_of_matmul_peak"], name) for name, data in throughput.items()),
                           default=(0.0, None))
    return (preset, fraction) if fraction > 1 else (None, 0.0)


def _throughput(results: dict) -> list[str]:
    lines: list[str] = []
    lines += ["## Training throughput (2 threads)", "",
              "| preset | images/s through D | GFLOP/step | achieved GFLOP/s | of matmul peak | G params | "
              "D params | peak RSS (MiB) | peak RSS, default allocator |", "|---|---|---|---|---|---|---|---|---|"]
    for preset, data in results["throughput"].items():
        rss = results.get("memory_mib", {}).get(preset, "—")
        rss_default = results.get("memory_mib_default_allocator", {}).get(preset, "—")
        lines.append(f"| {preset} | {data['images_per_second']:,} | {data['flops_per_step'] / 1e9:.3f} | "
                     f"{data['gflops']} | {100 * data['fraction_of_matmul_peak']:.1f}% | {data['g_params']:,} | "
                     f"{data['d_params']:,} | {rss} | {rss_default} |")
    sizes = {data.get("matmul_size") for data in results["throughput"].values()}
    matmul = (f"a {sizes.pop()}² matmul" if len(sizes) == 1 and None not in sizes
              else "a matmul of the size that gave that run's peak")
    lines += ["", "Of matmul peak: median over bursts of 5 training steps of (the burst's GFLOP/s / "
              f"{matmul} timed right after it), since this machine's speed "
              "drifts between minutes; the matmul's median is in results.json (matmul_peak_beside_gflops)."]
    preset, most = _above_matmul_peak(results["throughput"])
    if preset:
        lines[-1] += (f" On this CPU the matmul is not the peak: {preset}'s convolutions ran at {100 * most:.0f}% "
                      "of it (torch's convolutions and its matmul take different kernels, and here the matmul's are "
                      "slower), so these fractions are not judged against the target.")
    lines += ["",
              "Peak RSS: a fresh process loading MNIST and training 20 steps. digitgan keeps freed memory for "
              "reuse (see Sampling); the last column is the same process with glibc's default allocator.", ""]
    return lines


def _sampling(results: dict) -> list[str]:
    lines: list[str] = []
    s = results["sampling"]
    lines += ["## Sampling (default model, 2 threads)", "",
              f"- batch 1024: **{s['images_per_second_batch_1024']:,} images/s**",
              f"- batch 1: median {s['latency_ms_batch_1']} ms, p99 {s['latency_ms_batch_1_p99']} ms", ""]
    if "flops_per_image" in s:
        lines += [f"The default generator costs {s['flops_per_image'] / 1e6:.2f} MFLOP per image: "
                  f"{s['achieved_gflops']} GFLOP/s achieved = {100 * s['fraction_of_matmul_peak']:.0f}% of the "
                  f"matmul peak; 20,000 images/s would need {s['gflops_needed_for_20k']} GFLOP/s.", "",
                  "| sampling path (each in a fresh process) | images/s at 1024 | ms at batch 1 |", "|---|---|---|"]
        for name, data in s["variants"].items():
            lines.append(f"| {name} | {data['images_per_second_batch_1024']:,} | {data['latency_ms_batch_1']} |")
        lines.append("")
    if "by_generator_size" in s:
        lines += ["Smaller generators (fast's body with fewer channels per stage; random weights, the sampling "
                  "copy, all in one process in alternating rounds, median): how far a smaller default would go. "
                  "Compare rows with each other: warm in one process, the shipped size runs faster than in the "
                  "fresh processes above.", "",
                  "| G channels (7x7 -> 14x14 -> 28x28) | MFLOP/image | images/s at 1024 |", "|---|---|---|"]
        for name, data in s["by_generator_size"].items():
            lines.append(f"| {name} | {data['mflop_per_image']} | {data['images_per_second_batch_1024']:,} |")
        lines.append("")
    return lines


def _conditioning(results: dict) -> list[str]:
    lines: list[str] = []
    lines += ["## Conditioning study (fast body, equal training time)", "",
              "| conditioning | minutes | steps | final accuracy | final FCD | CAS (10k samples, 4 epochs) |",
              "|---|---|---|---|---|---|"]
    for name, data in results["conditioning"].items():
        cas = data.get("cas_10k_4ep")
        lines.append(f"| {name} | {data['train_seconds'] / 60:.1f} | {data['steps']} | "
                     f"{data.get('final_accuracy', 0):.4f} | {data.get('final_fcd')} | "
                     f"{'—' if cas is None else f'{cas:.4f}'} |")
    return lines


def _gpu(results: dict) -> list[str]:
    lines: list[str] = []
    g = results["gpu"]
    lines += ["", "## GPU", ""]
    if not g["available"]:
        lines.append(f"Not measured by this run: {g['reason']}. "
                     "`make bench BENCH_ARGS='--only gpu'` on a CUDA machine fills this in.")
        record = results.get("gpu_record")
        if record:
            lines += ["", f"For the record until then, measured outside this bench ({record['provenance']}):", "",
                      "| what | figure |", "|---|---|"]
            lines += [f"| {name} | {value} |" for name, value in record["figures"].items()]
    else:
        lines += [f"{g['device']} (CUDA {g['cuda']}), data on the device, channels_last, bf16 autocast:", "",
                  "| preset | training images/s |", "|---|---|"]
        lines += [f"| {preset} | {rate:,} |" for preset, rate in g["throughput"].items()]
        lines += ["", "Sampling the default model: " + ", ".join(
            f"{rate:,} images/s at batch {key.rsplit('_', 1)[1]}" for key, rate in g["sampling"].items()) + "."]
    return lines


def _serve_load(results: dict) -> list[str]:
    lines: list[str] = []
    load = results["serve_load"]
    lines += ["", "## HTTP API under load (loopback, `digitgan serve`, shipped model, 2 threads)", "",
              f"{load['requests']:,} requests, {load['concurrency']} concurrent ({load['mix']}): "
              f"**{load['requests_per_second']} requests/s**, p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms, "
              f"{load['errors']} errors."]
    return lines


def _levers(results: dict) -> list[str]:
    lines: list[str] = []
    lines += ["", "## Levers tried on `fast` (kept what paid)", "",
              "Throughput, images/s through D: all variants in one process, in alternating bursts of 5 steps; "
              "medians over bursts, and the median of each round's ratio to the shipped setup:", "",
              "| variant | images/s | vs shipped | bursts |", "|---|---|---|---|"]
    for name, data in results["levers"]["throughput"].items():
        lines.append(f"| {name} | {data['images_per_second']:,} | {data['vs_first']:.3f}× | {data['bursts']} |")
    lines += ["", "Quality after 60 training seconds (light evaluation every ~10 s):", "",
              "| variant | steps | to 90% | to 95% | to 98% | accuracy at 60 s | FCD at 60 s |",
              "|---|---|---|---|---|---|---|"]
    for name, data in results["levers"]["quality_60s"].items():
        lines.append(f"| {name} | {data['steps']} | {_fmt(data['seconds_to_90'], ' s')} | "
                     f"{_fmt(data['seconds_to_95'], ' s')} | {_fmt(data['seconds_to_98'], ' s')} | "
                     f"{data['final_accuracy']} | {data['final_fcd']} |")
    return lines


def _distribution(results: dict) -> list[str]:
    data = results["distribution"]
    keys = (("accuracy", ".4f"), ("fcd", ".3f"), ("precision", ".3f"), ("recall", ".3f"), ("coverage", ".3f"),
            ("broken", ".4f"))
    header = "| accuracy | FCD | precision | recall | coverage | broken share |"

    def cells(row: dict) -> str:
        return " | ".join(_fmt(None if row.get(key) is None else format(row[key], fmt)) for key, fmt in keys)

    lines = ["", "## The whole distribution (recall, coverage, broken samples)", "",
             f"Levers on `fast`, each trained {data['lever_minutes']:g} minutes (training time), evaluated on 10,000 "
             "samples by `digitgan evaluate`; two seeds (mean shown, each in results.json) for the finalists.", "",
             "| variant | seeds | steps | " + header[2:], "|---" * 9 + "|"]
    for name, row in data.get("levers", {}).items():
        steps = "/".join(str(r["steps"]) for r in row["seeds"])
        lines.append(f"| {name} | {len(row['seeds'])} | {steps} | {cells(row)} |")
    for label, key in (("`fast` from scratch", "fast"), ("the shipped model", "shipped")):
        row = data.get(key)
        if row:
            floor = row["real_floor"]
            extra = (f", {row['minutes']:g} minutes of training" if key == "fast"
                     else f", step {row['step']}{' (' + row['recipe'] + ')' if row.get('recipe') else ''}, "
                          f"from {row.get('source', 'the bench')}")
            lines += ["", f"{label}{extra} (10,000 samples; CAS on 60,000 generated):", "",
                      "| | " + header[2:] + " CAS |", "|---" * 8 + "|",
                      f"| model | {cells(row)} | {row['cas']:.4f} |",
                      f"| real floor | {cells(floor)} | {floor['cas']:.4f} |"]
    if data.get("earlier_shipped"):
        lines += ["", "Models shipped before it (their own reports: 10,000 samples, seed 0):", "",
                  "| model | " + header[2:] + " CAS |", "|---" * 8 + "|"]
        lines += [f"| `{row.get('preset') or 'shipped'}` preset as it was then, step {row['step']:,}"
                  f"{': ' + row['recipe'] if row.get('recipe') else ''} | {cells(row)} | {row['cas']:.4f} |"
                  for row in data["earlier_shipped"]]
    exploration = data.get("exploration")
    if exploration:
        lines += ["", exploration["note"], "", "| variant | steps | accuracy | FCD | recall | coverage | broken |",
                  "|---|---|---|---|---|---|---|"]
        for row in exploration["rows"]:
            lines.append(f"| {row['variant']} | {row['steps']} | {row['acc']:.4f} | {row['fcd']:.3f} | "
                         f"{row['recall']:.3f} | {row['coverage']:.3f} | {row['broken']:.4f} |")
    return lines


def _load(results: dict) -> list[str]:
    data = results["load"]
    training = data["training"]
    lines = ["", "## Under load: training beside other busy processes", "",
             f"`fast`, {data['steps_per_measurement']} steps per measurement, each in a fresh `digitgan train` "
             f"process; medians of {data['rounds']} interleaved rounds. The competitor is another PyTorch process "
             "training a small CNN on 2 threads with libgomp's defaults. digitgan's defaults: "
             + ", ".join(f"{k}={v}" for k, v in data["defaults"].items())
             + ", and every CPU the process may use, fixed (the numerics follow the thread count, so a fixed count "
             "is what makes a seed repeat); `--adapt-threads` lets a governor drop to 1 thread while that trains "
             "faster.", "",
             "| variant | alone (images/s) | beside the competitor | of its alone speed |", "|---|---|---|---|"]
    for name, alone in training["alone"].items():
        loaded = training["beside_competitor"][name]
        lines.append(f"| {name} | {alone['images_per_second']:,} | {loaded['images_per_second']:,} | "
                     f"{100 * loaded['of_alone']:.1f}% |")
    if "default_alone_vs_fixed" in training:
        lines.append(f"\nAlone, against 2 fixed threads with GOMP_SPINCOUNT=3000 (medians of the rounds' ratios): "
                     f"the default {training['default_alone_vs_fixed']:.3f}×, `--adapt-threads` "
                     f"{training['adaptive_alone_vs_fixed']:.3f}×.")
    launches = data.get("ddp_launches")
    if launches:
        lines.append(f"\n`digitgan train --nproc 2 --steps 4` launched {launches['launches']} times in a row beside "
                     f"the competitor, {launches['limit_s']:g} s allowed each: {launches['hung']} hung, "
                     f"{launches['failed']} failed; median {launches['median_s']} s, longest {launches['max_s']} s.")
    serve = data.get("serve", {})
    if serve:
        lines += ["", "`digitgan serve` answering a bounded request load while a training runs beside it:", "",
                  "| setting | idle p50 / p99 (ms) | beside training p50 / p99 (ms) | p99 vs idle | training images/s "
                  "| errors |", "|---|---|---|---|---|---|"]
        for name, row in serve.items():
            lines.append(f"| {name} | {row['idle_p50_ms']} / {row['idle_p99_ms']} | {row['p50_ms']} / "
                         f"{row['p99_ms']} | {row['p99_vs_idle']}× | {row['training_images_per_second']:,} | "
                         f"{row['errors']} |")
    for title, key in (("DDP", "ddp"), ("Sampling at batch 1024", "sampling")):
        block = data.get(key)
        if not block:
            continue
        lines += ["", f"{title}:", "", "| variant | images/s |", "|---|---|"]
        flat = block.items() if key == "ddp" else [(f"{name} ({where.replace('_', ' ')})", row)
                                                  for where, rows in block.items() for name, row in rows.items()]
        lines += [f"| {name} | {row['images_per_second']:,} |" for name, row in flat]
    return lines


def _onnx(results: dict) -> list[str]:
    data = results["onnx"]
    lines = ["", "## Leaving Python: the shipped model through onnxruntime", "",
             f"`digitgan export-model` writes the shipped generator as ONNX; onnxruntime {data['onnxruntime']} on "
             f"the CPU ({data['threads']} threads) beside digitgan's PyTorch sampling path, in one process, "
             f"alternating rounds, medians. Largest difference from PyTorch over 1,024 images: "
             f"{data['max_abs_difference']:.1e}.", "", "| path | images/s |", "|---|---|"]
    lines += [f"| {name} | {rate:,} |" for name, rate in data["images_per_second"].items()]
    return lines


def _page(results: dict) -> list[str]:
    data = results["page"]
    browser = data["browser"]
    lines = ["", "## The offline page (`digitgan site --single-file`)", "",
             f"One file of **{data['single_file_bytes'] / 2**20:.2f} MiB** (the folder version "
             f"{data['folder_bytes'] / 2**20:.2f} MiB): onnxruntime-web's wasm "
             f"{data['wasm_gzip_bytes'] / 2**20:.2f} MiB and the model {data['model_gzip_bytes'] / 2**20:.2f} MiB"
             + (f", the hand encoder (int8 weights) {data['encoder_gzip_bytes'] / 2**20:.2f} MiB"
                if data.get("encoder_gzip_bytes") else "") + ", each gzipped, in base64. The generator's weights keep "
             f"{data['mantissa_bits']} of float32's 23 mantissa bits: largest difference from PyTorch "
             f"{data['parity_max_abs']:.1e} (float16's 10 bits: {data['parity_float16_equivalent']:.1e}, over the "
             "1e-3 limit). Style directions: moving z one unit along each raised its property in "
             + ", ".join(f"{name} {share:.0%}" for name, share in data["style_checks"].items()) + " of 200 pairs.", ""]
    if "not_measured" in browser:
        return [*lines, f"Not measured in a browser: {browser['not_measured']}."]
    lines += [f"Headless chromium, opened from file:// with the network off (median of opens): the model ready after "
              f"**{browser['seconds_to_model_ready']:.2f} s**, the first written number after "
              f"**{browser['seconds_to_first_number']:.2f} s**.", "", "![the offline page](offline-page.png)", "",
              "| digits per second | in the page (onnxruntime-web, 1 thread) |", "|---|---|"]
    lines += [f"| {batch} | {rate:,} |" for batch, rate in browser["digits_per_second"].items()]
    lines += ["", "onnxruntime in Python on the same model and machine: " + ", ".join(
        f"{name}: {rate:,}/s" for name, rate in data["onnxruntime_python"].items()) + "."]
    if "hand_ms" in browser:
        lines += ["", f"Finding the hand of a drawn digit in the page (the canvas made to look like MNIST, then the "
                      f"hand encoder; median): **{browser['hand_ms']} ms**."]
    return lines


def _per_digit(seconds: float | None) -> str:
    return "—" if seconds is None else "< 0.0001" if seconds < 0.0001 else f"{seconds}"


def _mimic(results: dict) -> list[str]:
    data = results["mimic"]
    lines = ["", "## Your own hand (`digitgan mimic`)", "",
             f"{data['digits']:,} MNIST test digits taken as drawn ones; the distance between two real digits of one "
             f"class in the reference classifier's features: {data['same_class_feature_distance']}. Style kept: "
             "Pearson r between the source's property and the mean of the nine other digits written in its hand "
             "(z-scored within class, pooled).", "",
             "| way | pixel L1 | feature distance | written digits read as asked | slant r | thickness r "
             "| s per digit |",
             "|---|---|---|---|---|---|---|"]
    for name, row in data["ways"].items():
        lines.append(f"| {name} | {row['pixel_l1']} | {row['feature_distance']} | {row['written_accuracy']:.4f} | "
                     f"{row['style_r']['slant']} | {row['style_r']['thickness']} | "
                     f"{_per_digit(row.get('seconds_per_digit'))} |")
    drawn = data["drawn"]
    lines += ["", f"The 20 drawn digits (scripted strokes on paper): pixel L1 {drawn['pixel_l1']}, written digits read "
              f"as asked {drawn['written_accuracy']:.4f}, slant r {drawn['style_r']['slant']}, thickness r "
              f"{drawn['style_r']['thickness']}." + (f" {data['encoder']}" if "encoder" in data else "")]
    if "one_digit_seconds" in data:
        lines += ["", "One digit at a time, as `digitgan mimic` and `POST /api/hand` do (median over the 20 drawn "
                      "digits, the class given): " + ", ".join(
                          f"{name} {seconds} s" for name, seconds in data["one_digit_seconds"].items()) + "."]
    lines += ["",
              "![drawn digits and the digits written in their hands](mimic.png)"]
    return lines


def _recipe(results: dict) -> list[str]:
    data = results["recipe"]
    screen_minutes, final_minutes = data["minutes"]
    keys = (("accuracy", ".4f"), ("fcd", ".3f"), ("precision", ".3f"), ("recall", ".3f"), ("coverage", ".3f"),
            ("broken", ".4f"))

    def cells(row: dict) -> str:
        return " | ".join(_fmt(None if row.get(key) is None else format(row[key], fmt)) for key, fmt in keys)

    lines = ["", "## Towards the real floor: levers on the shipped recipe", "",
             f"Each lever of the `shipped` preset trained {screen_minutes:g} minutes (training time, seed 0), then "
             "the standard evaluation (10,000 samples) on evaluation seed 1 — the graded seed 0 is kept for the final "
             "model. Rank: the mean of the lever's ranks on FCD, recall, coverage and broken share.", "",
             "| lever | steps | accuracy | FCD | precision | recall | coverage | broken share | mean rank |",
             "|---" * 9 + "|"]
    ranks = data.get("screen_rank", {})
    for name, row in data.get("screen", {}).items():
        rank = f"{ranks[name]:.2f}" if name in ranks else "—"
        lines.append(f"| {name} | {row['steps']:,} | {cells(row)} | {rank} |")
    if data.get("finals"):
        lines += ["", f"Finals: the baseline and the best three, {final_minutes:g} minutes each, seeds 0 and 1 (mean; "
                      "CAS on 60,000 generated):", "",
                  "| lever | steps | accuracy | FCD | precision | recall | coverage | broken share | CAS |",
                  "|---" * 9 + "|"]
        waiting = []
        for name, row in data["finals"].items():
            seeds = row.get("seeds", [])
            if len(seeds) < 2:  # a stopped run: the seeds measured so far, each on its own row, until both are in
                waiting.append(name)
                for one in seeds:
                    lines.append(f"| {name} (seed {one['seed']} only) | {one['steps']:,} | {cells(one)} | "
                                 f"{one['cas']:.4f} |")
                continue
            steps = "/".join(f"{r['steps']:,}" for r in seeds)
            # the means from the seeds themselves (a run stopped right after a finalist's last seed saved no means)
            mean = {key: sum(r[key] for r in seeds) / len(seeds) for key in (*(k for k, _ in keys), "cas")}
            lines.append(f"| {name} | {steps} | {cells(mean)} | {mean['cas']:.4f} |")
        ranks_left = [name for name in sorted(ranks, key=ranks.get) if name != "shipped recipe"][:3]
        waiting += [name for name in ranks_left if name not in data["finals"]]
        if waiting:
            lines += ["", "Not finished yet (the section resumes where it stopped): " + ", ".join(waiting) + "."]
    scaled = data.get("scaled", {}).get("seeds", [])
    baseline = data.get("finals", {}).get("shipped recipe", {}).get("seeds", [])
    if scaled and len(baseline) == 2:
        lines += ["", "The finals never reach the shipped schedule's decay (it starts half-way through the committed "
                      "model's budget). The shipped recipe again for the steps its finals made (their mean, "
                      f"{data['scaled']['steps']:,}), the schedule scaled to them: decay after "
                      f"{scaled[0]['lr_decay_after']:,} images, half-life {scaled[0]['lr_half_life']:,} (seeds 0 and "
                      "1, mean; CAS on 60,000 generated):", "",
                  "| run | steps | accuracy | FCD | precision | recall | coverage | broken share | CAS |",
                  "|---" * 9 + "|"]
        for name, seeds in ((f"shipped recipe, {final_minutes:g}-minute finals (constant rates)", baseline),
                            ("shipped recipe, schedule scaled to the run", scaled)):
            mean = {key: sum(r[key] for r in seeds) / len(seeds) for key in (*(k for k, _ in keys), "cas")}
            label = name if len(seeds) == 2 else f"{name} (seed {seeds[0]['seed']} only)"
            steps = "/".join(f"{r['steps']:,}" for r in seeds)
            lines.append(f"| {label} | {steps} | {cells(mean)} | {mean['cas']:.4f} |")
    return lines


def _recipe_classes(results: dict) -> list[str]:
    data = results["recipe_classes"]
    keys = (("accuracy", ".4f"), ("fcd", ".3f"), ("precision", ".3f"), ("recall", ".3f"), ("coverage", ".3f"),
            ("broken", ".4f"))

    def rows(table: dict, cas: bool) -> list[str]:
        """One line per lever with seeds: steps, the seeds' mean (FCD also per seed), [CAS,] 7s' and 9s' shares."""
        lines = []
        for name, row in table.items():
            seeds = row.get("seeds", [])
            if not seeds:
                continue
            mean = {key: statistics.mean(one[key] for one in seeds) for key in (*(k for k, _ in keys), "cas")
                    if key != "cas" or cas}
            shares = [statistics.mean(one["diversity_shares"][digit] for one in seeds) for digit in (7, 9)]
            cells = " | ".join(format(mean[key], fmt) for key, fmt in keys[:2])
            rest = " | ".join(format(mean[key], fmt) for key, fmt in keys[2:]) + (f" | {mean['cas']:.4f}" if cas
                                                                                   else "")
            per_seed = " / ".join(f"{one['fcd']:.3f}" for one in seeds)
            steps = "/".join(f"{one['steps']:,}" for one in seeds)
            label = name if len(seeds) > 1 else f"{name} (seed {seeds[0]['seed']} only)"  # a stopped run, so far
            lines.append(f"| {label} | {steps} | {cells} | {per_seed} | {rest} | {shares[0]:.0%} | {shares[1]:.0%} |")
        return lines

    header = "| lever | steps | accuracy | FCD | FCD per seed | precision | recall | coverage | broken share"
    lines = ["", "## Towards the real floor: the class loss's pull (a second screen, two seeds)", "",
             f"The committed model's report finds its 7s and 9s less varied than real ones and no class broken. Each "
             f"lever of the `shipped` preset trained {data['minutes']:g} minutes (training time) with training seeds "
             "0 and 1, then the standard evaluation (10,000 samples) on evaluation seed 1; the baseline's two seeds "
             "on the same machine show what a seed alone moves. Figures: the two seeds' mean; FCD also per seed. "
             "7s and 9s: the model's intra-class diversity as a share of real data's (mean of the seeds).", "",
             header + " | 7s | 9s |", "|---" * 11 + "|", *rows(data.get("rows", {}), cas=False)]
    finals = data.get("finals", {})
    final_rows = rows(finals.get("rows", {}), cas=True)
    if final_rows:
        lines += ["", f"Finals: the baseline and rows that tied it at {data['minutes']:g} minutes, "
                  f"{finals['minutes']:g} minutes each, the same two training seeds and evaluation (mean of the "
                  "seeds; CAS on 60,000 generated); a final measured in a later sitting follows the baseline "
                  "trained again in that sitting:", "", header + " | CAS | 7s | 9s |",
                  "|---" * 12 + "|", *final_rows]
    return lines


def _recipe_long(results: dict) -> list[str]:
    data = results["recipe_long"]
    keys = (("accuracy", ".4f"), ("fcd", ".3f"), ("precision", ".3f"), ("recall", ".3f"), ("coverage", ".3f"),
            ("broken", ".4f"), ("cas", ".4f"))

    def cells(row: dict) -> str:
        return " | ".join(_fmt(None if row.get(key) is None else format(row[key], fmt)) for key, fmt in keys)

    lines = ["", "## The long run: levers at the shipped model's full budget", "",
             f"The shipped model as committed when these runs began (row \"shipped recipe\": {data['base_steps']:,} "
             "steps of `shipped` before one-sided label smoothing joined the recipe, seed 0) beside levers of its "
             "recipe trained from scratch for the same training time: a lever's steps are the baseline's scaled by "
             "the steps both made in the equal-time screens above (a lever of the schedule alone makes the "
             "baseline's steps), and the learning-rate schedule scales with them. Equal time is set by those step "
             "ratios, so a row's training minutes are those of the machines it trained on. One row is the shipped "
             "recipe itself with training seed 1: how far two seeds of one recipe lie apart at this budget, the "
             "spread every other row is judged against. The wide G's budget row is not at equal time: it spends the "
             "issue's whole two-hour budget on G twice as wide again with label smoothing (its steps: that G's "
             "equal-time share of the budget row's); averaged over 3 checkpoints as the recipe ships, it tied label "
             "smoothing's two seeds at the committed budget on FCD with lower recall and coverage, in about 1.8 "
             "times the training time: not taken. A row from the class screen's finals takes its steps from those "
             "finals, against the baseline trained again in their sitting. Evaluation seed 1, 10,000 samples, CAS on "
             "60,000 generated.",
             "",
             "| recipe | steps | training minutes | accuracy | FCD | precision | recall | coverage | broken share "
             "| CAS |",
             "|---" * 10 + "|"]
    for name, row in data.get("rows", {}).items():
        minutes = "—" if row.get("train_seconds") is None else f"{row['train_seconds'] / 60:.1f}"
        if row.get("machines"):
            minutes += " on " + " and ".join(row["machines"])
        lines.append(f"| {name} | {row['steps']:,} | {minutes} | {cells(row)} |")
    def table(intro: str, first_columns: tuple[str, ...]) -> list[str]:
        """A paragraph and the head of a table whose columns are `first_columns` then the report's."""
        columns = (*first_columns, "accuracy", "FCD", "precision", "recall", "coverage", "broken share", "CAS")
        return ["", intro, "", "| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]

    if data.get("end_path"):
        lines += table("The end path, no training: that model's BatchNorm statistics recomputed from its own "
                       "weights over more batches of fresh noise than the 100 it was exported with (standing "
                       "statistics; same evaluation):", ("standing statistics",))
        baseline = data.get("rows", {}).get("shipped recipe")
        if baseline:
            lines.append(f"| 100 batches (the model as committed) | {cells(baseline)} |")
        lines += [f"| {int(batches):,} batches | {cells(row)} |" for batches, row in data["end_path"].items()]
    if data.get("noise_scale"):
        lines += table("The noise's scale at sampling, no training: the model shipped now (label smoothing, the EMA "
                       "averaged over its last 3 checkpoints) drawing G(s·z, label) for z ~ N(0, I), a temperature "
                       "(s = 1: the model as shipped; same evaluation). Recall and CAS rise with s, but FCD is lowest "
                       "at s = 1, and coverage falls and the broken share rises with s: recall bought by the noise's "
                       "scale costs more than it gains.", ("noise scale s",))
        lines += [f"| {float(scale):g}{' (as shipped)' if float(scale) == 1 else ''} | {cells(row)} |"
                  for scale, row in data["noise_scale"].items()]
    if data.get("averaged"):
        lines += table("The EMA over a longer horizon, no training: a long run's generator replaced by the mean of its "
                       "EMA weights at its last checkpoints (one every 10,000 steps), its BatchNorm statistics then "
                       "recomputed as the run exported its own (same evaluation). The mean of 3 lowered FCD on "
                       "the first four runs at equal recall: the shipped recipe exports it (`average_checkpoints = "
                       "3`); on label smoothing with beta2 0.99, averaged after that choice, it tied (FCD) and lost "
                       "recall:",
                       ("run", "EMA weights"))
        for name, counts in data["averaged"].items():
            own = data.get("rows", {}).get(name)
            if own:
                lines.append(f"| {name} | step {own['steps']:,} (the run's own) | {cells(own)} |")
            for count, row in counts.items():
                steps = row["checkpoint_steps"]
                lines.append(f"| {name} | mean of {int(count)} checkpoints, steps {steps[0]:,}-{steps[-1]:,} | "
                             f"{cells(row)} |")
    waiting = [f"{name} ({plan['steps']:,} steps)" for name, plan in data.get("planned", {}).items()
               if name not in data.get("rows", {})]
    if waiting:
        lines += ["", "Training (the run resumes where it stopped: `make bench BENCH_ARGS='--only recipe_long'`): "
                      + ", ".join(waiting) + "."]
    return lines


def _fast_budget(results: dict) -> list[str]:
    data = results["fast_budget"]
    keys = (("accuracy", ".4f"), ("fcd", ".3f"), ("precision", ".3f"), ("recall", ".3f"), ("coverage", ".3f"),
            ("broken", ".4f"), ("cas", ".4f"))
    target = data.get("target")
    lines = ["", f"## `fast` in {data['minutes']:g} minutes: levers against the model shipped before", "",
             f"`fast` and levers of it, each trained {data['minutes']:g} minutes (training time) from scratch with "
             "training seeds 0 and 1, then the standard evaluation (10,000 samples) and CAS on 60,000 generated, on "
             "evaluation seed 1. Figures: the two seeds' mean; FCD also per seed. Target: the model shipped when the "
             "issue was filed (90,000 steps of the shipped recipe before label smoothing), on the same evaluation "
             "(its row in \"The long run\")" + ("." if target else ": not measured yet (`--only recipe_long`)."), "",
             "| lever | steps | training min | accuracy | FCD | FCD per seed | precision | recall | coverage "
             "| broken share | CAS | short of the target in |", "|---" * 12 + "|"]
    if target:
        lines.append("| target: the model shipped before | — | — | "
                     + " | ".join(format(target[key], fmt) for key, fmt in keys[:2]) + " | — | "
                     + " | ".join(format(target[key], fmt) for key, fmt in keys[2:]) + " | |")
    for name, row in data.get("rows", {}).items():
        seeds = row.get("seeds", [])
        if not seeds:
            continue
        mean = {key: statistics.mean(one[key] for one in seeds) for key, _ in keys}
        label = name if len(seeds) > 1 else f"{name} (seed {seeds[0]['seed']} only)"  # a stopped run, so far
        short = ("—" if not target else ", ".join(_short_of(mean, target)) or "nothing: target met")
        steps = "/".join(f"{one['steps']:,}" for one in seeds)
        minutes = "/".join(f"{one['train_seconds'] / 60:.1f}" for one in seeds)
        per_seed = " / ".join(f"{one['fcd']:.3f}" for one in seeds)
        lines.append(f"| {label} | {steps} | {minutes} | " + " | ".join(format(mean[key], fmt) for key, fmt in keys[:2])
                     + f" | {per_seed} | "
                     + " | ".join(format(mean[key], fmt) for key, fmt in keys[2:]) + f" | {short} |")
    by_steps = [(name, row) for name, row in data.get("rows", {}).items()
                if row.get("source") in data["rows"] and len(row.get("seeds", [])) > 1]
    if by_steps:
        lines += ["", "Trained by steps, each to the steps its named row made with the same seed: what differs from "
                      "that row is the numerics, not the time. Their FCD against it, per seed:", ""]
        for name, row in by_steps:
            source = {one["seed"]: one["fcd"] for one in data["rows"][row["source"]]["seeds"]}
            pairs = [(one["fcd"], source[one["seed"]]) for one in row["seeds"] if one["seed"] in source]
            change = statistics.mean(fcd - theirs for fcd, theirs in pairs)
            lines.append(f"- {name}: " + " / ".join(f"{fcd:.3f} against {theirs:.3f}" for fcd, theirs in pairs)
                         + f" ({change:+.3f} on average)")
    return lines


def _gpu_recipe(results: dict) -> list[str]:
    data = results["gpu_recipe"]
    target = "FCD ≤ 0.69, recall ≥ 0.80, coverage ≥ 0.86 (today's shipped model)"
    lines = ["", "## On a GPU: the shipped model's quality in a minute", ""]
    if not data["available"]:
        return [*lines, f"Not measured: {data['reason']}. Target: {target} in at most 60 s of training on one "
                        f"H100/H200-class GPU, and the shipped recipe's own report in at most 10 minutes. On a CUDA "
                        f"machine: `{data['command']}` (add `--gpu-recipe-long-minutes 10` for the second)."]
    keys = (("accuracy", ".4f"), ("fcd", ".3f"), ("recall", ".3f"), ("coverage", ".3f"), ("broken", ".4f"))

    def cells(row: dict) -> str:
        return " | ".join(_fmt(None if row.get(key) is None else format(row[key], fmt)) for key, fmt in keys)

    lines += [f"On {data['device']}: the `shipped` preset at larger batches (learning rates x sqrt(batch/64), the "
              f"EMA horizon in images kept), each {data['seconds']:g} s of training, evaluated on seed 1 (10,000 "
              f"samples). Target: {target}.", "",
              "| candidate | steps | images seen | accuracy | FCD | recall | coverage | broken share | mean rank |",
              "|---" * 9 + "|"]
    for name, row in data["candidates"].items():
        lines.append(f"| {name} | {row['steps']:,} | {row['images_seen']:,} | {cells(row)} | "
                     f"{data['ranks'][name]:.2f} |")
    chosen = data.get("chosen")
    if chosen:
        lines += ["", f"Chosen: **{chosen['name']}**, on the graded seed 0: FCD {chosen['fcd']:.3f}, recall "
                      f"{chosen['recall']:.3f}, coverage {chosen['coverage']:.3f} — target "
                      f"{'met' if chosen['meets_target'] else 'not met'}."]
    long = data.get("long")
    if long:
        graded = long["seed 0"]
        lines += ["", f"The same for {long['minutes']:g} minutes ({long['images_seen']:,} images), seed 0: FCD "
                      f"{graded['fcd']:.3f}, recall {graded['recall']:.3f}, coverage {graded['coverage']:.3f}, "
                      f"conditional accuracy {graded['accuracy']:.4f}."]
    return lines


# (results.json key, renderer, the `make bench` sections whose measurements it shows)
SECTIONS = [("quality", _quality, ("quality",)), ("throughput", _throughput, ("throughput", "memory")),
            ("sampling", _sampling, ("sampling",)), ("conditioning", _conditioning, ("conditioning",)),
            ("gpu", _gpu, ("gpu",)), ("serve_load", _serve_load, ("serve",)),
            ("levers", _levers, ("levers", "levers-quality")),
            ("distribution", _distribution, ("distribution", "shipped")),
            ("load", _load, ("load",)), ("onnx", _onnx, ("onnx",)), ("page", _page, ("page",)),
            ("mimic", _mimic, ("mimic",)), ("recipe", _recipe, ("recipe",)),
            ("recipe_classes", _recipe_classes, ("recipe_classes",)),
            ("recipe_long", _recipe_long, ("recipe_long",)), ("fast_budget", _fast_budget, ("fast_budget",)),
            ("gpu_recipe", _gpu_recipe, ("gpu_recipe",))]


def provenance_lines(results: dict, sections: tuple[str, ...], stale: dict[str, list[str] | None]) -> list[str]:
    """One line per measured section: its commit and date, the paths it measures, and whether it is stale."""
    lines = []
    for name in sections:
        entry = results.get("provenance", {}).get(name)
        if not entry:
            lines.append(f"*`{name}`: where and when it was measured is not recorded.*")
            continue
        changed = stale.get(name)
        mark = ("**stale**: " + f"{len(changed)} measured file(s) changed since: " + ", ".join(
            f"`{path}`" for path in changed[:8]) + (", …" if len(changed) > 8 else "")) if changed else \
            "fresh: no measured file changed since" if changed == [] else "staleness unknown (commit not in this clone)"
        machine = entry.get("machine")
        where = (f" on {machine['cpu']} ({machine['threads']} threads, matmul peak {machine['matmul_peak_gflops']} "
                 "GFLOP/s)" if machine else " (machine not recorded)")
        lines.append(f"*`{name}`: measured at `{(entry.get('commit') or 'unknown')[:10]}` on {entry.get('date')}"
                     f"{where}; measures {', '.join(f'`{path}`' for path in entry.get('sources', []))}; {mark}.*")
    return lines


def with_provenance(section: list[str], provenance: list[str]) -> list[str]:
    """The section's lines with its provenance right under its heading."""
    heading = next(i for i, line in enumerate(section) if line.startswith("## "))
    return [*section[:heading + 1], "", *provenance, *section[heading + 1:]]


def render(results: dict, stale: dict[str, list[str] | None] | None = None) -> str:
    """RESULTS.md from results.json; `stale`: benchmarks.provenance.staleness of results["provenance"] (computed
    here when not given)."""
    if stale is None:
        from benchmarks.provenance import staleness

        stale = staleness(results.get("provenance", {}))
    machine = results["machine"]
    lines = ["# digitgan benchmark results", "",
             f"The latest run's machine: {machine['cpu']}, {machine['threads']} threads of {machine['cores']} "
             f"cores, torch {machine['torch']}, Python {machine['python']}, {machine['date']}. "
             "Float32 matmul peak (best of 512², 1024², 2048²; median of 7): "
             f"**{machine['matmul_peak_gflops']} GFLOP/s**. Sections may come from different runs and machines: "
             "each names its own below, and ratios are only compared within a section.", "",
             "Rerun with `make bench` (about three hours on 2 cores: the sections up to the HTTP API took 67 minutes "
             "on 2026-12-01, \"Under load\" and \"The whole distribution\" about as long again each), or some "
             "sections with `make bench BENCH_ARGS=\"--only load distribution\"`; `--smoke` checks the code. Each "
             "section says where and when it was measured, and whether what it measures has changed since.", ""]
    lines += [f"Note: {note}" for note in results.get("notes", [])] + ([""] if results.get("notes") else [])
    lines += targets(results)
    for key, section, measured in SECTIONS:
        if key in results:
            lines += with_provenance(section(results), provenance_lines(results, measured, stale))
    return "\n".join(lines)



def main() -> int:
    """Rewrite RESULTS.md from results.json, its staleness marks as of the working tree (nothing is measured)."""
    import json
    from pathlib import Path

    from digitgan.files import write_text

    here = Path(__file__).resolve().parent
    write_text(here / "RESULTS.md", render(json.loads((here / "results.json").read_text())))
    print(f"wrote {here / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
