"""Every finished run of a config summarised: means, stds, per-seed values and two paired tests
against the baseline and the reference, both Bonferroni-corrected over the table's tests:

- the seed-level test (:func:`~xcs.evaluation.significance.seed_level_test`), whose unit is the
  training run: it alone decides what the table calls significant;
- the per-query t-test on per-query scores averaged over the seeds both share, which tests query
  sampling only (kept for comparison with the paper, which reports it)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xcs.evaluation.report import headline_metrics
from xcs.evaluation.significance import bonferroni, paired_t_test, seed_level_test
from xcs.experiment.config import ExperimentConfig, load_config
from xcs.experiment.methods import strategy_of
from xcs.experiment.paths import run_paths
from xcs.io.paths import read_json


def summarize_rerank(config: ExperimentConfig, results_dir: Path, work_dir: Path) -> dict[str, Any]:
    """MRR@10 before / after reranking per pair (mean over seeds), with the paired t-test of after vs
    before on per-query scores averaged over seeds."""
    out: dict[str, Any] = {}
    for name, method in config.methods.items():
        if not strategy_of(method).writes_own_result:
            continue
        files = {s: run_paths(results_dir, work_dir, name, s).results / "rerank.json" for s in config.seeds}
        seeds = [s for s, path in files.items() if path.exists()]
        if not seeds:
            continue
        runs = [read_json(files[s], "run record") for s in seeds]
        scores = []
        for s in seeds:
            path = run_paths(results_dir, work_dir, name, s).work / "rerank_per_query.npz"
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


TESTS = ("seed level: paired t-test over the seeds' means (unit: the training run; one-sample against the "
         "untouched model); per query: paired t-test on per-query scores averaged over shared seeds")
# what metrics.json files written before issue 22 call "mlir" (they have no "definition")
POOLED_MLIR = "pooled (before issue 22): LAReQA's pool of all languages scored by MRR@10"


def per_query(results_dir: Path, work_dir: Path, method: str, seed: int,
              pairs: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-query scores of one run, keyed like :func:`xcs.evaluation.report.headline_metrics`'s
    columns: the copy kept with the results, else the evaluation's own in the work directory."""
    from xcs.evaluation.report import load_per_query

    paths = run_paths(results_dir, work_dir, method, seed)
    if (paths.results / "per_query.npz").exists():
        return load_per_query(paths.results, pairs)
    return load_per_query(paths.evaluation, pairs)


def mlir_definition(runs: dict[str, dict[int, dict[str, Any]]]) -> str | None:
    """Which MLIR the runs' ``metrics.json`` report (None: no run has MLIR); ``ValueError`` when
    runs of one table disagree, as their MLIR columns would not be comparable."""
    found = {m["mlir"].get("definition", POOLED_MLIR) for by_seed in runs.values() for m in by_seed.values()
             if "mlir" in m}
    if len(found) > 1:
        raise ValueError(f"the runs report different MLIR measures ({sorted(found)}); re-evaluate the old "
                         "ones before summarising them together")
    return next(iter(found), None)


