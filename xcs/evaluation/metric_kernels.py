"""The Numba kernels behind :mod:`xcs.evaluation.metrics` (the low level, as in ranx).

Each takes contiguous, already checked arrays (the typed functions of :mod:`xcs.evaluation.metrics`
check them): ranked grades (n_queries, depth) float64 and an int64 cutoff ``k``, and returns the
per-query values, (n_queries,) float64. Call the functions in :mod:`xcs.evaluation.metrics` instead:
these trust their input.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from xcs.evaluation.ranking import ranks_before


@njit(cache=True, parallel=True)
def reciprocal_rank_kernel(ranked, k):
    n, depth = ranked.shape
    out = np.zeros(n, dtype=np.float64)
    cut = min(k, depth)
    for q in prange(n):
        for i in range(cut):
            if ranked[q, i] >= 1.0:
                out[q] = 1.0 / (i + 1)
                break
    return out


# inline="always": inlined into the kernels' Numba IR, the unused half of the result costs nothing;
# as an ordinary call the recall kernel took 1.8-2.3x and the AP kernel 1.2x as long (1M x 100)
@njit(cache=True, inline="always")
def _relevant_hits(grades, k):
    """Scan one ranking's first k grades (float64 (depth,)): the number of relevant documents
    (grade >= 1) among them and the sum of P@i over the ranks i that hold one (AP's numerator)."""
    hits = 0
    precision_sum = 0.0
    for i in range(min(k, len(grades))):
        if grades[i] >= 1.0:
            hits += 1
            precision_sum += hits / (i + 1.0)
    return hits, precision_sum


@njit(cache=True, parallel=True)
def precision_sum_kernel(ranked, k, n_relevant, lareqa):
    out = np.zeros(len(ranked), dtype=np.float64)
    for q in prange(len(ranked)):
        if n_relevant[q] > 0:
            precision_sum = _relevant_hits(ranked[q], k)[1]
            out[q] = precision_sum / (min(n_relevant[q], k) if lareqa else n_relevant[q])
    return out


@njit(cache=True, parallel=True)
def recall_kernel(ranked, k, n_relevant):
    out = np.zeros(len(ranked), dtype=np.float64)
    for q in prange(len(ranked)):
        if n_relevant[q] > 0:
            out[q] = _relevant_hits(ranked[q], k)[0] / n_relevant[q]
    return out


@njit(cache=True, parallel=True)
def ndcg_kernel(ranked, k, ideal):
    n, depth = ranked.shape
    out = np.zeros(n, dtype=np.float64)
    cut = min(k, depth)
    ideal_cut = min(k, ideal.shape[1])
    for q in prange(n):
        best = 0.0
        for i in range(ideal_cut):
            if ideal[q, i] > 0.0:
                best += ideal[q, i] / np.log2(i + 2.0)
        if best <= 0.0:
            continue
        gain = 0.0
        for i in range(cut):
            if ranked[q, i] > 0.0:
                gain += ranked[q, i] / np.log2(i + 2.0)
        out[q] = gain / best
    return out


@njit(cache=True, parallel=True)
def gather_grades_kernel(retrieved, indptr, doc_index, grade):
    n, depth = retrieved.shape
    out = np.zeros((n, depth), dtype=np.float64)
    for q in prange(n):
        start, stop = indptr[q], indptr[q + 1]
        for i in range(depth):
            doc = retrieved[q, i]
            if doc < 0:
                continue
            # doc_index is sorted within each query: binary search
            lo, hi = start, stop
            while lo < hi:
                mid = (lo + hi) // 2
                if doc_index[mid] < doc:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < stop and doc_index[lo] == doc:
                out[q, i] = grade[lo]
    return out


@njit(cache=True, parallel=True)
def reciprocal_rank_from_scores_kernel(scores, relevance, tie_rank, k):
    """RR@k straight from a dense score matrix: the rank of the best-ranked relevant document is
    1 + the number of documents that rank before it, so no sort is needed (two O(m) passes)."""
    n, m = scores.shape
    out = np.zeros(n, dtype=np.float64)
    for q in prange(n):
        best = -1
        for j in range(m):
            if relevance[q, j] >= 1 and (
                best < 0 or ranks_before(scores[q, j], tie_rank[j], scores[q, best], tie_rank[best])
            ):
                best = j
        if best < 0:
            continue
        s_best = scores[q, best]
        t_best = tie_rank[best]
        before = 0
        for j in range(m):
            if ranks_before(scores[q, j], tie_rank[j], s_best, t_best):
                before += 1
                if before >= k:
                    break
        if before < k:
            out[q] = 1.0 / (before + 1)
    return out
