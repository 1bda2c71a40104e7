"""pytest-benchmark: MRR@10 and exact top-k (``pytest benches/bench_metrics.py --benchmark-enable``).

Compare the ``mrr10`` group: xcs's fused kernel from raw scores vs ranx's kernel on pre-sorted input.
``xcs bench metrics`` is the full-scale version (1M queries, ranx / ir_measures entry points).
"""

from __future__ import annotations

import numpy as np
import pytest

from xcs.bench.metrics import make_run
from xcs.evaluation.metrics import reciprocal_rank_from_scores
from xcs.evaluation.retrieval import search, top_k

N_QUERIES, N_CANDIDATES = 200_000, 100


@pytest.fixture(scope="module")
def run():
    return make_run(N_QUERIES, N_CANDIDATES, seed=0)


@pytest.mark.benchmark(group="mrr10")
def test_xcs_mrr10_from_scores(benchmark, run):
    scores, relevance = run
    values = benchmark(reciprocal_rank_from_scores, scores, relevance, 10)
    assert values.shape == (N_QUERIES,)


@pytest.mark.benchmark(group="mrr10")
def test_ranx_kernel_mrr10_presorted(benchmark, run):
    from ranx.metrics import reciprocal_rank

    scores, relevance = run
    order = np.argsort(-scores, axis=1, kind="stable")
    run_array = np.stack([order.astype(np.float64), np.take_along_axis(scores, order, 1)], axis=-1)
    qrels_array = np.stack([relevance.argmax(1).astype(np.float64), np.ones(N_QUERIES)], axis=-1)[:, None, :]
    values = benchmark(reciprocal_rank, qrels_array, run_array, 10)
    np.testing.assert_allclose(values, reciprocal_rank_from_scores(scores, relevance, 10))


@pytest.mark.benchmark(group="topk")
def test_top_k_10_of_100(benchmark, run):
    _, index = benchmark(top_k, run[0], 10)
    assert index.shape == (N_QUERIES, 10)


@pytest.mark.benchmark(group="search")
def test_search_13k_x_13k(benchmark):
    rng = np.random.default_rng(0)
    queries = rng.standard_normal((13_090, 384)).astype(np.float32)
    docs = rng.standard_normal((13_014, 384)).astype(np.float32)
    _, index = benchmark.pedantic(search, args=(queries, docs, 20), rounds=1, iterations=1)
    assert index.shape == (13_090, 20)
