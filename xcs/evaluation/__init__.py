"""Retrieval and its measurement: the XTREME-R suite, exact search, metrics, significance, reports.

- :mod:`xcs.evaluation.ranking` — the ranking order (score, then tie rank) shared by search and metrics.
- :mod:`xcs.evaluation.retrieval` — exact chunked top-k search.
- :mod:`xcs.evaluation.metrics` — trec_eval-compatible metrics (typed public functions).
- :mod:`xcs.evaluation.metric_kernels` — the Numba kernels below them.
- :mod:`xcs.evaluation.significance` — paired tests and multiple-comparison corrections.
- :mod:`xcs.evaluation.tasks` — LAReQA, MoIR / CLIR / MLIR and Tatoeba on encoded texts.
- :mod:`xcs.evaluation.suite` — :func:`~xcs.evaluation.suite.evaluate`, the suite driver.
- :mod:`xcs.evaluation.report` — reading results back (headline columns, per-query scores), reports.
- :mod:`xcs.evaluation.compare` — paired comparison of two evaluated runs.
- :mod:`xcs.evaluation.rerank` — reranking a dual encoder's top-k with a cross-encoder.
"""

from __future__ import annotations

from xcs.lazy import attach

# public name -> the module that defines it (imported on first use: importing the package stays cheap)
_EXPORTS = {
    "compare_runs": "xcs.evaluation.compare",
    "RelevanceJudgments": "xcs.evaluation.metrics",
    "evaluate_ranking": "xcs.evaluation.metrics",
    "ALL_TASKS": "xcs.evaluation.protocol",
    "PAPER_PAIRS": "xcs.evaluation.protocol",
    "resolve_tasks": "xcs.evaluation.protocol",
    "headline_metrics": "xcs.evaluation.report",
    "load_per_query": "xcs.evaluation.report",
    "load_query_ids": "xcs.evaluation.report",
    "rerank_xquadr": "xcs.evaluation.rerank",
    "search": "xcs.evaluation.retrieval",
    "bonferroni": "xcs.evaluation.significance",
    "paired_randomization_test": "xcs.evaluation.significance",
    "paired_t_test": "xcs.evaluation.significance",
    "seed_level_test": "xcs.evaluation.significance",
    "check_evaluation": "xcs.evaluation.suite",
    "evaluate": "xcs.evaluation.suite",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
