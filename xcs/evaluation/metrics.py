"""Ranking metrics: typed public functions over the Numba kernels of
:mod:`xcs.evaluation.metric_kernels` (like ranx).

Inputs
------
A ranking is given as ``ranked``: an (n_queries, depth) float64 array holding, for each query, the
relevance grade of the document at each rank (rank 1 first; 0 for a non-relevant or missing
document). :func:`ranked_grades` builds it from retrieved document indices (see
:func:`xcs.evaluation.retrieval.search`) and :class:`RelevanceJudgments` (the qrels). Every metric returns the
per-query values, float64 (n_queries,); the reported figure is their mean, and the per-query values
are what the significance tests in :mod:`xcs.evaluation.significance` pair up.

Definitions (``R``: number of relevant documents of the query, grade >= 1, as trec_eval's default
``relevance_level``; ``rel_i``: 1 when the document at rank i is relevant)
- ``reciprocal_rank`` (MRR@k): 1 / rank of the first relevant document within the top k, else 0.
- ``average_precision`` (trec_eval ``map_cut_k`` = ir_measures ``AP@k``):
  sum_{i<=k} rel_i * P@i / R.
- ``lareqa_average_precision`` (LAReQA / XTREME-R ``mAP@k``): the same sum divided by min(R, k)
  (google-research/xtreme ``third_party/utils_lareqa.py``); identical to the trec form whenever
  R <= k, as in LAReQA (R = 11 answer sentences, k = 20).
- ``recall`` (R@k): relevant documents within the top k / R.
- ``ndcg`` (trec_eval ``ndcg_cut_k``): sum_{i<=k} g_i / log2(i + 1) over the same sum for the
  ideal ordering of all judged documents, gains g = the grades (linear, as trec_eval; negative -> 0).
- ``accuracy_at_1``: 1 when the top document is relevant (Tatoeba).
Queries without relevant documents score 0 (trec_eval's convention for these measures).

Ties
----
trec_eval orders a run by score and breaks ties by document id, descending; the score-based entry
points here take a ``tie_rank`` (see :mod:`xcs.evaluation.ranking`) and
:func:`xcs.evaluation.ranking.trec_tie_rank` reproduces trec_eval's order exactly, so results agree
with ``ir_measures`` even with tied scores.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from xcs.evaluation.metric_kernels import (
    gather_grades_kernel,
    ndcg_kernel,
    precision_sum_kernel,
    recall_kernel,
    reciprocal_rank_from_scores_kernel,
    reciprocal_rank_kernel,
)
from xcs.evaluation.ranking import as_array, check_finite, check_tie_rank

# ---------------------------------------------------------------------------------------------
# Relevance judgments (qrels)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelevanceJudgments:
    """Qrels for ``n_queries`` queries in compressed sparse rows.

    Attributes:
        indptr: (n_queries + 1,) int64; query q's judgments are ``[indptr[q], indptr[q + 1])``.
        doc_index: (nnz,) int64 document (column) indices, sorted within each query.
        grade: (nnz,) float64 relevance grades; >= 1 counts as relevant.
    """

    indptr: np.ndarray
    doc_index: np.ndarray
    grade: np.ndarray

    @classmethod
    def from_lists(
        cls, judgments: Sequence[Sequence[int] | Mapping[int, float]]
    ) -> RelevanceJudgments:
        """Build from one entry per query: a sequence of relevant doc indices (grade 1) or a
        ``{doc_index: grade}`` mapping."""
        if isinstance(judgments, (str, bytes, Mapping)) or not isinstance(judgments, Sequence):
            raise TypeError(f"judgments must be a sequence with one entry per query, got "
                            f"{type(judgments).__name__}")
        indptr = np.zeros(len(judgments) + 1, dtype=np.int64)
        docs: list[int] = []
        grades: list[float] = []
        for q, entry in enumerate(judgments):
            if isinstance(entry, Mapping):
                pairs = list(entry.items())
            elif isinstance(entry, (str, bytes)) or not isinstance(entry, (Sequence, np.ndarray, set,
                                                                             frozenset)):
                raise TypeError(f"judgments[{q}] must be a list of document indices or a {{index: grade}} "
                                f"mapping, got {type(entry).__name__}")
            else:
                pairs = [(d, 1.0) for d in entry]
            for d, g in pairs:
                # a float index would be truncated, a bool or string coerced
                if isinstance(d, (bool, np.bool_)) or not isinstance(d, numbers.Integral):
                    raise TypeError(f"judgments[{q}]: document index {d!r} is not an integer")
                if d < 0:
                    raise ValueError(f"judgments[{q}]: negative document index {d}")
                if isinstance(g, (bool, np.bool_)) or not isinstance(g, numbers.Real):
                    raise TypeError(f"judgments[{q}]: the grade of document {d} must be a number, got "
                                    f"{type(g).__name__} {g!r}")
                if not math.isfinite(float(g)):
                    raise ValueError(f"judgments[{q}]: the grade of document {d} is {g!r}, not finite")
            items = sorted((int(d), float(g)) for d, g in pairs)
            for (d, _), (d_next, _) in zip(items, items[1:], strict=False):
                if d == d_next:
                    raise ValueError(f"query {q}: document {d} is judged twice")
            for d, g in items:
                docs.append(d)
                grades.append(g)
            indptr[q + 1] = len(docs)
        return cls(indptr, np.asarray(docs, dtype=np.int64), np.asarray(grades, dtype=np.float64))

    @classmethod
    def from_dense(cls, relevance: np.ndarray) -> RelevanceJudgments:
        """Build from a dense (n_queries, n_docs) grade matrix (0 = not judged / not relevant)."""
        relevance = _grades("relevance", relevance)
        if relevance.ndim != 2:
            raise ValueError(f"relevance must be 2-d, got shape {relevance.shape}")
        rows, cols = np.nonzero(relevance)
        indptr = np.zeros(relevance.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=relevance.shape[0]), out=indptr[1:])
        return cls(indptr, cols.astype(np.int64), relevance[rows, cols].astype(np.float64))

    @property
    def n_queries(self) -> int:
        return len(self.indptr) - 1

    @property
    def n_relevant(self) -> np.ndarray:
        """(n_queries,) int64 count of documents with grade >= 1."""
        query_of = np.repeat(np.arange(self.n_queries), np.diff(self.indptr))
        relevant = (self.grade >= 1.0).astype(np.float64)
        return np.bincount(query_of, weights=relevant, minlength=self.n_queries).astype(np.int64)

    def ideal_gains(self, k: int) -> np.ndarray:
        """(n_queries, k) float64: each query's positive grades sorted descending, zero-padded."""
        out = np.zeros((self.n_queries, k), dtype=np.float64)
        query_of = np.repeat(np.arange(self.n_queries), np.diff(self.indptr))
        order = np.lexsort((-self.grade, query_of))  # by query, then grade descending
        position = np.arange(len(order)) - self.indptr[query_of[order]]
        keep = position < k
        out[query_of[order][keep], position[keep]] = np.maximum(self.grade[order][keep], 0.0)
        return out


