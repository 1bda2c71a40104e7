"""``xcs bench metrics``: MRR@10 over 1M queries x 100 candidates, xcs vs ranx vs ir_measures.

One run builds random scores (float32, no ties) with one relevant candidate per query and times:

- ``xcs_from_scores``: :func:`xcs.evaluation.metrics.reciprocal_rank_from_scores` straight from the unsorted
  (n, 100) score matrix (no sort: the rank of the relevant candidate is counted);
- ``xcs_top_k_path``: :func:`xcs.evaluation.retrieval.top_k` (k = 10) +
  :func:`xcs.evaluation.metrics.ranked_grades` +
  :func:`xcs.evaluation.metrics.reciprocal_rank`, the general path the evaluation suite uses;
- ``ranx_kernel``: ranx's own Numba kernel (``ranx.metrics.reciprocal_rank``) on its array layout
  with the run already sorted by score (ranx sorts when it builds a ``Run``; that sort is not timed,
  which favours ranx);
- ``ranx_evaluate`` and ``ir_measures``: the libraries' public entry points from their usual inputs
  (dicts / namedtuples) on a subset, scaled linearly to the full size (they are too slow for 1M).

All timings are the best of ``--repeats`` runs after a warm-up (Numba compilation excluded); the
values of every method are checked against each other on the subset.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np

from xcs.bench.timing import best_seconds, require
from xcs.io.versions import versions


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("metrics", help="MRR@10 throughput: xcs vs ranx vs ir_measures")
    parser.add_argument("--queries", type=int, default=1_000_000, help="queries (default 1M)")
    parser.add_argument("--candidates", type=int, default=100, help="candidates per query")
    parser.add_argument("--subset", type=int, default=20_000,
                        help="queries for the slow library entry points")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions (best is kept)")
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(func=run)


def make_run(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, m) float32 scores without ties and (n, m) int8 relevance with one relevant per row."""
    rng = np.random.default_rng(seed)
    scores = rng.random((n, m), dtype=np.float32)
    relevance = np.zeros((n, m), dtype=np.int8)
    relevance[np.arange(n), rng.integers(0, m, n)] = 1
    return scores, relevance


def _time_ranx_kernel(scores: np.ndarray, relevant_doc: np.ndarray, repeats: int) -> tuple[float, np.ndarray]:
    """ranx's layout: run (n, m, 2) [doc id, score] sorted by score, qrels (n, 1, 2) [doc id, grade]."""
    from ranx.metrics import reciprocal_rank as ranx_reciprocal_rank

    n, m = scores.shape
    order = np.argsort(-scores, axis=1, kind="stable")
    run_array = np.empty((n, m, 2), dtype=np.float64)
    run_array[:, :, 0] = order
    run_array[:, :, 1] = np.take_along_axis(scores, order, axis=1)
    qrels_array = np.ones((n, 1, 2), dtype=np.float64)
    qrels_array[:, 0, 0] = relevant_doc
    seconds = best_seconds(lambda: ranx_reciprocal_rank(qrels_array, run_array, 10), min_repeats=repeats)[0]
    return seconds, ranx_reciprocal_rank(qrels_array, run_array, 10)


def run(args: argparse.Namespace) -> int:
    report = measure(args.queries, args.candidates, args.subset, args.repeats, args.seed)
    print(json.dumps({**report, "environment": versions()}, indent=1))
    return 0


def measure(n: int, m: int, subset: int, repeats: int, seed: int = 0) -> dict:
    ir_measures, ranx = require("metrics", "ir_measures", "ranx")

    from xcs.evaluation.metrics import (
        RelevanceJudgments,
        ranked_grades,
        reciprocal_rank,
        reciprocal_rank_from_scores,
    )
    from xcs.evaluation.retrieval import top_k

    scores, relevance = make_run(n, m, seed)
    relevant_doc = relevance.argmax(axis=1)
    judgments = RelevanceJudgments(np.arange(n + 1, dtype=np.int64), relevant_doc.astype(np.int64),
                                   np.ones(n, dtype=np.float64))

    def xcs_top_k_path() -> np.ndarray:
        _, index = top_k(scores, 10)
        return reciprocal_rank(ranked_grades(index, judgments), 10)

    seconds = {
        "xcs_from_scores": best_seconds(lambda: reciprocal_rank_from_scores(scores, relevance, 10),
                                        min_repeats=repeats)[0],
        "xcs_top_k_path": best_seconds(xcs_top_k_path, min_repeats=repeats)[0],
    }
    ours = reciprocal_rank_from_scores(scores, relevance, 10)

    seconds["ranx_kernel"], ranx_values = _time_ranx_kernel(scores, relevant_doc, repeats)

    # the libraries' public entry points on a subset
    s = min(subset, n)
    qrels_dict = {f"q{i}": {f"d{relevant_doc[i]}": 1} for i in range(s)}
    run_dict = {f"q{i}": {f"d{j}": float(scores[i, j]) for j in range(m)} for i in range(s)}
    ranx_qrels, ranx_run = ranx.Qrels(qrels_dict), ranx.Run(run_dict)
    subset_seconds = {
        "ranx_evaluate": best_seconds(lambda: ranx.evaluate(ranx_qrels, ranx_run, "mrr@10"),
                                      min_repeats=1)[0],
    }
    qrels_list = [ir_measures.Qrel(q, d, r) for q, docs in qrels_dict.items() for d, r in docs.items()]
    run_list = [ir_measures.ScoredDoc(q, d, v) for q, docs in run_dict.items() for d, v in docs.items()]
    measure_rr = ir_measures.RR @ 10
    subset_seconds["ir_measures"] = best_seconds(
        lambda: ir_measures.calc_aggregate([measure_rr], qrels_list, run_list), min_repeats=1)[0]
    ir_value = ir_measures.calc_aggregate([measure_rr], qrels_list, run_list)[measure_rr]
    scale = n / s
    for name, value in subset_seconds.items():
        seconds[f"{name}_scaled"] = value * scale

    agree = {
        "ranx_kernel_max_abs_diff": float(np.abs(ours - ranx_values).max()),
        "ir_measures_subset_abs_diff": abs(float(ours[:s].mean()) - float(ir_value)),
    }
    best_ours = min(seconds["xcs_from_scores"], seconds["xcs_top_k_path"])
    return {
        "benchmark": "MRR@10",
        "queries": n,
        "candidates": m,
        "subset_for_library_entry_points": s,
        "mrr@10": float(ours.mean()),
        "seconds": {k: round(v, 4) for k, v in seconds.items()},
        "subset_seconds": {k: round(v, 4) for k, v in subset_seconds.items()},
        "speedup": {
            "ranx_kernel_over_xcs_from_scores": round(seconds["ranx_kernel"] / seconds["xcs_from_scores"], 2),
            "ranx_kernel_over_xcs_top_k_path": round(seconds["ranx_kernel"] / seconds["xcs_top_k_path"], 2),
            "ranx_evaluate_over_xcs": round(seconds["ranx_evaluate_scaled"] / best_ours, 1),
            "ir_measures_over_xcs": round(seconds["ir_measures_scaled"] / best_ours, 1),
        },
        "targets": {"ranx_kernel_over_xcs_from_scores": ">= 1", "ir_measures_over_xcs": ">= 20"},
        "agreement": agree,
        "threads": {"numba": __import__("numba").get_num_threads(), "cpu_count": os.cpu_count()},
        "load_average": list(os.getloadavg()),
    }
