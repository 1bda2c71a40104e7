"""Exact dense retrieval: top-k by inner product, chunked so memory stays bounded for large pools.

The ranking order (score, then ``tie_rank``) is :mod:`xcs.evaluation.ranking`'s.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from xcs.evaluation.ranking import check_finite, check_tie_rank, ranks_before

DEFAULT_QUERY_CHUNK = 1024
DEFAULT_DOC_CHUNK = 16384


@njit(cache=True, parallel=True)
def _merge_top_k(block, doc_offset, tie_rank, best_scores, best_index):
    """Merge the rows of ``block`` (q, c) into the running top-k buffers (q, k), sorted best first.

    Each row keeps a sorted buffer and inserts a candidate only when it beats the current worst,
    so a row costs O(c) plus O(k) per insertion (few, once the buffer is warm).
    """
    n_rows, n_cols = block.shape
    k = best_scores.shape[1]
    for row in prange(n_rows):
        scores = best_scores[row]
        index = best_index[row]
        filled = 0
        while filled < k and index[filled] >= 0:
            filled += 1
        # the current worst entry, kept in locals so most candidates are rejected by one compare
        worst_score = scores[k - 1]
        worst_tie = tie_rank[index[k - 1]] if filled == k else 0
        for col in range(n_cols):
            score = block[row, col]
            if filled == k and score < worst_score:
                continue
            doc = doc_offset + col
            tie = tie_rank[doc]
            if filled == k and not ranks_before(score, tie, worst_score, worst_tie):
                continue
            pos = filled if filled < k else k - 1
            while pos > 0 and ranks_before(score, tie, scores[pos - 1], tie_rank[index[pos - 1]]):
                scores[pos] = scores[pos - 1]
                index[pos] = index[pos - 1]
                pos -= 1
            scores[pos] = score
            index[pos] = doc
            if filled < k:
                filled += 1
            worst_score = scores[k - 1]
            worst_tie = tie_rank[index[k - 1]] if filled == k else 0


def _check_matrix(name: str, array: np.ndarray, ndim: int = 2) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-d array, got shape {array.shape}")
    return array


def top_k(scores: np.ndarray, k: int, *, tie_rank: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` columns of every row of a score matrix.

    Args:
        scores: (n_queries, n_docs) float32/float64 score matrix, finite (else a ValueError).
        k: depth; clipped to ``n_docs``.
        tie_rank: optional (n_docs,) int64; among equal scores the smaller value ranks first.

    Returns:
        ``(top_scores, top_index)``: (n_queries, k) arrays of the same float dtype and int64, best first
        (``(n_queries, 0)`` when there are no documents).
    """
    scores = _check_matrix("scores", scores)
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float32)
    check_finite("scores", scores)
    n_queries, n_docs = scores.shape
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    k = min(k, n_docs)
    tie_rank = check_tie_rank(tie_rank, n_docs)
    best_scores = np.full((n_queries, k), -np.inf, dtype=scores.dtype)
    best_index = np.full((n_queries, k), -1, dtype=np.int64)
    if n_docs == 0:  # k is 0: the Numba merge (no bounds checks) must not run
        return best_scores, best_index
    _merge_top_k(np.ascontiguousarray(scores), 0, tie_rank, best_scores, best_index)
    return best_scores, best_index


def search(
    queries: np.ndarray,
    docs: np.ndarray,
    k: int,
    *,
    tie_rank: np.ndarray | None = None,
    query_chunk: int = DEFAULT_QUERY_CHUNK,
    doc_chunk: int = DEFAULT_DOC_CHUNK,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product search of every query against every document.

    Scores are computed one (query_chunk x doc_chunk) block at a time with BLAS and merged into
    per-query top-k buffers, so peak extra memory is ``query_chunk * doc_chunk * 4`` bytes
    (64 MiB by default) whatever the pool size. With normalised embeddings the score is the cosine.

    Args:
        queries: (n_queries, dim) float32 embeddings, finite (else a ValueError).
        docs: (n_docs, dim) float32 embeddings, finite (else a ValueError).
        k: depth; clipped to ``n_docs``.
        tie_rank: optional (n_docs,) int64 tie order (see the module docstring).

    Returns:
        ``(scores, index)``: (n_queries, k) float32 and int64, best first.
    """
    queries = np.ascontiguousarray(_check_matrix("queries", queries), dtype=np.float32)
    docs = np.ascontiguousarray(_check_matrix("docs", docs), dtype=np.float32)
    check_finite("queries", queries)
    check_finite("docs", docs)
    if queries.shape[1] != docs.shape[1]:
        raise ValueError(f"queries have dim {queries.shape[1]} but docs have dim {docs.shape[1]}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if query_chunk < 1 or doc_chunk < 1:
        raise ValueError("query_chunk and doc_chunk must be >= 1")
    n_queries, n_docs = queries.shape[0], docs.shape[0]
    k = min(k, n_docs)
    tie_rank = check_tie_rank(tie_rank, n_docs)
    best_scores = np.full((n_queries, max(k, 0)), -np.inf, dtype=np.float32)
    best_index = np.full((n_queries, max(k, 0)), -1, dtype=np.int64)
    if n_docs == 0:
        return best_scores, best_index
    for q0 in range(0, n_queries, query_chunk):
        q1 = min(q0 + query_chunk, n_queries)
        for d0 in range(0, n_docs, doc_chunk):
            d1 = min(d0 + doc_chunk, n_docs)
            block = queries[q0:q1] @ docs[d0:d1].T
            _merge_top_k(block, d0, tie_rank, best_scores[q0:q1], best_index[q0:q1])
    return best_scores, best_index


__all__ = ["search", "top_k"]