def ranked_grades(retrieved: np.ndarray, judgments: RelevanceJudgments) -> np.ndarray:
    """Grades of the retrieved documents, (n_queries, depth) float64; index -1 (no document) -> 0.

    A document listed twice for one query is an error (trec_eval counts it once; counting it twice
    would push AP, recall and nDCG above 1)."""
    retrieved = as_array("retrieved", retrieved)
    if retrieved.dtype.kind not in "iu" and not (retrieved.size == 0 and retrieved.dtype.kind == "f"):
        # a float index would be truncated, a bool one coerced
        raise TypeError(f"retrieved must hold integer document indices, got dtype {retrieved.dtype}")
    if retrieved.dtype.kind == "u" and retrieved.size and retrieved.max() > np.iinfo(np.int64).max:
        raise ValueError("retrieved holds a document index beyond int64")
    retrieved = np.ascontiguousarray(retrieved, dtype=np.int64)
    if retrieved.size and retrieved.min() < -1:
        raise ValueError(f"retrieved must hold document indices >= 0 (or -1 for no document), got "
                         f"{int(retrieved.min())}")
    if retrieved.ndim != 2 or retrieved.shape[0] != judgments.n_queries:
        raise ValueError(
            f"retrieved must have shape ({judgments.n_queries}, depth), got {retrieved.shape}"
        )
    ordered = np.sort(retrieved, axis=1)
    repeated = (ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)
    if repeated.any():
        query, position = (int(i) for i in np.argwhere(repeated)[0])
        raise ValueError(f"retrieved lists document {ordered[query, position + 1]} more than once for query "
                         f"{query}: a run must rank each document once")
    return gather_grades_kernel(retrieved, judgments.indptr, judgments.doc_index, judgments.grade)


