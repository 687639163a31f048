"""Towards the real floor, the narrow classes (issue: the shipped model within 1.3x of real data's Frechet distance):
a second screen of the shipped recipe, aimed at what its report says is missing. The committed model draws 7s and 9s
with less variety than real ones (intra-class diversity 12% and 7% under real data's) and no class broken; an
ACGAN-style class loss pulls every generated sample to where its class is easiest to tell, which narrows exactly the
classes that border others (7 and 1, 9 and 4). The levers here loosen that pull (down to none: projection alone), or
give G more noise to draw a class's variety from (z_dim 128 against 64); the last row is the one D lever the first
screen lacked, spectral normalisation (it bounds D's Lipschitz constant: the usual brake on a D that wins too easily).
The last row changes how the class reaches G: besides the label concatenated to the noise, every BatchNorm of G takes
a per-class scale and shift (conditional BatchNorm, as BigGAN's G): the one lever that ever moved recall much was G's
conditioning (the first screen: Hadamard to concatenation). And one D of another family: SNGAN's, residual blocks
with spectral normalisation at today's widths (32 -> 64 channels; spectral normalisation alone on today's D lost
recall above). Then conditional BatchNorm in its pure form (BigGAN's): no label in G's input code; and SNGAN's D at
half the width, whose step costs less. Then two rows aimed at recall from D's side: ProGAN's minibatch standard
deviation (D also sees how varied each group of 4 samples is, so a G that draws near-copies is told apart from real
data, whose groups vary), and SNGAN's residual D at half the width without spectral normalisation (with it, this D
family lost recall, as spectral normalisation alone did on today's D). Then three old brakes on a D that learns too
fast or too sharply, none in an earlier screen: Adam's second moment over 100 steps rather than 1,000 (beta2 0.99, as
StyleGAN's), so a step's size follows D's changing gradients sooner; one-sided label smoothing (real images' target
0.9: a D less sure of real ones gives G gradients that do not vanish near the data); dropout in D (a noisier D is a
softer critic: the original GAN's MNIST D used it). Then MSGAN's mode seeking (Mao et al. 2019), a lever on G's side
aimed at recall: G's batch comes in pairs of one class, and G pays weight / (the pairs' mean image distance over
their mean noise distance), so two codes may not draw one digit; at weights 1 (MSGAN's), 0.2, 0.05 and 0.02, beside
the recipe as shipped by then (one-sided label smoothing in it) trained again in their sitting. Then top-k training
(Sinha et al. 2020), a lever on G's side that costs no steps: G's adversarial loss counts only the fakes D finds most
real, so G is not pulled by the samples D rejects outright (its worst, which a D that has seen them can only score
low); the class loss still counts every sample. Once at half the batch from the first step, once starting from all
of it and halving every 2 epochs down to half (the paper anneals: early on, D's scores say little). Then two other
losses in place of the non-saturating one: relativistic pairing (RpGAN, Jolicoeur-Martineau 2019; the loss of R3GAN,
Huang et al. 2024), where D learns that each real image is more real than the fake paired with it and G the reverse,
whose landscape has no mode-dropping local minima as the separable losses' has (the recall lever sought), with label
smoothing setting the comparison's target at 0.9 as the recipe's real target; once alone and once with a light lazy
R1 (R3GAN pairs the loss with R1 for convergence); and the hinge loss, whose margin stands where label smoothing did
(a one-seed gain on `fast` in the distribution section awaits two seeds). Then, in the same sitting, three changes of
shape that cost few steps: D one stage deeper (a third convolution down to 4x4, 128 channels: the first screen only
widened D, which slowed it and, in the long run, let it overpower G), G with a stage at full size (a 3x3 convolution at
28x28 after the last upsampling, where strokes get their edges), and half the batch at the learning rates scaled as
the first screen's batch 128 scaled them (more, noisier steps in the same time). The deeper D won precision, recall
and coverage but lost FCD, in 3 and in 15 minutes, with every class less varied than the baseline's and the classes
further apart than real ones (a covariance mismatch): its class head pulls harder. So the next two rows loosen the
class loss under the deeper D, at weight 0.3 and at none (projection alone). Weight 0.3 brought the deeper D's FCD to
within 0.02 of the baseline's at 3 minutes while keeping its precision, recall and coverage, so it goes to the finals
beside the baseline trained again (3 minutes and 15) in the finals' own sitting; at 15 minutes it lost FCD by more
than the deeper D at weight 1 did, its 7s narrower still: the narrowing is not the class loss's. Then a class loss that
should not
narrow at all: an auxiliary discriminative classifier (ADC-GAN, Hou et al. 2022), one classifier over 20 classes,
"real k" and "generated k", so it learns to tell G's 7s from real 7s rather than 7s from 1s; G, drawing a 7, pulls
towards "real 7" and away from "generated 7", whose optimum is G's class distribution equal to real data's (ACGAN's
term is optimal where every sample is as easy to classify as can be; TAC's twin heads reach ADC's aim with two
softmaxes, which lost on the shipped D). On the shipped D and on the deeper one, at the class-loss weight 1. On the
shipped D it gave the best recall of any screen row at a lower FCD than the baseline's, but drew the wrong class more
often (conditional accuracy 0.993 against 0.998) and more broken digits: G's term weighs "real k" against
"generated k" only, and says little where a sample looks like another class. On the deeper D it gave the lowest FCD
of the sitting with precision, recall and coverage all well above the baseline's and the class held (0.996). So
both are screened again at weight 2 (the class held harder), and the deeper one at 0.5, in the same sitting. The
deeper D with ADC at weights 0.5 and 1 gave the two lowest FCDs of these screens with the class held, so both go to the
finals beside the baseline trained again in their sitting. At 15 minutes weight 1 beat the baseline's FCD (0.890
against 0.950) in 0.84 of its steps, and weight 0.5 tied it (0.950), both with precision, recall, coverage and CAS
above the baseline's, the class held at 0.997 and the broken share at or under real data's: the first deeper D whose
gain held at 15 minutes, so weight 1 goes to the long run (`recipe_long`).

Every row trains --recipe-minutes (3 by default) from scratch with training seeds 0 and 1, then the standard
evaluation (10,000 samples) on evaluation seed 1 (the graded seed 0 is kept for the final model): the first screen's
one seed cannot tell a lever from the noise of a 3-minute run, which two seeds of the baseline measure here, on the
same machine as the levers. Each row also keeps every class's intra-class diversity as a share of real data's.

Finals: the baseline and the rows that tied it at 3 minutes train --recipe-final-minutes (15) with the same two
seeds, evaluated the same way plus CAS on 60,000 generated: whether a cost a lever showed at 3 minutes fades with
training, or its gain holds. A final added in a later sitting follows the baseline trained again in that sitting.

Every row is saved as soon as it is measured; the section resumes a stopped run where it stopped (rows already in
results.json with the same minutes are kept)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from benchmarks.common import Context
from benchmarks.sections.recipe import KEYS, measured

BASELINE = "shipped recipe"
LEVERS: dict[str, dict[str, Any]] = {
    BASELINE: {},
    "twin auxiliary classifiers (TAC-GAN)": {"d_cond": "projection-tac"},
    "class-loss weight 0.3": {"aux_weight": 0.3},
    "no class loss (projection-only D)": {"d_cond": "projection"},
    "noise of 128 dimensions (z_dim 128)": {"z_dim": 128},
    # the baseline again, in the same sitting as the two rows above: a machine's speed drifts between sittings, and at
    # equal time a faster sitting gives every row more steps
    "shipped recipe, again in the sitting of the two above": {},
    "D with spectral normalisation": {"spectral_norm": True},
    "shipped recipe, again in the sitting of the row below": {},
    "the class in every stage of G (conditional BatchNorm)": {"g_norm": "class-batch"},
    "SNGAN's residual D (spectral normalisation, 32 -> 64 channels)": {
        "d_body": "resnet", "d_stages": [[32, 3, 2], [64, 3, 2]], "spectral_norm": True},
    "the class through G's BatchNorms alone (conditional BatchNorm, no label in the code)": {
        "g_cond": "none", "g_norm": "class-batch"},
    "SNGAN's residual D at half the width (16 -> 32 channels)": {
        "d_body": "resnet", "d_stages": [[16, 3, 2], [32, 3, 2]], "spectral_norm": True},
    "shipped recipe, again in the sitting of the two rows below": {},
    "D sees each group of 4 samples' spread (minibatch standard deviation)": {"d_mbstd": 4},
    "residual D at half the width, no spectral normalisation": {
        "d_body": "resnet", "d_stages": [[16, 3, 2], [32, 3, 2]]},
    "shipped recipe, again in the sitting of the three rows below": {},
    "Adam's second-moment horizon 100 steps (beta2 0.99)": {"beta2": 0.99},
    "one-sided label smoothing (real target 0.9)": {"label_smoothing": 0.1},
    "dropout 0.3 in D": {"d_dropout": 0.3},
    # `shipped` itself (label smoothing joined it after the rows above): the two rows below change it
    "shipped recipe as shipped now (label smoothing), again in the sitting of the rows below": {},
    "mode seeking (MSGAN), weight 1": {"mode_seeking": 1.0},
    "mode seeking (MSGAN), weight 0.2": {"mode_seeking": 0.2},
    "mode seeking (MSGAN), weight 0.05": {"mode_seeking": 0.05},
    "mode seeking (MSGAN), weight 0.02": {"mode_seeking": 0.02},
    "shipped recipe as shipped now, again in the sitting of the top-k rows below": {},
    "top-k training: G's adversarial loss on the half of its batch D finds most real, from the first step": {
        "top_k_min": 0.5},
    "top-k training: that share from all of G's batch, halving every 120,000 images (2 epochs) down to half": {
        "top_k_min": 0.5, "top_k_half_life": 120_000},
    "shipped recipe as shipped now, again in the sitting of the loss and shape rows below": {},
    "relativistic pairing (RpGAN): D compares each real logit with a fake one, G the reverse (target 0.9)": {
        "loss": "rpgan"},
    "RpGAN with lazy R1 (gamma 0.1, every 16 steps)": {"loss": "rpgan", "r1_gamma": 0.1, "r1_every": 16},
    "hinge loss (its margin in place of label smoothing)": {"loss": "hinge"},
    "D one stage deeper (32 -> 64 -> 128 channels, down to 4x4)": {"d_stages": [[32, 4, 2], [64, 4, 2], [128, 3, 2]]},
    "G with a stage at full size (128 -> 64 -> 32 -> 32 channels, the last at 28x28)": {
        "g_stages": [[64, 4, 2], [32, 4, 2], [32, 3, 1]]},
    "batch 32, learning rates x0.7": {"batch_size": 32, "lr_g": 7e-4, "lr_d": 7e-4},
    "D one stage deeper, class-loss weight 0.3": {"d_stages": [[32, 4, 2], [64, 4, 2], [128, 3, 2]], "aux_weight": 0.3},
    "D one stage deeper, no class loss (projection alone)": {
        "d_stages": [[32, 4, 2], [64, 4, 2], [128, 3, 2]], "d_cond": "projection"},
    "shipped recipe as shipped now, again in the sitting of the deeper D's class-loss final below": {},
    "shipped recipe as shipped now, again in the sitting of the discriminative-classifier rows below": {},
    "an auxiliary discriminative classifier (ADC-GAN: real k against generated k)": {"d_cond": "projection-adc"},
    "D one stage deeper with an auxiliary discriminative classifier": {
        "d_stages": [[32, 4, 2], [64, 4, 2], [128, 3, 2]], "d_cond": "projection-adc"},
    "an auxiliary discriminative classifier, class-loss weight 2": {"d_cond": "projection-adc", "aux_weight": 2.0},
    "D one stage deeper with an auxiliary discriminative classifier, class-loss weight 2": {
        "d_stages": [[32, 4, 2], [64, 4, 2], [128, 3, 2]], "d_cond": "projection-adc", "aux_weight": 2.0},
    "D one stage deeper with an auxiliary discriminative classifier, class-loss weight 0.5": {
        "d_stages": [[32, 4, 2], [64, 4, 2], [128, 3, 2]], "d_cond": "projection-adc", "aux_weight": 0.5},
    "shipped recipe as shipped now, again in the sitting of the discriminative-classifier finals below": {},
}
SEEDS = (0, 1)
# each final after the first two follows the baseline again, trained in its own sitting
FINALS = (BASELINE, "the class in every stage of G (conditional BatchNorm)",
          "shipped recipe, again in the sitting of the row below",
          "D sees each group of 4 samples' spread (minibatch standard deviation)",
          "shipped recipe, again in the sitting of the two rows below",
          "Adam's second-moment horizon 100 steps (beta2 0.99)", "one-sided label smoothing (real target 0.9)",
          "shipped recipe as shipped now (label smoothing), again in the sitting of the rows below",
          "mode seeking (MSGAN), weight 0.05",
          "shipped recipe as shipped now, again in the sitting of the top-k rows below",
          "top-k training: that share from all of G's batch, halving every 120,000 images (2 epochs) down to half",
          "shipped recipe as shipped now, again in the sitting of the loss and shape rows below",
          "D one stage deeper (32 -> 64 -> 128 channels, down to 4x4)",
          "shipped recipe as shipped now, again in the sitting of the deeper D's class-loss final below",
          "D one stage deeper, class-loss weight 0.3",
          "shipped recipe as shipped now, again in the sitting of the discriminative-classifier finals below",
          "D one stage deeper with an auxiliary discriminative classifier, class-loss weight 0.5",
          "D one stage deeper with an auxiliary discriminative classifier")


def diversity_shares(report: dict[str, Any]) -> list[float]:
    """Each class's intra-class diversity of the model as a share of real data's (1.0: as varied as real digits)."""
    return [model / real for model, real in zip(report["model"]["intra_class_diversity"],
                                                report["real_floor"]["intra_class_diversity"], strict=True)]


def diversity_of(run: Path) -> dict[str, Any]:
    """The finished run's diversity shares, read from its evaluation report."""
    return {"diversity_shares": diversity_shares(json.loads((run / "eval" / "report.json").read_text()))}


