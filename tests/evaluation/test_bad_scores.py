"""Non-finite scores and embeddings, and duplicate documents in a run, are refused (issue 12)."""

from __future__ import annotations

import ir_measures
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ir_measures import AP, RR, R, nDCG
from test_evaluation import TagEncoder, _write_data

from xcs.evaluation import metrics as M
from xcs.evaluation.ranking import trec_tie_rank
from xcs.evaluation.retrieval import search, top_k
from xcs.evaluation.suite import evaluate


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_top_k_refuses_non_finite_scores(bad):
    scores = np.array([[0.1, bad, 0.9, 0.5, 0.7]], np.float32)
    with pytest.raises(ValueError, match=r"scores has 1 non-finite value\(s\) \(first at index \(0, 1\)"):
        top_k(scores, 3)
    assert top_k(np.nan_to_num(scores, nan=0.0, posinf=0.0, neginf=0.0), 3)[1].tolist() == [[2, 4, 3]]


def test_search_refuses_a_non_finite_document_row():
    docs = np.eye(4, dtype=np.float32)
    docs[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"docs has 1 non-finite.*\(2, 1\)"):
        search(np.eye(4, dtype=np.float32), docs, 2)
    with pytest.raises(ValueError, match="queries has"):
        search(np.full((1, 4), np.inf, np.float32), np.eye(4, dtype=np.float32), 2)


def test_reciprocal_rank_from_scores_refuses_nan():
    with pytest.raises(ValueError, match="non-finite"):
        M.reciprocal_rank_from_scores(np.array([[0.9, np.nan, 0.5]]), np.array([[0, 1, 0]]))


def test_duplicate_documents_are_refused():
    dense = np.zeros((1, 10), dtype=np.int64)
    dense[0, 5] = 1
    judgments = M.RelevanceJudgments.from_dense(dense)
    with pytest.raises(ValueError, match="document 5 more than once for query 0"):
        M.evaluate_ranking(np.array([[5, 5, 5]]), judgments, ["ap@10", "recall@3", "ndcg@3"])
    ok = M.evaluate_ranking(np.array([[5, 1, -1]]), judgments, ["ap@10", "recall@3", "ndcg@3"])
    assert all(float(v[0]) == 1.0 for v in ok.values())  # -1 (no document) may repeat


class _BrokenEncoder(TagEncoder):
    def __init__(self, value, kind):
        super().__init__()
        self.value, self.kind = value, kind

    def encode(self, texts, kind=None):
        out = super().encode(texts, kind)
        if kind == self.kind:
            out[1, 3] = self.value
        return out


@pytest.mark.parametrize(("value", "kind"), [(np.nan, "query"), (np.inf, "passage")])
def test_evaluate_refuses_non_finite_embeddings_naming_the_texts(tmp_path, value, kind):
    data = _write_data(tmp_path / "data")
    with pytest.raises(ValueError, match=f"non-finite embeddings for 1 of the .* {kind} texts"):
        evaluate(_BrokenEncoder(value, kind), "xquadr", data)


MEASURES = [("mrr@10", RR @ 10), ("ndcg@5", nDCG @ 5), ("recall@5", R @ 5), ("ap@10", AP @ 10)]


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_metrics_equal_trec_eval_on_random_runs_with_ties(data):
    """Random runs, scores on a coarse grid (many ties), trec_eval's tie order: equal to pytrec_eval."""
    n = data.draw(st.integers(1, 6), label="queries")
    m = data.draw(st.integers(1, 12), label="documents")
    levels = data.draw(st.integers(1, 4), label="distinct scores")
    scores = np.array(data.draw(st.lists(st.integers(0, levels), min_size=n * m, max_size=n * m)),
                      dtype=np.float64).reshape(n, m) / levels
    grades = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n * m, max_size=n * m))).reshape(n, m)
    ids = [f"d{j}" for j in range(m)]
    _, retrieved = top_k(scores, m, tie_rank=trec_tie_rank(ids))
    ours = M.evaluate_ranking(retrieved, M.RelevanceJudgments.from_dense(grades), [p[0] for p in MEASURES])
    qrels = [ir_measures.Qrel(str(q), ids[j], int(grades[q, j])) for q in range(n) for j in range(m)
             if grades[q, j] > 0]
    run = [ir_measures.ScoredDoc(str(q), ids[j], float(scores[q, j])) for q in range(n) for j in range(m)]
    reference: dict[str, dict[str, float]] = {}
    for metric in ir_measures.pytrec_eval.iter_calc([p[1] for p in MEASURES], qrels, run):
        reference.setdefault(str(metric.measure), {})[metric.query_id] = metric.value
    for name, measure in MEASURES:
        expected = [reference.get(str(measure), {}).get(str(q), 0.0) for q in range(n)]
        np.testing.assert_allclose(ours[name], expected, atol=1e-12, err_msg=name)
    # a duplicate in the run is refused, a NaN score too
    if m > 1:
        doubled = retrieved.copy()
        doubled[0, 1] = doubled[0, 0]
        with pytest.raises(ValueError, match="more than once"):
            M.evaluate_ranking(doubled, M.RelevanceJudgments.from_dense(grades), ["ap@10"])
    scores[0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        top_k(scores, m)