# ---------------------------------------------------------------------------------------------
# Public metric functions
# ---------------------------------------------------------------------------------------------


def _grades(name: str, values: object) -> np.ndarray:
    """``values`` as float64 grades: integer or float, finite (bool, strings and NaN are refused)."""
    array = as_array(name, values)
    if array.dtype.kind not in "iuf" and not (array.size == 0 and array.dtype.kind == "O"):
        raise TypeError(f"{name} must hold numeric relevance grades, got dtype {array.dtype}")
    array = np.ascontiguousarray(array, dtype=np.float64)
    if not np.isfinite(array).all():
        position = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name} must hold finite grades, got {array[position]} at {position}")
    return array


def _ranked(ranked: np.ndarray) -> np.ndarray:
    ranked = _grades("ranked", ranked)
    if ranked.ndim != 2:
        raise ValueError(f"ranked must be (n_queries, depth), got shape {ranked.shape}")
    return ranked


def _counts(n_relevant: np.ndarray, ranked: np.ndarray) -> np.ndarray:
    """``n_relevant`` as int64 (n,): integers, at least the relevant documents ``ranked`` holds
    (fewer would push AP and recall above 1)."""
    n = len(ranked)
    array = as_array("n_relevant", n_relevant)
    if array.dtype.kind not in "iu":
        raise TypeError(f"n_relevant must hold integer counts, got dtype {array.dtype}")
    n_relevant = np.ascontiguousarray(array, dtype=np.int64)
    if n_relevant.shape != (n,):
        raise ValueError(f"n_relevant must have shape ({n},) (one count per row of ranked), got "
                         f"{n_relevant.shape}")
    shown = (ranked >= 1.0).sum(axis=1)
    short = np.flatnonzero(n_relevant < shown)
    if short.size:
        q = int(short[0])
        raise ValueError(f"n_relevant[{q}] = {n_relevant[q]}, but ranked holds {shown[q]} relevant documents "
                         "for that query: n_relevant counts every relevant document of a query")
    return n_relevant


