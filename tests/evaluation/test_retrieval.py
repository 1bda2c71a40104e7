"""Exact chunked dense retrieval and the shared tie order."""

from __future__ import annotations

import numpy as np
import pytest

from xcs.evaluation.ranking import trec_tie_rank
from xcs.evaluation.retrieval import search, top_k


def test_search_equals_full_sort_for_any_chunking():
    rng = np.random.default_rng(0)
    queries = rng.standard_normal((57, 16)).astype(np.float32)
    docs = rng.standard_normal((503, 16)).astype(np.float32)
    full = queries @ docs.T
    expected = np.argsort(-full, axis=1, kind="stable")[:, :9]
    for query_chunk, doc_chunk in [(1, 1000), (13, 77), (1000, 5)]:
        scores, index = search(queries, docs, 9, query_chunk=query_chunk, doc_chunk=doc_chunk)
        np.testing.assert_array_equal(index, expected)
        np.testing.assert_allclose(scores, np.take_along_axis(full, expected, 1), rtol=1e-5)


def test_depth_is_clipped_and_ties_are_stable_by_default():
    scores, index = top_k(np.array([[0.5, 0.9, 0.5, 0.5]]), 10)
    assert index.tolist() == [[1, 0, 2, 3]]
    assert scores.shape == (1, 4)
    # trec_eval order: ids descending among ties ("d3" > "d2" > "d0")
    _, index = top_k(np.array([[0.5, 0.9, 0.5, 0.5]]), 4, tie_rank=trec_tie_rank(["d0", "d1", "d2", "d3"]))
    assert index.tolist() == [[1, 3, 2, 0]]


def test_trec_tie_rank_uses_string_order():
    # "d10" < "d9" as strings, so d9 ranks first among ties
    assert trec_tie_rank(["d9", "d10"]).tolist() == [0, 1]


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="dim"):
        search(np.zeros((2, 3), np.float32), np.zeros((4, 5), np.float32), 1)
    with pytest.raises(ValueError, match="k must be"):
        top_k(np.zeros((2, 3)), 0)
    with pytest.raises(ValueError, match="tie_rank"):
        top_k(np.zeros((2, 3)), 1, tie_rank=np.arange(2))


def test_no_documents_gives_empty_results():
    scores, index = top_k(np.zeros((3, 0), np.float32), 5)
    assert scores.shape == index.shape == (3, 0) and index.dtype == np.int64
    scores, index = search(np.zeros((3, 4), np.float32), np.zeros((0, 4), np.float32), 5)
    assert scores.shape == index.shape == (3, 0)
