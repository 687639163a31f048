"""Drawing from a model: samples and grids (sampling.py), numbers, morphs and clocks (numbers.py), what the
generator has learnt (explain.py), and a classifier driven backwards instead of a generator (dream.py)."""
