"""Paired t-test (against scipy), randomisation test, Bonferroni."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from xcs.evaluation.significance import bonferroni, paired_randomization_test, paired_t_test, seed_level_test


def test_t_test_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.random(200)
    b = a - 0.02 + 0.1 * rng.standard_normal(200)
    ours = paired_t_test(a, b)
    ref = stats.ttest_rel(a, b)
    assert ours.statistic == pytest.approx(ref.statistic)
    assert ours.p_value == pytest.approx(ref.pvalue)
    assert ours.delta == pytest.approx(np.mean(a - b))


def test_identical_runs_are_not_significant():
    a = np.linspace(0, 1, 50)
    assert paired_t_test(a, a).p_value == 1.0
    assert paired_randomization_test(a, a, n_permutations=200).p_value == 1.0


def test_randomization_detects_a_shift_and_agrees_with_t_test():
    rng = np.random.default_rng(1)
    b = rng.random(300)
    a_shift = b + 0.05 + 0.05 * rng.standard_normal(300)
    assert paired_randomization_test(a_shift, b, n_permutations=2000).p_value < 0.01
    a_noise = b + 0.05 * rng.standard_normal(300)
    p_rand = paired_randomization_test(a_noise, b, n_permutations=4000, max_batch_elements=10_000).p_value
    assert abs(p_rand - paired_t_test(a_noise, b).p_value) < 0.05


def test_bonferroni_and_bad_input():
    np.testing.assert_allclose(bonferroni([0.01, 0.2, 0.6]), [0.03, 0.6, 1.0])
    np.testing.assert_allclose(bonferroni([0.01], n_tests=10), [0.1])
    with pytest.raises(ValueError, match="equal length"):
        paired_t_test([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        paired_randomization_test([1.0, np.nan], [1.0, 2.0])


def test_seed_level_test_matches_scipy():
    a, b = [0.61, 0.63, 0.60], [0.60, 0.61, 0.61]
    assert seed_level_test(a, b).p_value == pytest.approx(stats.ttest_rel(a, b).pvalue)
    one_sample = stats.ttest_1samp(np.subtract(a, 0.59), 0.0)
    assert seed_level_test(a, 0.59).p_value == pytest.approx(one_sample.pvalue)
    assert seed_level_test(a, b).n == 3
    with pytest.raises(ValueError, match="at least 2"):
        seed_level_test([0.6], [0.5])
