"""Every finished run of a config summarised: means, stds, per-seed values and paired tests against
the baseline (per-query scores averaged over the seeds both share, Bonferroni-corrected)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xcs.evaluation.report import headline_metrics
from xcs.evaluation.significance import bonferroni, paired_t_test
from xcs.experiment.config import ExperimentConfig
from xcs.io.paths import read_json


def summarize_rerank(config: ExperimentConfig, results_dir: Path, work_dir: Path) -> dict[str, Any]:
    """MRR@10 before / after reranking per pair (mean over seeds), with the paired t-test of after vs
    before on per-query scores averaged over seeds."""
    out: dict[str, Any] = {}
    for name, method in config.methods.items():
        if method.strategy != "rerank":
            continue
        files = {s: results_dir / "runs" / name / f"seed{s}" / "rerank.json" for s in config.seeds}
        seeds = [s for s, path in files.items() if path.exists()]
        if not seeds:
            continue
        runs = [read_json(files[s], "run record") for s in seeds]
        scores = []
        for s in seeds:
            path = work_dir / name / f"seed{s}" / "rerank_per_query.npz"
            if not path.exists():
                break
            with np.load(path, allow_pickle=False) as stored:  # never unpickles an object array
                scores.append({key: stored[key] for key in stored.files})
        if len(scores) < len(seeds):  # per-query scores not on this machine: the recorded tests
            earlier = _earlier_summary(results_dir).get("rerank", {}).get(name, {})
            if earlier and all(cell.get("seeds") == seeds for cell in earlier.values()):
                out[name] = {pair: {**cell, "p_source": "summary.json"} for pair, cell in earlier.items()}
            continue
        entry = {}
        for pair in runs[0]["by_pair"]:
            before = np.mean([sc[f"before/{pair}"] for sc in scores], axis=0)
            after = np.mean([sc[f"after/{pair}"] for sc in scores], axis=0)
            test = paired_t_test(after, before)
            entry[pair] = {"before": float(before.mean()), "after": float(after.mean()),
                           "p_value": test.p_value,
                           "p_bonferroni": float(bonferroni([test.p_value], len(runs[0]["by_pair"]))[0]),
                           "seeds": seeds, "k": runs[0]["k"]}
        out[name] = entry
    return out


def per_query(work_dir: Path, method: str, seed: int, pairs: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-query scores of one run, keyed like :func:`xcs.evaluation.report.headline_metrics`'s columns."""
    from xcs.evaluation.report import load_per_query

    return load_per_query(work_dir / method / f"seed{seed}" / "eval", pairs)


def summarize(config: ExperimentConfig, results_dir: Path, work_dir: Path) -> dict[str, Any]:
    """Collect every finished run: the content of ``summary.json`` (means, stds, per-seed values,
    p-values; :func:`run_experiment` adds the reranker part and writes it)."""
    columns: dict[str, dict[str, dict[str, float]]] = {}
    runs: dict[str, dict[int, dict[str, Any]]] = {}
    for name, method in config.methods.items():
        if method.strategy == "rerank":
            continue
        for seed in config.seeds:
            metrics_path = results_dir / "runs" / name / f"seed{seed}" / "metrics.json"
            if metrics_path.exists():
                runs.setdefault(name, {})[seed] = read_json(metrics_path, "metrics file")
    for name, by_seed in runs.items():
        columns[name] = {str(s): headline_metrics(m, config.pairs) for s, m in by_seed.items()}

    # per-query scores averaged over the seeds both methods share, then paired t-tests against the
    # baseline (and the reference), Bonferroni over every test of the table
    against = [config.baseline] + ([config.reference] if config.reference else [])
    comparisons = [(name, col) for name in runs for col in next(iter(columns[name].values()))]
    n_tests = max(1, sum(name != other for name, _ in comparisons for other in against))
    summary: dict[str, Any] = {"name": config.name, "baseline": config.baseline, "model": config.model,
                               "seeds": config.seeds, "tests": "paired t-test on per-query scores "
                               "(averaged over shared seeds), Bonferroni x" + str(n_tests), "methods": {}}
    if config.reference:
        summary["reference"] = config.reference
    cache: dict[tuple[str, int], dict[str, np.ndarray]] = {}
    earlier = _earlier_summary(results_dir)

    def scores(name: str, seed: int) -> dict[str, np.ndarray]:
        if (name, seed) not in cache:
            cache[name, seed] = per_query(work_dir, name, seed, config.pairs)
        return cache[name, seed]

    def paired(name: str, other: str, col: str) -> dict[str, float] | None:
        """The test of ``name`` vs ``other`` on ``col``; a seed-independent ``other`` (the untouched
        model, evaluated once) is compared with ``name`` averaged over all its seeds."""
        if other not in runs:
            return None
        if config.methods[other].strategy == "off-the-shelf":
            mine, theirs = sorted(runs[name]), sorted(runs[other])
        else:
            mine = theirs = sorted(set(runs[other]) & set(runs[name]))
        if not mine or not theirs:
            return None
        try:
            a = np.mean([scores(name, s)[col] for s in mine], axis=0)
            b = np.mean([scores(other, s)[col] for s in theirs], axis=0)
        except (FileNotFoundError, KeyError):
            return recorded(name, other, col)
        p = float(paired_t_test(a, b).p_value)
        return {"p_value": p, "p_bonferroni": float(bonferroni([p], n_tests)[0]),
                "delta": float(a.mean() - b.mean())}

    def recorded(name: str, other: str, col: str) -> dict[str, Any] | None:
        """The test the earlier ``summary.json`` recorded, when this machine lacks the per-query scores
        (they live in the work directory, not the results) and both methods still have the same
        seeds: its p-value, corrected for this table's number of tests."""
        methods = earlier.get("methods", {})
        cell = methods.get(name, {}).get(col, {})
        test = (cell if other == earlier.get("baseline")
                else cell.get("vs_reference", {}) if other == earlier.get("reference") else {})
        same_runs = all(sorted(methods.get(m, {}).get(col, {}).get("seeds", {})) == sorted(map(str, runs[m]))
                        for m in (name, other))
        if "p_value" not in test or not same_runs:
            return None  # never tested, or the runs changed since
        return {"p_value": test["p_value"], "p_bonferroni": float(bonferroni([test["p_value"]], n_tests)[0]),
                "delta": test["delta"], "p_source": "summary.json"}

    for name, by_seed in columns.items():
        entry: dict[str, Any] = {}
        for col in next(iter(by_seed.values())):
            values = [by_seed[s][col] for s in sorted(by_seed)]
            cell: dict[str, Any] = {"mean": float(np.mean(values)), "std": float(np.std(values)),
                                    "seeds": {s: by_seed[s][col] for s in sorted(by_seed)}}
            if name != config.baseline:
                cell.update(paired(name, config.baseline, col) or {})
            if config.reference and name != config.reference:
                test = paired(name, config.reference, col)
                if test is not None:
                    cell["vs_reference"] = test
            entry[col] = cell
        summary["methods"][name] = entry
    return summary


def _earlier_summary(results_dir: Path) -> dict[str, Any]:
    """The ``summary.json`` an earlier invocation wrote (empty when there is none)."""
    path = results_dir / "summary.json"
    return read_json(path, "summary") if path.exists() else {}
