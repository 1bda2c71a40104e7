"""Issue 21.3: what the evaluation writes is valid JSON: an undefined value is null (None), never NaN."""

from __future__ import annotations

import json

from xcs.evaluation.report import headline_metrics
from xcs.evaluation.tasks import _mean


def test_an_average_over_nothing_is_none():
    """CLIR with a single language has no pair: its average used to be NaN in metrics.json."""
    assert _mean([]) is None and _mean([0.5, 1.0]) == 0.75
    metrics = {"clir": {"mrr@10": _mean([]), "by_pair": {}}, "moir": {"mrr@10": 0.5}}
    json.dumps(metrics, allow_nan=False)
    assert headline_metrics(metrics) == {"MoIR": 0.5}  # the undefined column is left out


def test_compare_writes_no_infinite_t(tmp_path, monkeypatch):
    """Equal non-zero differences give t = +-inf (no spread): ``xcs compare --json`` printed Infinity."""
    import numpy as np

    from xcs.evaluation import compare

    scores = {"MoIR": np.array([0.5, 0.25, 1.0])}
    monkeypatch.setattr(compare, "load_per_query", lambda run: {k: v + (0.125 if run == "a" else 0.0)
                                                                for k, v in scores.items()})
    monkeypatch.setattr(compare, "_check_paired", lambda *args: None)
    row, = compare.compare_runs("a", "b", permutations=10)
    assert row["t"] is None and row["p_t"] == 0.0
    json.dumps(row, allow_nan=False)
