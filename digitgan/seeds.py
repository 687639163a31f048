"""Every random stream derived from a run's or an evaluation's seed, in one table.

A stream's seed is `seed + OFFSET` (and, for a DDP rank's training streams, `+ RANK_STRIDE * rank + step`). Keeping
them here lets a reader see that no two streams share a seed by accident; changing a value changes every result
that depends on that stream (checkpoints resume with the streams they saved, so old runs are not affected).
"""

# training (digitgan/training/)
GLOBAL = 0                 # torch's, numpy's and Python's global streams: initial weights, dropout masks
DATA_ORDER = 1             # the epoch permutations
TRAINING_NOISE = 2         # z and the fake labels
STANDING_STATISTICS = 7    # the batches that set the exported sampler's BatchNorm statistics
HELD_OUT = 99              # held-out losses' fresh fakes
RANK_STRIDE = 1000         # a DDP rank's training streams: rank r starts at seed + offset + r * RANK_STRIDE + step

# drawing (digitgan/drawing/)
EXPLAIN_CONCAT = 1         # explain: the noise of the one-hot concat comparison codes

# evaluation (digitgan/evaluate/)
CAS_SAMPLES = 7            # the generated training set of the CAS classifier
BROKEN_REFERENCE = 1       # which real training images the broken share is judged against


def rank_seed(seed: int, offset: int, rank: int, step: int) -> int:
    """The seed of a DDP rank's training stream when a run starts or resumes at `step`."""
    return seed + offset + RANK_STRIDE * rank + step