def summarize(config: ExperimentConfig, results_dir: Path, work_dir: Path) -> dict[str, Any]:
    """Collect every finished run: the content of ``summary.json`` (means, stds, per-seed values,
    p-values; :func:`run_experiment` adds the reranker part and writes it)."""
    columns: dict[str, dict[str, dict[str, float]]] = {}
    runs: dict[str, dict[int, dict[str, Any]]] = {}
    for name, method in config.methods.items():
        if strategy_of(method).writes_own_result:  # no metrics.json: summarised by summarize_rerank
            continue
        for seed in config.seeds:
            metrics_path = run_paths(results_dir, work_dir, name, seed).results / "metrics.json"
            if metrics_path.exists():
                runs.setdefault(name, {})[seed] = read_json(metrics_path, "metrics file")
    for name, by_seed in runs.items():
        columns[name] = {str(s): headline_metrics(m, config.pairs) for s, m in by_seed.items()}

    # two tests of each cell against its control (the baseline unless the method names one) and the
    # reference, Bonferroni over every test of the table: over the seeds' means (the training run as
    # the unit) and over per-query scores averaged over the seeds both share (the query as the unit)
    def controls(name: str) -> list[str]:
        """The rows ``name`` is tested against: its control (default the baseline), the reference."""
        control = config.methods[name].control or config.baseline
        return [other for other in (control, config.reference) if other is not None and other != name]

    # one test per unordered pair and column (the untouched row against the baseline is the same
    # comparison as the baseline against the untouched model)
    tested = {(frozenset((name, other)), col) for name in runs for col in next(iter(columns[name].values()))
              for other in controls(name) if other in runs}
    n_tests = max(1, len(tested))
    summary: dict[str, Any] = {"name": config.name, "baseline": config.baseline, "model": config.model,
                               "seeds": config.seeds, "tests": f"{TESTS}; Bonferroni x{n_tests}",
                               "n_tests": n_tests, "methods": {}}
    definition = mlir_definition(runs)
    if definition is not None:
        summary["mlir"] = definition
    if config.reference:
        summary["reference"] = config.reference
    cache: dict[tuple[str, int], dict[str, np.ndarray]] = {}
    earlier = _earlier_summary(results_dir)

    def scores(name: str, seed: int) -> dict[str, np.ndarray]:
        if (name, seed) not in cache:
            cache[name, seed] = per_query(results_dir, work_dir, name, seed, config.pairs)
        return cache[name, seed]

    def independent(name: str) -> bool:
        return strategy_of(config.methods[name]).seed_independent  # evaluated once

    def seed_sets(name: str, other: str) -> tuple[list[int], list[int]]:
        """The seeds of ``name`` and of ``other`` to compare: all of each when one side does not
        depend on the seed (the untouched model, evaluated once), else the seeds both have."""
        if independent(name) or independent(other):
            return sorted(runs[name]), sorted(runs[other])
        shared = sorted(set(runs[other]) & set(runs[name]))
        return shared, shared

    def seed_test(name: str, other: str, col: str) -> dict[str, Any]:
        """The seed-level test; only ``n_seeds`` with fewer than two trained seeds (no variance to
        test against). A seed-independent side enters as its one value (a one-sample test)."""
        mine, theirs = seed_sets(name, other)
        try:
            a = [columns[name][str(s)][col] for s in mine]
            b = [columns[other][str(s)][col] for s in theirs]
        except KeyError:
            return {}
        if independent(other):
            sign, trained, fixed = 1.0, a, b[0]
        elif independent(name):
            sign, trained, fixed = -1.0, b, a[0]
        else:
            sign, trained, fixed = 1.0, a, b
        if len(trained) < 2:
            return {"n_seeds": len(trained)}
        test = seed_level_test(trained, fixed)
        return {"p_seeds": test.p_value, "p_seeds_bonferroni": float(bonferroni([test.p_value], n_tests)[0]),
                "n_seeds": len(trained), "delta_seeds": sign * test.delta}

    def paired(name: str, other: str, col: str) -> dict[str, Any] | None:
        """Both tests of ``name`` vs ``other`` on ``col`` (the per-query one from the earlier
        ``summary.json`` when this machine lacks the per-query scores)."""
        if other not in runs:
            return None
        mine, theirs = seed_sets(name, other)
        if not mine or not theirs:
            return None
        seed_level = seed_test(name, other, col)
        try:
            a = np.mean([scores(name, s)[col] for s in mine], axis=0)
            b = np.mean([scores(other, s)[col] for s in theirs], axis=0)
        except (FileNotFoundError, KeyError):
            per_query_test = recorded(name, other, col)
            return {**per_query_test, **seed_level} if per_query_test or seed_level else None
        p = float(paired_t_test(a, b).p_value)
        return {"p_value": p, "p_bonferroni": float(bonferroni([p], n_tests)[0]),
                "delta": float(a.mean() - b.mean()), **seed_level}

    def recorded(name: str, other: str, col: str) -> dict[str, Any]:
        """The per-query test the earlier ``summary.json`` recorded, when this machine lacks the
        per-query scores and both methods still have the same seeds: its p-value, corrected for
        this table's number of tests (empty when there is none)."""
        methods = earlier.get("methods", {})
        cell = methods.get(name, {}).get(col, {})
        test = (cell if other == cell.get("control", earlier.get("baseline"))
                else cell.get("vs_reference", {}) if other == earlier.get("reference") else {})
        same_runs = all(sorted(methods.get(m, {}).get(col, {}).get("seeds", {})) == sorted(map(str, runs[m]))
                        for m in (name, other))
        if "p_value" not in test or not same_runs:
            return {}  # never tested, or the runs changed since
        return {"p_value": test["p_value"], "p_bonferroni": float(bonferroni([test["p_value"]], n_tests)[0]),
                "delta": test["delta"], "p_source": "summary.json"}

    for name, by_seed in columns.items():
        entry: dict[str, Any] = {}
        for col in next(iter(by_seed.values())):
            values = [by_seed[s][col] for s in sorted(by_seed)]
            cell: dict[str, Any] = {"mean": float(np.mean(values)), "std": float(np.std(values)),
                                    "seeds": {s: by_seed[s][col] for s in sorted(by_seed)}}
            control = config.methods[name].control or config.baseline
            if name != control:
                cell.update(paired(name, control, col) or {})
                if control != config.baseline:
                    cell["control"] = control
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


def learning_curve_points(results_dirs: Sequence[str | Path]) -> dict[int, dict[str, Any]]:
    """``{steps: summary}`` of experiments that differ in how long they train: each directory's
    ``summary.json`` (written by ``xcs experiment``) keyed by the training steps of its ``config.toml``.

    Refused with a message naming the directory: a missing or corrupt file, a config whose trained
    methods train for different numbers of steps, two directories with the same steps, and
    experiments of different models or MLIR measures (a curve varies the steps alone)."""
    points: dict[int, dict[str, Any]] = {}
    where: dict[int, Path] = {}
    models: dict[str, Path] = {}
    mlir: dict[str, Path] = {}
    for results_dir in map(Path, results_dirs):
        if not (results_dir / "config.toml").is_file():
            raise FileNotFoundError(f"{results_dir} has no config.toml: not the results of `xcs experiment`")
        config = load_config(results_dir / "config.toml")
        steps = config.trained_steps()
        if not steps:
            raise ValueError(f"{results_dir / 'config.toml'} trains no method: no point of a curve")
        if len(steps) != 1:
            raise ValueError(f"{results_dir / 'config.toml'}: its methods train for {sorted(steps)} steps; "
                             "a point of a learning curve trains every method equally long")
        (count,) = steps
        if count in points:
            raise ValueError(f"{where[count]} and {results_dir} both train for {count} steps")
        models.setdefault(config.model, results_dir)
        if len(models) > 1:
            named = ", ".join(f"{model!r} ({directory})" for model, directory in models.items())
            raise ValueError(f"the points train different models: {named}")
        points[count] = read_json(results_dir / "summary.json", "summary")
        where[count] = results_dir
        if "mlir" in points[count]:  # a point without MLIR agrees with any
            mlir.setdefault(points[count]["mlir"], results_dir)
        if len(mlir) > 1:
            raise ValueError("the points report different MLIR measures: "
                             + "; ".join(f"{directory}: {name}" for name, directory in mlir.items()))
    return dict(sorted(points.items()))
