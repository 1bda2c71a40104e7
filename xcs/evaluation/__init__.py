"""Retrieval and its measurement: the XTREME-R suite, exact search, metrics, significance, reports.

- :mod:`xcs.evaluation.ranking` — the ranking order (score, then tie rank) shared by search and metrics.
- :mod:`xcs.evaluation.retrieval` — exact chunked top-k search.
- :mod:`xcs.evaluation.metrics` — trec_eval-compatible metrics (Numba kernels, typed public functions).
- :mod:`xcs.evaluation.significance` — paired tests and multiple-comparison corrections.
- :mod:`xcs.evaluation.tasks` — LAReQA, MoIR / CLIR / MLIR and Tatoeba on encoded texts.
- :mod:`xcs.evaluation.suite` — :func:`~xcs.evaluation.suite.evaluate`, the suite driver.
- :mod:`xcs.evaluation.report` — reading results back (headline columns, per-query scores), reports.
- :mod:`xcs.evaluation.compare` — paired comparison of two evaluated runs.
- :mod:`xcs.evaluation.rerank` — reranking a dual encoder's top-k with a cross-encoder.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # ``from xcs.evaluation import evaluate`` without importing Numba for every submodule import
    if name == "evaluate":
        from xcs.evaluation.suite import evaluate

        return evaluate
    raise AttributeError(f"module 'xcs.evaluation' has no attribute {name!r}")
