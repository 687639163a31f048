"""Evaluation with our own reference classifiers (shipped weights, no download): accuracy and feature metrics."""