def run(context: Context) -> None:
    minutes = 0.1 if context.smoke else context.args.recipe_minutes
    results = context.results.setdefault("recipe_classes", {})
    if results.get("minutes") != minutes:
        results.clear()
        results["minutes"] = minutes
    rows = results.setdefault("rows", {})
    for name, changes in LEVERS.items():
        seeds = rows.setdefault(name, {"seeds": []})["seeds"]
        for seed in SEEDS:
            if not any(row["seed"] == seed for row in seeds):
                runs = context.args.runs / "recipe_classes"
                seeds.append(measured(name, changes, minutes, seed, context, False, runs, extra=diversity_of,
                                      section="recipe_classes"))
                context.save()
        for key in KEYS:
            rows[name][key] = statistics.mean(row[key] for row in seeds)
        context.save()
    final_minutes = 0.2 if context.smoke else context.args.recipe_final_minutes
    finals = results.setdefault("finals", {})
    if finals.get("minutes") != final_minutes:
        finals.clear()
        finals["minutes"] = final_minutes
    final_rows = finals.setdefault("rows", {})
    for name in FINALS:
        seeds = final_rows.setdefault(name, {"seeds": []})["seeds"]
        for seed in SEEDS:
            if not any(row["seed"] == seed for row in seeds):
                runs = context.args.runs / "recipe_classes" / "finals"
                seeds.append(measured(name, LEVERS[name], final_minutes, seed, context, True, runs,
                                      extra=diversity_of, section="recipe_classes"))
                context.save()
        for key in (*KEYS, "cas"):
            final_rows[name][key] = statistics.mean(row[key] for row in seeds)
        context.save()
