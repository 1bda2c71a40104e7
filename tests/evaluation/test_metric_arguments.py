"""Issue 21.8: the low-level metric functions and ``evaluate`` check their arguments: no float id
or cutoff is truncated, no bool or NaN grade is coerced, ``n_relevant`` below the relevant documents
shown (AP = 3.0) and ``mrr@0`` are refused, and ``evaluate(languages=[])`` names the argument."""

from __future__ import annotations

import numpy as np
import pytest

from xcs.evaluation import metrics as m
from xcs.evaluation.metrics import RelevanceJudgments

RANKED = np.array([[1.0, 1.0, 1.0, 0.0]])


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: m.reciprocal_rank(RANKED, 2.5), TypeError, "cutoff k must be an integer, got float 2.5"),
    (lambda: m.reciprocal_rank(RANKED, True), TypeError, "cutoff k must be an integer, got bool"),
    (lambda: m.recall(RANKED, np.array([3]), 0), ValueError, "cutoff k must be >= 1"),
    (lambda: m.ndcg(RANKED, RANKED, 1.0), TypeError, "cutoff k must be an integer"),
    (lambda: m.reciprocal_rank_from_scores(np.ones((1, 2)), np.ones((1, 2)), 1.5), TypeError,
     "cutoff k must be an integer"),
    # AP of 3 relevant documents shown over n_relevant = 1 was 3.0
    (lambda: m.average_precision(RANKED, np.array([1]), 4), ValueError,
     r"n_relevant\[0\] = 1, but ranked holds 3 relevant documents"),
    (lambda: m.lareqa_average_precision(RANKED, np.array([2]), 4), ValueError, r"n_relevant\[0\] = 2"),
    (lambda: m.recall(RANKED, np.array([1]), 4), ValueError, r"n_relevant\[0\] = 1"),
    (lambda: m.recall(RANKED, np.array([3.7]), 4), TypeError, "n_relevant must hold integer counts"),
    (lambda: m.reciprocal_rank(np.array([[np.nan, 1.0]])), ValueError, "ranked must hold finite grades"),
    (lambda: m.reciprocal_rank(np.array([[True, False]])), TypeError, "ranked must hold numeric"),
    (lambda: m.reciprocal_rank(np.array([["1", "0"]])), TypeError, "ranked must hold numeric"),
    (lambda: m.ndcg(RANKED, np.array([[np.nan, 1.0, 1.0, 1.0]]), 2), ValueError,
     "ideal_gains must hold finite"),
    (lambda: m.reciprocal_rank_from_scores(np.ones((1, 2)), np.array([[np.nan, 1.0]])), ValueError,
     "relevance must hold finite grades"),
    (lambda: RelevanceJudgments.from_lists([[1.5, 2]]), TypeError, r"judgments\[0\]: document index 1.5"),
    (lambda: RelevanceJudgments.from_lists([[True]]), TypeError, "document index True is not an integer"),
    (lambda: RelevanceJudgments.from_lists([[-3]]), ValueError, "negative document index -3"),
    (lambda: RelevanceJudgments.from_lists([{0: float("nan")}]), ValueError, "grade of document 0 is nan"),
    (lambda: RelevanceJudgments.from_lists([{0: "2"}]), TypeError, "grade of document 0 must be a number"),
    (lambda: RelevanceJudgments.from_lists([{0: True}]), TypeError, "must be a number, got bool"),
    (lambda: RelevanceJudgments.from_lists(["01"]), TypeError, r"judgments\[0\] must be a list"),
    (lambda: RelevanceJudgments.from_dense(np.array([[np.nan, 1.0]])), ValueError,
     "relevance must hold finite"),
    (lambda: m.ranked_grades(np.array([[0.0, 1.9]]), RelevanceJudgments.from_lists([[1]])), TypeError,
     "retrieved must hold integer document indices, got dtype float64"),
    (lambda: m.ranked_grades(np.array([[0, -2]]), RelevanceJudgments.from_lists([[1]])), ValueError,
     r"retrieved must hold document indices >= 0 \(or -1 for no document\), got -2"),
    (lambda: m.parse_metric("mrr@0"), ValueError, "unknown metric 'mrr@0'"),
    (lambda: m.parse_metric(10), TypeError, "a metric name must be a string"),
    (lambda: m.evaluate_ranking(np.array([[0]]), RelevanceJudgments.from_lists([[0]]), "mrr@10"), TypeError,
     "metrics must be a list of metric names"),
])
def test_metric_arguments_are_checked(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_valid_edge_inputs_still_work():
    assert m.average_precision(RANKED, np.array([3], dtype=np.int32), 4).tolist() == [1.0]
    assert m.reciprocal_rank(np.array([[0, 2]], dtype=np.int64), np.int64(2)).tolist() == [0.5]
    judged = RelevanceJudgments.from_lists([{np.int64(1): 2}, [0, 3]])
    assert judged.doc_index.tolist() == [1, 0, 3] and judged.grade.tolist() == [2.0, 1.0, 1.0]
    grades = m.ranked_grades(np.array([[1, -1], [3, 0]], dtype=np.int32), judged)
    assert grades.tolist() == [[2.0, 0.0], [1.0, 1.0]]
    assert m.ranked_grades(np.zeros((2, 0)), judged).shape == (2, 0)  # an empty run


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"languages": []}, ValueError, "languages is empty"),  # was an internal "need at least one array"
    ({"tatoeba_languages": []}, ValueError, "tatoeba_languages is empty"),  # skipped Tatoeba silently
    ({"languages": "de"}, TypeError, "languages must be a list of language codes, got one string"),
    ({"languages": ["de", 3]}, TypeError, "languages must hold language codes"),
    ({"subsample": True}, TypeError, "subsample must be an integer, got bool"),
    ({"subsample": 2.5}, TypeError, "subsample must be an integer, got float"),
    ({"subsample": 0}, ValueError, "subsample must be >= 1"),
    ({"seed": 1.5}, TypeError, "seed must be an integer"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
    ({"split": "train"}, ValueError, "split must be one of"),
    ({"tatoeba_kind": 3}, TypeError, "tatoeba_kind must be a string"),
    ({"tasks": 5}, TypeError, "tasks must be a comma list or a list of task names"),
    ({"tasks": ["lareqa", None]}, TypeError, "tasks must be a comma list"),
])
def test_evaluate_checks_its_options(tmp_path, kwargs, error, message):
    from test_evaluation import TagEncoder, _write_data  # the same directory (rootdir importmode)

    from xcs.evaluation.suite import evaluate

    data = _write_data(tmp_path / "data")
    kwargs = {"tasks": "xquadr,tatoeba", **kwargs}
    with pytest.raises(error, match=message):
        evaluate(TagEncoder(), kwargs.pop("tasks"), data, None, **kwargs)
    assert not (tmp_path / "out").exists()
