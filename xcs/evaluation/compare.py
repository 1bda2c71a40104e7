"""Paired comparison of two evaluated runs (``xcs eval`` output directories), column by column."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from xcs.evaluation.report import load_per_query, load_query_ids
from xcs.evaluation.significance import bonferroni, paired_randomization_test, paired_t_test


def _check_paired(run_a: str | Path, run_b: str | Path, columns: list[str], a: dict, b: dict) -> None:
    """The paired tests need the same queries in the same order: compare the recorded query ids (runs
    from before ids were recorded: the counts only, with a warning)."""
    ids_a, ids_b = load_query_ids(run_a), load_query_ids(run_b)
    for column in columns:
        if a[column].shape != b[column].shape:
            raise ValueError(f"column {column}: {len(a[column])} queries in {run_a} but {len(b[column])} in "
                             f"{run_b}; compare runs made on the same data and --subsample/--seed")
    if ids_a is None or ids_b is None:
        old = run_a if ids_a is None else run_b
        warnings.warn(f"{old} records no query ids (written by an older xcs): the runs are paired by "
                      "position only; re-run `xcs eval` to check they cover the same queries", stacklevel=3)
        return
    for column in columns:
        if column not in ids_a or column not in ids_b:
            missing = run_a if column not in ids_a else run_b
            raise ValueError(f"column {column}: query ids missing in {missing}")
        differ = np.flatnonzero(ids_a[column] != ids_b[column])
        if differ.size:
            i = int(differ[0])
            raise ValueError(
                f"column {column}: the runs score different queries ({differ.size} of {len(ids_a[column])} "
                f"positions differ, first at {i}: {ids_a[column][i]!r} in {run_a} vs {ids_b[column][i]!r} "
                f"in {run_b}); compare runs made on the same data and --subsample/--seed")


def compare_runs(run_a: str | Path, run_b: str | Path, *, permutations: int = 10_000) -> list[dict]:
    """Paired t-test (Bonferroni over all columns compared) and randomisation test of run A against
    run B (the baseline) per headline column both runs have; raises when the runs did not score the
    same queries (by recorded query id)."""
    a, b = load_per_query(run_a), load_per_query(run_b)
    columns = [c for c in a if c in b]
    if not columns:
        raise ValueError(f"{run_a} and {run_b} share no evaluated column")
    _check_paired(run_a, run_b, columns, a, b)
    rows = []
    for column in columns:
        t = paired_t_test(a[column], b[column])
        r = paired_randomization_test(a[column], b[column], n_permutations=permutations)
        rows.append({"column": column, "n": t.n, "mean_a": t.mean_a, "mean_b": t.mean_b, "delta": t.delta,
                     "t": t.statistic if np.isfinite(t.statistic) else None,  # +-inf: no spread
                     "p_t": t.p_value, "p_randomization": r.p_value})
    for row, corrected in zip(rows, bonferroni([row["p_t"] for row in rows]), strict=True):
        row["p_t_bonferroni"] = float(corrected)
    return rows
