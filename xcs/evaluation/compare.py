"""Paired comparison of two evaluated runs (``xcs eval`` output directories), column by column."""

from __future__ import annotations

from pathlib import Path

from xcs.evaluation.report import load_per_query
from xcs.evaluation.significance import bonferroni, paired_randomization_test, paired_t_test


def compare_runs(run_a: str | Path, run_b: str | Path, *, permutations: int = 10_000) -> list[dict]:
    """Paired t-test (Bonferroni over all columns compared) and randomisation test per headline
    column shared by two runs; raises when the runs' per-query scores do not line up."""

    a, b = load_per_query(run_a), load_per_query(run_b)
    columns = [c for c in a if c in b]
    if not columns:
        raise ValueError(f"{run_a} and {run_b} share no evaluated column")
    for column in columns:
        if a[column].shape != b[column].shape:
            raise ValueError(f"column {column}: {len(a[column])} queries in {run_a} but {len(b[column])} in "
                             f"{run_b}; compare runs made on the same data and --subsample/--seed")
    rows = []
    for column in columns:
        t = paired_t_test(a[column], b[column])
        r = paired_randomization_test(a[column], b[column], n_permutations=permutations)
        rows.append({"column": column, "n": t.n, "mean_a": t.mean_a, "mean_b": t.mean_b, "delta": t.delta,
                     "t": t.statistic, "p_t": t.p_value, "p_randomization": r.p_value})
    for row, corrected in zip(rows, bonferroni([row["p_t"] for row in rows]), strict=True):
        row["p_t_bonferroni"] = float(corrected)
    return rows
