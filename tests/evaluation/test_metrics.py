"""xcs.evaluation.metrics against ir_measures / trec_eval, ties included, and the LAReQA mAP@k definition."""

from __future__ import annotations

import ir_measures
import numpy as np
import pytest
from ir_measures import AP, RR, R, nDCG

from xcs.evaluation import metrics as M
from xcs.evaluation.ranking import trec_tie_rank
from xcs.evaluation.retrieval import top_k


def _random_run(seed: int, n: int = 60, m: int = 40, ties: bool = False):
    rng = np.random.default_rng(seed)
    scores = rng.random((n, m))
    if ties:
        scores = np.round(scores * 4) / 4  # five distinct values: many ties
    grades = (rng.random((n, m)) < 0.12) * rng.integers(1, 4, (n, m))
    grades[0] = 0  # one query without relevant documents
    return scores, grades


def _reference(scores, grades, doc_ids, measures, provider=None):
    n, m = scores.shape
    qrels = [ir_measures.Qrel(str(q), doc_ids[j], int(grades[q, j]))
             for q in range(n) for j in range(m) if grades[q, j] > 0]
    run = [ir_measures.ScoredDoc(str(q), doc_ids[j], float(scores[q, j])) for q in range(n) for j in range(m)]
    calc = provider.iter_calc if provider is not None else ir_measures.iter_calc
    values: dict[str, dict[str, float]] = {}
    for metric in calc(measures, qrels, run):
        values.setdefault(str(metric.measure), {})[metric.query_id] = metric.value
    return {name: np.array([v.get(str(q), 0.0) for q in range(n)]) for name, v in values.items()}


PAIRS = [("mrr@10", RR @ 10), ("ndcg@10", nDCG @ 10), ("recall@5", R @ 5), ("recall@20", R @ 20),
         ("ap@10", AP @ 10), ("ap@40", AP @ 40)]


@pytest.mark.parametrize("seed", [0, 1])
def test_equal_to_ir_measures_without_ties(seed):
    scores, grades = _random_run(seed)
    ids = [f"doc{j}" for j in range(scores.shape[1])]
    _, retrieved = top_k(scores, scores.shape[1])
    ours = M.evaluate_ranking(retrieved, M.RelevanceJudgments.from_dense(grades), [p[0] for p in PAIRS])
    ref = _reference(scores, grades, ids, [p[1] for p in PAIRS])
    for name, measure in PAIRS:
        np.testing.assert_allclose(ours[name], ref[str(measure)], atol=1e-12, err_msg=name)


def test_ties_follow_trec_eval():
    """With tied scores, ranking with trec_tie_rank reproduces trec_eval (pytrec_eval) exactly."""
    scores, grades = _random_run(2, ties=True)
    ids = [f"d{j}" for j in range(scores.shape[1])]  # string order differs from the column order
    _, retrieved = top_k(scores, scores.shape[1], tie_rank=trec_tie_rank(ids))
    judgments = M.RelevanceJudgments.from_dense(grades)
    ours = M.evaluate_ranking(retrieved, judgments, ["ndcg@10", "recall@5", "ap@10", "mrr@40"])
    trec = ir_measures.pytrec_eval
    ref = _reference(scores, grades, ids, [nDCG @ 10, R @ 5, AP @ 10, RR], provider=trec)
    for name, measure in [("ndcg@10", nDCG @ 10), ("recall@5", R @ 5), ("ap@10", AP @ 10), ("mrr@40", RR)]:
        np.testing.assert_allclose(ours[name], ref[str(measure)], atol=1e-12, err_msg=name)
    # the default (column-index) tie order gives different numbers on this run: ties matter
    _, stable = top_k(scores, scores.shape[1])
    assert not np.allclose(M.evaluate_ranking(stable, judgments, ["ndcg@10"])["ndcg@10"], ours["ndcg@10"])


def test_reciprocal_rank_from_scores_matches_sorted_path():
    scores, grades = _random_run(3, ties=True)
    for tie_rank in (None, trec_tie_rank([f"d{j}" for j in range(scores.shape[1])])):
        _, retrieved = top_k(scores, scores.shape[1], tie_rank=tie_rank)
        expected = M.reciprocal_rank(M.ranked_grades(retrieved, M.RelevanceJudgments.from_dense(grades)), 10)
        np.testing.assert_array_equal(M.reciprocal_rank_from_scores(scores, grades, 10, tie_rank=tie_rank),
                                      expected)


def test_lareqa_map_divides_by_min_relevant_and_k():
    # 3 relevant documents, cutoff 2: hits at ranks 1 and 2 -> (1 + 1) / min(3, 2) = 1.0
    ranked = np.array([[1.0, 1.0, 0.0, 1.0]])
    n_relevant = np.array([3])
    assert M.lareqa_average_precision(ranked, n_relevant, 2)[0] == pytest.approx(1.0)
    assert M.average_precision(ranked, n_relevant, 2)[0] == pytest.approx(2 / 3)
    # LAReQA worked example: relevant at ranks 2 and 5 of 11 relevant, k = 20
    ranked = np.zeros((1, 20))
    ranked[0, [1, 4]] = 1
    assert M.lareqa_average_precision(ranked, np.array([11]), 20)[0] == pytest.approx((1 / 2 + 2 / 5) / 11)


def test_accuracy_and_judgments_helpers():
    judgments = M.RelevanceJudgments.from_lists([[3, 1], {0: 2.0, 5: 0.0}, []])
    assert judgments.n_relevant.tolist() == [2, 1, 0]
    retrieved = np.array([[1, 2], [5, 0], [-1, -1]])
    ranked = M.ranked_grades(retrieved, judgments)
    assert ranked.tolist() == [[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]
    assert M.accuracy_at_1(ranked).tolist() == [1.0, 0.0, 0.0]
    assert M.reciprocal_rank(ranked, 10).tolist() == [1.0, 0.5, 0.0]
    np.testing.assert_array_equal(judgments.ideal_gains(3), [[1, 1, 0], [2, 0, 0], [0, 0, 0]])


def test_bad_input_is_reported():
    with pytest.raises(ValueError, match="judged twice"):
        M.RelevanceJudgments.from_lists([[1, 1]])
    with pytest.raises(ValueError, match="unknown metric"):
        M.parse_metric("mrr10")
    with pytest.raises(ValueError, match="cutoff"):
        M.reciprocal_rank(np.zeros((1, 3)), 0)
    with pytest.raises(ValueError, match="retrieved"):
        M.ranked_grades(np.zeros((2, 3), dtype=np.int64), M.RelevanceJudgments.from_lists([[0]]))
