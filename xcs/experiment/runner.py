"""The experiment runner: methods x seeds -> train -> evaluate -> summary, table, plots.

A config (TOML, see ``configs/quick.toml`` and :mod:`xcs.experiment.config`) names the model, the
training data, the training hyper-parameters (``[train]``, fields of
:class:`xcs.training.config.TrainConfig`), the evaluation (``[eval]``) and the methods
(``[methods.NAME]``, fields of :class:`xcs.experiment.methods.Method`; a ``p_sweep = [...]`` list
expands one method into one per switch rate, named ``NAME@p=P``).

Layout of a run ``results/NAME/``::

    config.toml            the config as run
    runs/METHOD/seedS/     run.json (status, wall times, losses), metrics.json (the evaluation;
                           both record the package versions under "environment") and
                           per_query.npz (the evaluation's per-query scores, ~200 KB, so that a
                           later summary can re-run its tests)
    summary.json           method -> setting -> metric: mean, std, per-seed values and two tests
                           vs the baseline and the reference, Bonferroni-corrected: over the seeds'
                           means (the training run as unit; it decides significance) and over
                           per-query scores (see xcs.experiment.summary)
    table.md               the paper's layout: rows methods, columns MoIR / CLIR / MLIR averages,
                           the chosen CLIR pairs, LAReQA mAP@20, Tatoeba acc@1; significance marks
    pairs.png, p_sweep.png per-pair bars; MRR@10 against p (when the config sweeps p)

Models, checkpoints and the evaluations' other outputs go to the work directory (``--work-dir``, default
``xcs.io.paths.cache_dir()/experiments/NAME``): large, not for git. A run whose ``run.json`` says
``done`` is skipped on re-run; an interrupted one resumes from its last checkpoint.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from xcs.experiment.config import ExperimentConfig
from xcs.experiment.data import training_pairs
from xcs.experiment.methods import Method, legacy_method_record, strategy_of
from xcs.experiment.paths import run_paths
from xcs.experiment.report import markdown_table, plots, rerank_table
from xcs.experiment.runs import RunContext, reused_by_others
from xcs.experiment.summary import summarize, summarize_rerank
from xcs.io.atomic import atomic_path, write_json_atomic, write_text_atomic
from xcs.io.paths import read_json
from xcs.io.versions import versions
from xcs.switching.recipe import SWITCHER_ONLY_FIELDS
from xcs.training.config import LEGACY_TRAIN_VALUES


# ------------------------------------------------------------------------------------ one run
def _evaluate(encoder: Any, config: ExperimentConfig, data_dir: Path, out_dir: Path,
              results_dir: Path) -> dict[str, Any]:
    """The config's evaluation into ``out_dir``; its per-query scores are also copied to
    ``results_dir`` (about 200 KB), so that any later summary can re-run its tests."""
    from xcs.evaluation.suite import evaluate

    metrics = evaluate(encoder, tasks=config.tasks, data_dir=data_dir, out_dir=out_dir,
                       **config.eval.suite_keywords())
    with atomic_path(results_dir / "per_query.npz") as tmp:
        shutil.copyfile(out_dir / "per_query.npz", tmp)
    return metrics


def _comparable(value: Any) -> Any:
    """``value`` as JSON would store it, every number a float: a setting read back from ``run.json``
    equals the live one (tuples vs lists, ``1`` vs ``1.0``)."""
    def normalise(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: normalise(x) for k, x in v.items()}
        if isinstance(v, list):
            return [normalise(x) for x in v]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        return v

    return normalise(json.loads(json.dumps(value, default=str)))


# Keys that do not change what a run computes: how often it checkpoints (resuming ignores it too),
# and the method's name (the run directory is already named after it; a run copied from a method of
# another name with the same settings, e.g. ml-cs -> ml-cs@p=0.5, is the same run).
_RESULT_NEUTRAL_TRAIN_KEYS = {"checkpoint_every"}
_RESULT_NEUTRAL_METHOD_KEYS = {"name", "control"}  # control: which row the summary tests against


def check_finished_run(record: Mapping[str, Any], config: ExperimentConfig, method: Method, seed: int,
                       run_dir: Path) -> None:
    """A ValueError naming ``run_dir`` and the differing keys when the finished run ``record`` was
    made with another method, model or training config than the current ones."""
    saved_method = _comparable(legacy_method_record(record.get("method", {})))
    current_method = _comparable(method.record())
    # switch-quality options cannot change a run that switches nothing
    neutral = _RESULT_NEUTRAL_METHOD_KEYS | (set() if strategy_of(method).switches else SWITCHER_ONLY_FIELDS)
    differing = [f"method.{k}" for k in sorted(set(saved_method) | set(current_method))
                 if k not in neutral and saved_method.get(k) != current_method.get(k)]
    if "model" in record and record["model"] != config.model:
        differing.append("model")
    saved_train = record.get("train", {}).get("config")
    if saved_train is not None and strategy_of(method).reads_pairs:
        saved = _comparable({**LEGACY_TRAIN_VALUES, **saved_train})
        current = _comparable(asdict(config.train_config(method, seed)))
        differing += [f"train.{k}" for k in sorted(set(saved) | set(current))
                      if k not in _RESULT_NEUTRAL_TRAIN_KEYS and saved.get(k) != current.get(k)]
    if differing:
        raise ValueError(f"{run_dir}: this finished run was made with other settings "
                         f"({', '.join(differing)}); rename the method or move the run away to run it again")


def run_one(config: ExperimentConfig, method: Method, seed: int, *, results_dir: Path, work_dir: Path,
            data_dir: Path, pairs: Sequence[Any], progress: bool = True) -> dict[str, Any]:
    """Train (if the method trains) and evaluate one (method, seed); write ``run.json`` and
    ``metrics.json`` under ``results_dir/runs/METHOD/seedS``. Skips a run already marked done
    (after checking it was made with the same settings: :func:`check_finished_run`)."""
    from xcs.training.devices import resolve_device

    paths = run_paths(results_dir, work_dir, method.name, seed)
    record_path = paths.results / "run.json"
    if record_path.exists():
        record = read_json(record_path, "run record")
        if record.get("status") == "done":
            check_finished_run(record, config, method, seed, paths.results)
            strategy = strategy_of(method)
            if strategy.trains and reused_by_others(config, method) and not paths.model.exists():
                # a run finished on another machine (its results committed, its model not): a later
                # row reuses the model, so train it again here (same seed, data and settings) without
                # evaluating it again; its record and metrics stay those of the run that made them
                paths.work.mkdir(parents=True, exist_ok=True)
                print(f"[xcs experiment] {method.name} seed {seed}: done, retraining its model for reuse",
                      file=sys.stderr, flush=True)
                strategy.execute(RunContext(config, method, seed, paths, work_dir, data_dir, pairs, progress,
                                        resolve_device(config.device), {**record}))
            return record
    paths.results.mkdir(parents=True, exist_ok=True)
    paths.work.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"method": method.record(), "seed": seed, "model": config.model,
                              "status": "running", "command": " ".join(sys.argv), "environment": versions()}
    began = time.perf_counter()
    strategy = strategy_of(method)
    context = RunContext(config, method, seed, paths, work_dir, data_dir, pairs, progress,
                         resolve_device(config.device), record)
    evaluated = strategy.execute(context)
    trained_s = (context.trained_at or time.perf_counter()) - began
    if evaluated is not None and method.evaluate:
        metrics = _evaluate(evaluated, config, data_dir, paths.evaluation, paths.results)
        write_json_atomic({**metrics, "environment": record["environment"]}, paths.results / "metrics.json")
    record.update(status="done", train_wall_s=trained_s, eval_wall_s=time.perf_counter() - began - trained_s,
                  wall_s=time.perf_counter() - began)
    record.setdefault("description", getattr(evaluated, "description", ""))
    write_json_atomic(record, record_path)
    return record


# -------------------------------------------------------------------------------- summarising
def run_order(config: ExperimentConfig, methods: Sequence[str] | None = None) -> list[str]:
    """The methods to run within a seed, in order: ``methods`` (default all) and the baseline. An
    interpolation needs its base's model, so the bases named come first (also when ``methods``
    leaves them out), then the baseline (translate-test and rerank need its model), the others, the
    interpolations last."""
    chosen = [config.baseline] + [m for m in config.methods
                                  if m != config.baseline and (methods is None or m in methods)]
    named = {config.methods[m].base for m in chosen}
    first = [m for m in config.methods if m in named]
    first += [config.baseline] if config.baseline not in first else []
    rest = [m for m in chosen if m not in first]
    return first + [m for m in rest if not strategy_of(config.methods[m]).interpolates] + [
        m for m in rest if strategy_of(config.methods[m]).interpolates]


def run_experiment(config: ExperimentConfig, *, results_dir: Path, work_dir: Path, data_dir: Path,
                   progress: bool = True, config_text: str | None = None,
                   seeds: Sequence[int] | None = None,
                   methods: Sequence[str] | None = None) -> dict[str, Any]:
    """Every seed x method, then the summary. Seed-major, so that a run cut short has every method
    for its first seeds; within a seed in :func:`run_order`. The off-the-shelf model does not depend
    on the seed and is evaluated once. ``seeds``
    (default: the config's) and ``methods`` (names; default: all, the baseline always included) pick
    the runs to do now; the summary covers every finished run of the config."""
    config.check_selection(seeds, methods)
    results_dir.mkdir(parents=True, exist_ok=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    if config_text is not None:
        write_text_atomic(config_text, results_dir / "config.toml")
    began = time.perf_counter()
    pairs = None
    order = run_order(config, methods)
    walls = {}
    for seed in config.seeds if seeds is None else seeds:
        for name in order:
            method = config.methods[name]
            if strategy_of(method).seed_independent and seed != config.seeds[0]:
                continue
            if strategy_of(method).reads_pairs and pairs is None:
                pairs = training_pairs(data_dir, config.data)
            print(f"[xcs experiment] {name} seed {seed}", file=sys.stderr, flush=True)
            record = run_one(config, method, seed, results_dir=results_dir, work_dir=work_dir,
                             data_dir=data_dir, pairs=pairs or [], progress=progress)
            walls[f"{name}/seed{seed}"] = record.get("wall_s")
    summary = summarize(config, results_dir, work_dir)
    summary["rerank"] = summarize_rerank(config, results_dir, work_dir)
    summary["wall_s_this_invocation"] = time.perf_counter() - began
    summary["run_wall_s"] = walls
    summary["environment"] = versions()
    write_json_atomic(summary, results_dir / "summary.json")
    table = markdown_table(summary) + rerank_table(summary["rerank"])
    write_text_atomic(f"# {config.name}\n\nModel: {config.model}\n\n" + table, results_dir / "table.md")
    untouched = next((name for name, m in config.methods.items() if strategy_of(m).seed_independent), None)
    plots(summary, results_dir, config.pairs, untouched)
    return summary
