"""Paired significance tests on per-query scores (two systems, the same queries in the same order).

- :func:`paired_t_test`: two-sided paired t-test (the paper's test), with :func:`bonferroni` for
  the correction over the number of comparisons made.
- :func:`paired_randomization_test`: two-sided approximate randomisation (sign-flip) test of the
  mean difference; distribution-free, as recommended for IR metrics (Smucker et al., CIKM 2007).
- :func:`seed_level_test`: the test whose unit is the training run: a paired t-test over the seeds'
  mean scores (or a one-sample test against a model that was not trained, evaluated once). Both
  tests above take queries as the unit and so test query sampling only: they call a difference
  between two training recipes significant although another set of seeds may reverse it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TestResult:
    """``mean_a`` / ``mean_b``: the two systems' means; ``delta`` = mean_a - mean_b;
    ``statistic``: t (t-test) or the observed mean difference (randomisation); ``p_value``: two-sided."""

    mean_a: float
    mean_b: float
    delta: float
    statistic: float
    p_value: float
    n: int


ArrayLike1D = Sequence[float] | np.ndarray


def _paired(a: ArrayLike1D, b: ArrayLike1D) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"paired scores must be two 1-d arrays of equal length, got {a.shape} and {b.shape}")
    if len(a) < 2:
        raise ValueError(f"need at least 2 paired scores, got {len(a)}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("paired scores contain NaN or infinity")
    return a, b


def paired_t_test(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> TestResult:
    """Two-sided paired t-test of ``a`` vs ``b`` ((n,) per-query scores); p = 1 when all differences
    are zero (no evidence of a difference)."""
    from scipy import stats

    a, b = _paired(a, b)
    diff = a - b
    sd = diff.std(ddof=1)
    if sd == 0.0:
        t, p = (0.0, 1.0) if diff.mean() == 0.0 else (float(np.sign(diff.mean()) * np.inf), 0.0)
    else:
        t = float(diff.mean() / (sd / np.sqrt(len(diff))))
        p = float(2.0 * stats.t.sf(abs(t), df=len(diff) - 1))
    return TestResult(float(a.mean()), float(b.mean()), float(diff.mean()), t, p, len(diff))


def paired_randomization_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    n_permutations: int = 10_000,
    seed: int = 0,
    max_batch_elements: int = 1 << 22,
) -> TestResult:
    """Two-sided paired randomisation test: under H0 each query's difference is equally likely to
    have either sign; p = (1 + #{|mean of sign-flipped differences| >= |observed|}) / (1 + N)."""
    a, b = _paired(a, b)
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1, got {n_permutations}")
    diff = a - b
    observed = abs(diff.mean())
    rng = np.random.default_rng(seed)
    extreme = 0
    done = 0
    tolerance = 1e-12 * max(1.0, observed)  # float noise must not flip a tie into "less extreme"
    while done < n_permutations:
        # bounded memory: at most max_batch_elements sign draws at a time
        size = min(max(1, max_batch_elements // len(diff)), n_permutations - done)
        signs = rng.integers(0, 2, size=(size, len(diff))).astype(np.float64) * 2.0 - 1.0
        means = np.abs(signs @ diff) / len(diff)
        extreme += int((means >= observed - tolerance).sum())
        done += size
    p = (1 + extreme) / (1 + n_permutations)
    return TestResult(float(a.mean()), float(b.mean()), float(diff.mean()), float(diff.mean()), p, len(diff))


def seed_level_test(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray | float) -> TestResult:
    """Two-sided test of recipe ``a`` vs ``b`` with the training run as the unit: ``a`` holds one
    mean score per seed, (n_seeds,); ``b`` the other recipe's at the same seeds, paired (the same
    seed gives both the same data order and initial draws), or one float for a model that does not
    depend on the seed (the untouched model), tested by a one-sample t-test of ``a - b``.

    t = mean(d) / (sd(d) / sqrt(n)), d_s = a_s - b_s, df = n - 1. Needs n >= 2 seeds; with few
    seeds it has little power (n = 3: |t| > 4.30 for p < 0.05), which is the honest answer: the
    seeds, not the thousands of queries, say how much a recipe's result varies."""
    a = np.asarray(a, dtype=np.float64)
    b = np.full_like(a, float(b)) if np.ndim(b) == 0 else np.asarray(b, dtype=np.float64)
    return paired_t_test(a, b)


def bonferroni(p_values: Sequence[float] | np.ndarray, n_tests: int | None = None) -> np.ndarray:
    """Bonferroni-corrected p-values: ``min(1, p * n_tests)`` (``n_tests`` defaults to len(p))."""
    p = np.asarray(p_values, dtype=np.float64)
    n = len(p) if n_tests is None else int(n_tests)
    if n < 1:
        raise ValueError(f"n_tests must be >= 1, got {n}")
    return np.minimum(1.0, p * n)
