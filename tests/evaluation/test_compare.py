"""xcs compare pairs runs by recorded query id, not by position (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest
from test_evaluation import TagEncoder, _write_data

from xcs.evaluation.compare import compare_runs
from xcs.evaluation.report import load_per_query, load_query_ids
from xcs.evaluation.suite import evaluate


@pytest.fixture()
def data(tmp_path):
    return _write_data(tmp_path / "data")


def test_same_count_different_queries_is_refused(data, tmp_path):
    runs = {}
    for seed in range(6):  # find two subsample seeds that pick different questions
        out = tmp_path / f"seed{seed}"
        evaluate(TagEncoder(noise=1.0), "xquadr,tatoeba", data, out, subsample=2, seed=seed,
                 tatoeba_languages=["de"])
        runs.setdefault(tuple(load_query_ids(out)["MoIR"]), out)
    assert len(runs) > 1
    a, b = list(runs.values())[:2]
    assert load_per_query(a)["MoIR"].shape == load_per_query(b)["MoIR"].shape
    with pytest.raises(ValueError, match=r"column MoIR: the runs score different queries"):
        compare_runs(a, b, permutations=10)
    rows = compare_runs(a, a, permutations=10)
    assert {r["column"] for r in rows} >= {"MoIR", "CLIR", "MLIR", "Tatoeba"}


def test_query_ids_line_up_with_scores(data, tmp_path):
    evaluate(TagEncoder(), "lareqa,xquadr,tatoeba", data, tmp_path / "run", tatoeba_languages=["de", "ru"])
    scores, ids = load_per_query(tmp_path / "run"), load_query_ids(tmp_path / "run")
    assert set(scores) == set(ids)
    for column in scores:
        assert ids[column].shape == scores[column].shape and ids[column].dtype.kind == "U"
    assert len(set(ids["LAReQA"])) == len(ids["LAReQA"])  # language-qualified question ids


def test_runs_without_ids_warn_and_pair_by_position(data, tmp_path):
    for name in ("a", "b"):
        evaluate(TagEncoder(noise=float(name == "b")), "xquadr", data, tmp_path / name)
    (tmp_path / "a" / "query_ids.npz").unlink()
    with pytest.warns(UserWarning, match="records no query ids"):
        rows = compare_runs(tmp_path / "a", tmp_path / "b", permutations=10)
    assert rows and np.isfinite(rows[0]["p_t"])


def test_corrupt_per_query_file_names_the_path(data, tmp_path):
    evaluate(TagEncoder(), "xquadr", data, tmp_path / "a")
    (tmp_path / "a" / "per_query.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"per_query.npz is not a readable .npz file"):
        load_per_query(tmp_path / "a")
