"""The studies' statistics against closed forms: the incomplete beta function where it has one, and Student's t
for 1 and 2 degrees of freedom (whose two-sided p-values are elementary)."""

import math

import pytest

from digitgan.studies.stats import incomplete_beta, mean_std, welch_t_test


@pytest.mark.parametrize("x", [0.0, 0.05, 0.3, 0.5, 0.77, 0.99, 1.0])
def test_incomplete_beta_matches_its_closed_forms(x):
    assert incomplete_beta(1, 1, x) == pytest.approx(x, abs=1e-12)
    assert incomplete_beta(3.5, 1, x) == pytest.approx(x ** 3.5, abs=1e-12)
    assert incomplete_beta(1, 2.5, x) == pytest.approx(1 - (1 - x) ** 2.5, abs=1e-12)
    assert incomplete_beta(2.2, 4.7, x) + incomplete_beta(4.7, 2.2, 1 - x) == pytest.approx(1, abs=1e-12)


@pytest.mark.parametrize("t", [0.1, 1.0, 2.5, 12.0])
def test_student_t_p_values(t):
    # one degree of freedom (Cauchy): p = 1 - 2 atan(t) / pi; two: p = 1 - t / sqrt(2 + t^2)
    assert incomplete_beta(0.5, 0.5, 1 / (1 + t * t)) == pytest.approx(1 - 2 * math.atan(t) / math.pi, abs=1e-12)
    assert incomplete_beta(1.0, 0.5, 2 / (2 + t * t)) == pytest.approx(1 - t / math.sqrt(2 + t * t), abs=1e-12)


def test_welch_t_test():
    assert mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0) and mean_std([4.0]) == (4.0, 0.0)
    t, freedom, p = welch_t_test([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert t == 0 and p == pytest.approx(1.0)
    # equal sizes and spreads: t = difference / sqrt(2 s^2 / n), freedom = 2 (n - 1)
    t, freedom, p = welch_t_test([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert t == pytest.approx(1 / math.sqrt(2 / 3)) and freedom == pytest.approx(4.0)
    assert 0.25 < p < 0.35  # t = 1.22 on 4 degrees of freedom
    far = welch_t_test([10.0, 10.1, 9.9, 10.05], [1.0, 1.1, 0.9, 1.05])
    assert far[0] > 50 and far[2] < 1e-6
    assert welch_t_test([1.0, 1.0], [2.0, 2.0])[2] == 0.0  # no spread at all, different means
