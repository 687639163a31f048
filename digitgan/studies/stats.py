"""Small statistics the studies report, without a statistics package: mean, sample standard deviation, and Welch's
two-sample t-test with its two-sided p-value (Student's t distribution through the regularised incomplete beta
function, evaluated by its continued fraction)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """(mean, sample standard deviation; 0 for a single value)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz), converging for x < (a+1)/(a+b+2)."""
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return result


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b), x in [0, 1]."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def welch_t_test(first: Sequence[float], second: Sequence[float]) -> tuple[float, float, float]:
    """(t, degrees of freedom, two-sided p) of Welch's test that the two samples' means differ; t > 0 when the first
    mean is larger. Equal samples without spread give (0, nan, 1)."""
    (mean_a, std_a), (mean_b, std_b) = mean_std(first), mean_std(second)
    var_a, var_b = std_a ** 2 / len(first), std_b ** 2 / len(second)
    if var_a + var_b == 0:
        return (0.0, math.nan, 1.0) if mean_a == mean_b else (math.copysign(math.inf, mean_a - mean_b), math.nan, 0.0)
    t = (mean_a - mean_b) / math.sqrt(var_a + var_b)
    freedom = (var_a + var_b) ** 2 / ((var_a ** 2 / (len(first) - 1) if len(first) > 1 else 0.0)
                                      + (var_b ** 2 / (len(second) - 1) if len(second) > 1 else 0.0))
    p = incomplete_beta(freedom / 2, 0.5, freedom / (freedom + t * t))
    return t, freedom, p
