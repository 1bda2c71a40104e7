"""The ranking order shared by search (:mod:`xcs.evaluation.retrieval`) and the score-based metrics
(:mod:`xcs.evaluation.metrics`).

Candidates are ordered by score, highest first; among equal scores the candidate with the smaller
``tie_rank`` comes first. ``tie_rank`` defaults to the candidate's column index, i.e. a stable sort.
:func:`trec_tie_rank` builds the ``tie_rank`` that reproduces trec_eval, which breaks ties by
document id in descending string order. Scores and embeddings must be finite: a NaN compares
false with everything and would land anywhere in a ranking, so :func:`check_finite` refuses it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def ranks_before(score_a, tie_a, score_b, tie_b) -> bool:
    """True when candidate a ranks strictly before candidate b."""
    return score_a > score_b or (score_a == score_b and tie_a < tie_b)


def check_finite(name: str, array: np.ndarray) -> np.ndarray:
    """``array`` unchanged if every value is finite, else a ValueError naming ``name``, the count and
    the first non-finite position (NaN and +-inf would otherwise rank arbitrarily)."""
    finite = np.isfinite(array)
    if not finite.all():
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"{name} has {int((~finite).sum())} non-finite value(s) (first at index {first}: "
                         f"{array[first]}); scores and embeddings must be finite")
    return array


def as_array(name: str, values: object) -> np.ndarray:
    """``np.asarray(values)``; nested rows of different lengths are a ValueError naming ``name``."""
    try:
        return np.asarray(values)
    except ValueError:  # numpy: "setting an array element with a sequence ... inhomogeneous shape"
        raise ValueError(f"{name} must be an array; its rows have different lengths") from None


def check_tie_rank(tie_rank: np.ndarray | None, n_docs: int) -> np.ndarray:
    if tie_rank is None:
        return np.arange(n_docs, dtype=np.int64)
    array = as_array("tie_rank", tie_rank)
    if array.dtype.kind not in "iu" or (array.dtype.kind == "u" and array.size
                                        and array.max() > np.iinfo(np.int64).max):
        # a float rank would be truncated, a bool or a string coerced
        raise TypeError(f"tie_rank must hold integers (int64), got dtype {array.dtype}")
    tie_rank = np.ascontiguousarray(array, dtype=np.int64)
    if tie_rank.shape != (n_docs,):
        raise ValueError(f"tie_rank must have shape ({n_docs},), got {tie_rank.shape}")
    return tie_rank


def trec_tie_rank(doc_ids: Sequence[str]) -> np.ndarray:
    """``tie_rank`` that orders tied documents as trec_eval does: by document id, descending.

    trec_eval sorts a run by score descending and breaks ties with ``strcmp`` on the document ids in
    reverse (the larger id first); passing this array to :func:`top_k`, :func:`search` or the
    score-based metrics reproduces that order. Ids are compared by their UTF-8 bytes, as ``strcmp``.
    """
    keys = [str(d).encode("utf-8") for d in doc_ids]
    order = sorted(range(len(keys)), key=keys.__getitem__, reverse=True)
    rank = np.empty(len(keys), dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(keys), dtype=np.int64)
    return rank