def _cutoff(k: int) -> int:
    """A cutoff ``k``: an integer >= 1 (a float such as 2.5 would be truncated, a bool coerced)."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
        raise TypeError(f"cutoff k must be an integer, got {type(k).__name__} {k!r}")
    if k < 1:
        raise ValueError(f"cutoff k must be >= 1, got {k}")
    return min(int(k), 2**62)  # a cutoff beyond the depth is the depth: the kernels take an int64


def reciprocal_rank(ranked: np.ndarray, k: int = 10) -> np.ndarray:
    """RR@k per query, (n_queries,) float64 (mean = MRR@k)."""
    return reciprocal_rank_kernel(_ranked(ranked), _cutoff(k))


def average_precision(ranked: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """AP@k per query as trec_eval ``map_cut_k`` / ir_measures ``AP@k`` (divides by R)."""
    ranked = _ranked(ranked)
    return precision_sum_kernel(ranked, _cutoff(k), _counts(n_relevant, ranked), False)


def lareqa_average_precision(ranked: np.ndarray, n_relevant: np.ndarray, k: int = 20) -> np.ndarray:
    """AP@k per query as LAReQA / XTREME-R (divides by min(R, k)); mean = the reported mAP@k."""
    ranked = _ranked(ranked)
    return precision_sum_kernel(ranked, _cutoff(k), _counts(n_relevant, ranked), True)


def recall(ranked: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """R@k per query: relevant documents in the top k over all relevant documents."""
    ranked = _ranked(ranked)
    return recall_kernel(ranked, _cutoff(k), _counts(n_relevant, ranked))


def ndcg(ranked: np.ndarray, ideal_gains: np.ndarray, k: int) -> np.ndarray:
    """nDCG@k per query as trec_eval ``ndcg_cut_k`` (linear gains; see
    :meth:`RelevanceJudgments.ideal_gains` for ``ideal_gains``, (n_queries, >= k))."""
    ranked = _ranked(ranked)
    ideal_gains = _grades("ideal_gains", ideal_gains)
    if ideal_gains.ndim != 2 or ideal_gains.shape[0] != len(ranked):
        raise ValueError(f"ideal_gains must be ({len(ranked)}, k) (one row per row of ranked), got shape "
                         f"{ideal_gains.shape}")
    return ndcg_kernel(ranked, _cutoff(k), ideal_gains)


def accuracy_at_1(ranked: np.ndarray) -> np.ndarray:
    """1.0 where the top-ranked document is relevant, else 0.0; (n_queries,) float64."""
    ranked = _ranked(ranked)
    if ranked.shape[1] == 0:
        return np.zeros(len(ranked), dtype=np.float64)
    return (ranked[:, 0] >= 1.0).astype(np.float64)


def reciprocal_rank_from_scores(
    scores: np.ndarray, relevance: np.ndarray, k: int = 10, *, tie_rank: np.ndarray | None = None
) -> np.ndarray:
    """RR@k per query straight from a dense score matrix, without sorting.

    Args:
        scores: (n_queries, n_docs) float32/float64, finite (else a ValueError).
        relevance: (n_queries, n_docs) integer or float grades; >= 1 is relevant.
        tie_rank: optional (n_docs,) int64 tie order (see :mod:`xcs.evaluation.retrieval`).
    """
    scores = as_array("scores", scores)
    if scores.dtype.kind not in "iuf":
        raise TypeError(f"scores must be numeric, got dtype {scores.dtype}")
    relevance = _grades("relevance", relevance)
    k = _cutoff(k)
    if scores.ndim != 2 or relevance.shape != scores.shape:
        raise ValueError(f"scores {scores.shape} and relevance {relevance.shape} must be equal 2-d shapes")
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float32)
    check_finite("scores", scores)
    tie_rank = check_tie_rank(tie_rank, scores.shape[1])
    return reciprocal_rank_from_scores_kernel(
        np.ascontiguousarray(scores), np.ascontiguousarray(relevance), tie_rank, _cutoff(k)
    )


_METRIC_NAME = re.compile(r"^(mrr|map|ap|recall|ndcg|acc)@(\d+)$")


def parse_metric(name: str) -> tuple[str, int]:
    """Split ``"mrr@10"`` into ``("mrr", 10)``; known families: mrr, map (LAReQA), ap (trec),
    recall, ndcg, acc (only ``acc@1``)."""
    if not isinstance(name, str):
        raise TypeError(f"a metric name must be a string such as 'mrr@10', got {type(name).__name__} "
                        f"{name!r}")
    match = _METRIC_NAME.match(name)
    if match is None or (match.group(1) == "acc" and match.group(2) != "1") or int(match.group(2)) < 1:
        raise ValueError(f"unknown metric {name!r}; expected mrr@k, map@k, ap@k, recall@k, ndcg@k (k >= 1) "
                         "or acc@1")
    return match.group(1), int(match.group(2))


def evaluate_ranking(
    retrieved: np.ndarray, judgments: RelevanceJudgments, metrics: Sequence[str]
) -> dict[str, np.ndarray]:
    """Per-query values of each named metric for retrieved document indices (n_queries, depth).

    The depth must be at least the largest cutoff asked for, or the deeper ranks count as misses.
    """
    if isinstance(metrics, str):
        raise TypeError(f"metrics must be a list of metric names, got one string {metrics!r}")
    ranked = ranked_grades(retrieved, judgments)
    parsed = {name: parse_metric(name) for name in metrics}
    n_relevant = judgments.n_relevant
    out: dict[str, np.ndarray] = {}
    for name, (family, k) in parsed.items():
        if family == "mrr":
            out[name] = reciprocal_rank(ranked, k)
        elif family == "map":
            out[name] = lareqa_average_precision(ranked, n_relevant, k)
        elif family == "ap":
            out[name] = average_precision(ranked, n_relevant, k)
        elif family == "recall":
            out[name] = recall(ranked, n_relevant, k)
        elif family == "ndcg":
            out[name] = ndcg(ranked, judgments.ideal_gains(k), k)
        else:
            out[name] = accuracy_at_1(ranked)
    return out


__all__ = [
    "RelevanceJudgments",
    "accuracy_at_1",
    "average_precision",
    "evaluate_ranking",
    "lareqa_average_precision",
    "ndcg",
    "parse_metric",
    "ranked_grades",
    "recall",
    "reciprocal_rank",
    "reciprocal_rank_from_scores",
]
