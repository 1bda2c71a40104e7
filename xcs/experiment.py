"""``xcs experiment``: methods x seeds -> train -> evaluate -> significance -> summary, table, plots.

A config (TOML, see ``configs/quick.toml``) names the model, the training data, the training
hyper-parameters (``[train]``, fields of :class:`xcs.train.TrainConfig`), the evaluation
(``[eval]``) and the methods (``[methods.NAME]``, fields of :class:`xcs.methods.Method`; a
``p_sweep = [...]`` list expands one method into one per switch rate, named ``NAME@p=P``).

Layout of a run ``results/NAME/``::

    config.toml            the config as run
    runs/METHOD/seedS/     run.json (status, wall times, losses), metrics.json (the evaluation)
    summary.json           method -> setting -> metric: mean, std, per-seed values, p-value vs
                           the baseline (paired t-test on per-query scores, Bonferroni-corrected)
    table.md               the paper's layout: rows methods, columns MoIR / CLIR / MLIR averages,
                           the chosen CLIR pairs, LAReQA mAP@20, Tatoeba acc@1; significance marks
    pairs.png, p_sweep.png per-pair bars; MRR@10 against p (when the config sweeps p)

Models, checkpoints and per-query scores go to the work directory (``--work-dir``, default
``xcs.paths.cache_dir()/experiments/NAME``): large, not for git. A run whose ``run.json`` says
``done`` is skipped on re-run; an interrupted one resumes from its last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xcs.atomic import atomic_path, write_json_atomic, write_text_atomic

try:
    import tomllib
except ImportError:  # Python 3.10: the same parser as the tomli package
    import tomli as tomllib

if TYPE_CHECKING:  # torch-free at import time: `xcs --help` loads this module
    from xcs.methods import Method
    from xcs.train import TrainConfig

DEFAULT_TASKS = ("lareqa", "moir", "clir", "mlir", "tatoeba")
# The CLIR pairs the paper reports next to the averages.
PAPER_PAIRS = ("en-de", "en-ar", "en-ru", "de-ru", "ar-ru", "ar-de")


# ------------------------------------------------------------------------------------------ config
@dataclass
class ExperimentConfig:
    """A parsed experiment config (see the module docstring for the TOML layout)."""

    name: str
    methods: dict[str, Method]
    seeds: list[int] = field(default_factory=lambda: [0])
    model: str = "default"
    baseline: str = "zero-shot"
    train: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    eval: dict[str, Any] = field(default_factory=dict)
    keep_models: bool = True
    device: str = "auto"

    def train_config(self, method: Method, seed: int) -> TrainConfig:
        """The training settings of ``method`` at ``seed``: ``[train]``, overridden by the method's own
        ``train`` table, then ``seed`` and the method's ``align_weight`` (when non-zero)."""
        from xcs.train import TrainConfig

        values = {**self.train, **method.train, "seed": seed}
        if method.align_weight:
            values["align_weight"] = method.align_weight
        return TrainConfig.from_dict(values)

    @property
    def tasks(self) -> list[str]:
        return list(self.eval.get("tasks", DEFAULT_TASKS))

    @property
    def pairs(self) -> list[str]:
        return list(self.eval.get("pairs", PAPER_PAIRS))


_TOP_LEVEL = {"name", "seeds", "model", "baseline", "train", "data", "eval", "methods", "keep_models",
              "device"}
_DATA_KEYS = {"max_pairs", "max_query_length", "max_document_length", "hold_out_xquad"}
# [eval] keys the experiment reads itself; every other key is a keyword argument of evaluate()
_EVAL_OWN_KEYS = {"tasks", "pairs"}


def _check_eval_table(path: Path, table: Mapping[str, Any]) -> None:
    """Unknown ``[eval]`` keys and task names fail at load time, not after the first training run."""
    import inspect

    from xcs.evaluation import evaluate, resolve_tasks

    # the runner passes encoder, tasks, data_dir and out_dir itself; the keyword-only rest is the config's
    parameters = inspect.signature(evaluate).parameters
    known = _EVAL_OWN_KEYS | {name for name, parameter in parameters.items()
                              if parameter.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"{path}: unknown [eval] key(s) {unknown}; known: {sorted(known)}")
    if "tasks" in table:
        try:
            resolve_tasks(table["tasks"])
        except ValueError as exc:
            raise ValueError(f"{path}: [eval] tasks: {exc}") from None


def load_config(path: str | os.PathLike[str]) -> ExperimentConfig:
    """Parse and validate an experiment TOML; errors name the file and the offending key."""
    from xcs.methods import Method
    from xcs.train import check_device_name

    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: invalid TOML: {exc}") from None
    unknown = sorted(set(raw) - _TOP_LEVEL)
    if unknown:
        raise ValueError(f"{path}: unknown top-level key(s) {unknown}; known: {sorted(_TOP_LEVEL)}")
    bad_data = sorted(set(raw.get("data", {})) - _DATA_KEYS)
    if bad_data:
        raise ValueError(f"{path}: unknown [data] key(s) {bad_data}; known: {sorted(_DATA_KEYS)}")
    _check_eval_table(path, raw.get("eval", {}))
    try:
        device = check_device_name(raw.get("device", "auto"))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    if not raw.get("methods"):
        raise ValueError(f"{path}: no [methods.NAME] tables")
    methods: dict[str, Method] = {}
    for name, table in raw["methods"].items():
        table = dict(table)
        sweep = table.pop("p_sweep", None)
        try:
            if sweep is None:
                methods[name] = Method.from_dict(name, table)
            else:
                for p in sweep:
                    methods[f"{name}@p={p:g}"] = Method.from_dict(f"{name}@p={p:g}", {**table, "p": float(p)})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: [methods.{name}]: {exc}") from None
    config = ExperimentConfig(
        name=str(raw.get("name", path.stem)), methods=methods, seeds=[int(s) for s in raw.get("seeds", [0])],
        model=str(raw.get("model", "default")), baseline=str(raw.get("baseline", "zero-shot")),
        train=dict(raw.get("train", {})), data=dict(raw.get("data", {})), eval=dict(raw.get("eval", {})),
        keep_models=bool(raw.get("keep_models", True)), device=device,
    )
    if config.baseline not in methods:
        raise ValueError(f"{path}: baseline {config.baseline!r} is not among the methods {sorted(methods)}")
    for method in methods.values():  # fail now, not after an hour of training
        try:
            config.train_config(method, config.seeds[0])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: [train] / [methods.{method.name}.train]: {exc}") from None
    return config


# -------------------------------------------------------------------------------- training data
def training_pairs(data_dir: str | os.PathLike[str], data: Mapping[str, Any], seed: int = 0) -> list:
    """(question, answer sentence, paragraph) pairs from SQuAD v1.1 dev minus the XQuAD paragraphs.

    ``max_pairs`` keeps a seeded random subset (the same for every method and seed of a run, so
    methods are compared on identical data).
    """
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    from xcs.data.squad import load_squad_pairs
    from xcs.train import TrainPair

    raw = load_squad_pairs(Path(data_dir) / "squad" / "dev-v1.1.json",
                           exclude_xquad=bool(data.get("hold_out_xquad", True)))
    splitter = PunktSentenceTokenizer()  # the splitter the loader used to find the answer sentence
    sentences: dict[str, tuple[str, ...]] = {}
    pairs = []
    for p in raw:
        if p.paragraph not in sentences:
            sentences[p.paragraph] = tuple(splitter.tokenize(p.paragraph))
        pairs.append(TrainPair(p.question, p.answer_sentence, sentences[p.paragraph]))
    limit = data.get("max_pairs")
    if limit and limit < len(pairs):
        keep = np.sort(np.random.default_rng(seed).choice(len(pairs), size=int(limit), replace=False))
        pairs = [pairs[i] for i in keep]
    return pairs


# ------------------------------------------------------------------------------------ one run
def _evaluate(encoder: Any, config: ExperimentConfig, data_dir: Path, out_dir: Path) -> dict[str, Any]:
    from xcs.evaluation import evaluate

    options = {k: v for k, v in config.eval.items() if k not in ("tasks", "pairs")}
    return evaluate(encoder, tasks=config.tasks, data_dir=data_dir, out_dir=out_dir, **options)


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
_RESULT_NEUTRAL_METHOD_KEYS = {"name"}


def check_finished_run(record: Mapping[str, Any], config: ExperimentConfig, method: Method, seed: int,
                       run_dir: Path) -> None:
    """A ValueError naming ``run_dir`` and the differing keys when the finished run ``record`` was
    made with another method, model or training config than the current ones."""
    saved_method, current_method = _comparable(record.get("method", {})), _comparable(asdict(method))
    differing = [f"method.{k}" for k in sorted(set(saved_method) | set(current_method))
                 if k not in _RESULT_NEUTRAL_METHOD_KEYS and saved_method.get(k) != current_method.get(k)]
    if "model" in record and record["model"] != config.model:
        differing.append("model")
    saved_train = record.get("train", {}).get("config")
    if saved_train is not None and (method.trains or method.kind == "rerank"):
        saved, current = _comparable(saved_train), _comparable(asdict(config.train_config(method, seed)))
        differing += [f"train.{k}" for k in sorted(set(saved) | set(current))
                      if k not in _RESULT_NEUTRAL_TRAIN_KEYS and saved.get(k) != current.get(k)]
    if differing:
        raise ValueError(f"{run_dir}: this finished run was made with other settings "
                         f"({', '.join(differing)}); rename the method or move the run away to run it again")


def evaluation_encoder(encoder: Any, document_encoder: Any | None = None) -> Any:
    """The trained tower(s) in eval mode (dropout off) as one encoder for ``evaluate``: ``encoder``
    itself with shared towers, else a :class:`xcs.train.DualEncoder`."""
    encoder.model.eval()
    if document_encoder is None:
        return encoder
    from xcs.train import DualEncoder

    document_encoder.model.eval()
    return DualEncoder(encoder, document_encoder)


def run_one(config: ExperimentConfig, method: Method, seed: int, *, results_dir: Path, work_dir: Path,
            data_dir: Path, pairs: Sequence[Any], progress: bool = True) -> dict[str, Any]:
    """Train (if the method trains) and evaluate one (method, seed); write ``run.json`` and
    ``metrics.json`` under ``results_dir/runs/METHOD/seedS``. Skips a run already marked done
    (after checking it was made with the same settings: :func:`check_finished_run`)."""
    from xcs.encoder import Encoder
    from xcs.methods import CodeSwitchBatchBuilder, TranslateTestEncoder, load_lexicons
    from xcs.train import resolve_device, train

    run_results = results_dir / "runs" / method.name / f"seed{seed}"
    run_work = work_dir / method.name / f"seed{seed}"
    record_path = run_results / "run.json"
    if record_path.exists():
        record = json.loads(record_path.read_text())
        if record.get("status") == "done":
            check_finished_run(record, config, method, seed, run_results)
            return record
    device = resolve_device(config.device)
    run_results.mkdir(parents=True, exist_ok=True)
    run_work.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"method": asdict(method), "seed": seed, "model": config.model,
                              "status": "running", "command": " ".join(sys.argv)}
    began = time.perf_counter()
    if method.trains:
        train_config = config.train_config(method, seed)
        encoder = Encoder(config.model, device=device)
        lexicons = {}
        languages = sorted(set(method.side_languages("query")) | set(method.side_languages("document")))
        if languages:
            lexicons = load_lexicons(method, languages, data_dir)
        builder = CodeSwitchBatchBuilder(
            encoder.tokenizer, method, lexicons=lexicons, seed=seed, total_steps=train_config.steps,
            query_prefix=encoder.query_prefix, passage_prefix=encoder.passage_prefix,
            max_query_length=int(config.data.get("max_query_length", 64)),
            max_document_length=int(config.data.get("max_document_length", 128)),
            align=train_config.align_weight > 0)
        # translate-test and the reranker reuse the baseline's model, so that one is always kept
        reused = method.name == config.baseline and any(
            m.kind in ("translate-test", "rerank") for m in config.methods.values())
        result = train(encoder, pairs, builder, train_config, run_work, progress=progress,
                       save_model=config.keep_models or reused)
        record["train"] = {"config": asdict(train_config), "wall_s": result.total_wall_s,
                           "steps_per_s": result.steps_per_s, "resumed_from": result.resumed_from,
                           "first_loss": result.losses[0], "last_loss": result.losses[-1],
                           "losses": result.losses, "train_pairs": len(pairs)}
        evaluated: Any = evaluation_encoder(encoder, result.extra.get("document_encoder"))
    elif method.kind == "translate-test":
        base_dir = work_dir / config.baseline / f"seed{seed}" / "model"
        if not base_dir.exists():
            raise FileNotFoundError(f"translate-test needs the {config.baseline!r} model of seed {seed} "
                                    f"at {base_dir} (run that method first, with keep_models = true)")
        reverse_lexicons = load_lexicons(method, method.languages, data_dir, reverse=True)
        evaluated = TranslateTestEncoder(Encoder(base_dir, device=device), reverse_lexicons)
    elif method.kind == "rerank":
        return _run_rerank(config, method, seed, record, began, results_dir=run_results, work_dir=work_dir,
                           data_dir=data_dir, pairs=pairs, progress=progress, device=device)
    else:  # off-the-shelf
        evaluated = Encoder(config.model, device=device)
    trained_s = time.perf_counter() - began
    metrics = _evaluate(evaluated, config, data_dir, run_work / "eval")
    write_json_atomic(metrics, run_results / "metrics.json")
    record.update(status="done", train_wall_s=trained_s, eval_wall_s=time.perf_counter() - began - trained_s,
                  wall_s=time.perf_counter() - began, description=getattr(evaluated, "description", ""))
    write_json_atomic(record, record_path)
    return record


def _run_rerank(config: ExperimentConfig, method: Method, seed: int, record: dict[str, Any], began: float, *,
                results_dir: Path, work_dir: Path, data_dir: Path, pairs: Sequence[Any],
                progress: bool, device: Any) -> dict[str, Any]:
    """Train the cross-encoder (code-switching on both sides) and rerank the baseline model's top-k
    on the config's pairs (same XQuAD-R subsample as the evaluation); writes ``rerank.json``."""
    from xcs.data.xquadr import load_xquadr_dir, sample_question_ids
    from xcs.encoder import Encoder
    from xcs.methods import CodeSwitchBatchBuilder, load_lexicons
    from xcs.rerank import CrossEncoder, rerank_xquadr, train_cross_encoder

    base_dir = work_dir / config.baseline / f"seed{seed}" / "model"
    if not base_dir.exists():
        raise FileNotFoundError(f"rerank needs the {config.baseline!r} model of seed {seed} at {base_dir} "
                                f"(run that method first, with keep_models = true)")
    train_config = config.train_config(method, seed)
    cross = CrossEncoder(config.model, device=device, seed=seed)
    lexicons = load_lexicons(method, method.languages, data_dir)
    builder = CodeSwitchBatchBuilder(cross.tokenizer, method, lexicons=lexicons, seed=seed,
                                     total_steps=train_config.steps,
                                     max_query_length=int(config.data.get("max_query_length", 64)),
                                     max_document_length=int(config.data.get("max_document_length", 128)))
    losses = train_cross_encoder(cross, pairs, builder, train_config, progress=progress)
    trained_s = time.perf_counter() - began
    languages = sorted({lang for pair in config.pairs for lang in pair.split("-")})
    sets = load_xquadr_dir(data_dir / "xquad-r", languages)
    subsample = config.eval.get("subsample")
    if subsample:
        shared = set.intersection(*(set(s.question_ids) for s in sets.values()))
        seed_of_sample = int(config.eval.get("seed", 0))
        chosen = frozenset(sample_question_ids(sorted(shared), int(subsample), seed_of_sample))
        sets = {lang: s.restrict(chosen) for lang, s in sets.items()}
    metrics, scores = rerank_xquadr(Encoder(base_dir, device=device), cross, sets, config.pairs,
                                    k=method.rerank_k)
    out = work_dir / method.name / f"seed{seed}"
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "rerank_per_query.npz") as tmp:
        np.savez_compressed(tmp, **scores)
    write_json_atomic(metrics, results_dir / "rerank.json")
    record.update(status="done", train={"config": asdict(train_config), "losses": losses,
                                        "first_loss": losses[0], "last_loss": losses[-1]},
                  train_wall_s=trained_s, eval_wall_s=time.perf_counter() - began - trained_s,
                  wall_s=time.perf_counter() - began, description="cross-encoder reranker")
    write_json_atomic(record, results_dir / "run.json")
    return record


def summarize_rerank(config: ExperimentConfig, results_dir: Path, work_dir: Path) -> dict[str, Any]:
    """MRR@10 before / after reranking per pair (mean over seeds), with the paired t-test of after vs
    before on per-query scores averaged over seeds."""
    from xcs.significance import paired_t_test

    out: dict[str, Any] = {}
    for name, method in config.methods.items():
        if method.kind != "rerank":
            continue
        files = {s: results_dir / "runs" / name / f"seed{s}" / "rerank.json" for s in config.seeds}
        seeds = [s for s, path in files.items() if path.exists()]
        if not seeds:
            continue
        runs = [json.loads(files[s].read_text()) for s in seeds]
        scores = []
        for s in seeds:
            with np.load(work_dir / name / f"seed{s}" / "rerank_per_query.npz") as stored:
                scores.append({key: stored[key] for key in stored.files})
        entry = {}
        for pair in runs[0]["by_pair"]:
            before = np.mean([sc[f"before/{pair}"] for sc in scores], axis=0)
            after = np.mean([sc[f"after/{pair}"] for sc in scores], axis=0)
            test = paired_t_test(after, before)
            entry[pair] = {"before": float(before.mean()), "after": float(after.mean()),
                           "p_value": test.p_value,
                           "p_bonferroni": min(1.0, test.p_value * len(runs[0]["by_pair"])),
                           "seeds": seeds, "k": runs[0]["k"]}
        out[name] = entry
    return out


def rerank_table(rerank: Mapping[str, Any], alpha: float = 0.05) -> str:
    """Markdown: one row per reranker, ``before -> after`` MRR@10 (x100) per pair."""
    if not rerank:
        return ""
    pairs = list(next(iter(rerank.values())))
    lines = ["| reranker | " + " | ".join(pairs) + " |", "|---|" + "---:|" * len(pairs)]
    for name, entry in rerank.items():
        cells = []
        for pair in pairs:
            cell = entry[pair]
            mark = "*" if cell["p_bonferroni"] < alpha and cell["after"] > cell["before"] else (
                "-" if cell["p_bonferroni"] < alpha else "")
            cells.append(f"{100 * cell['before']:.1f} → {100 * cell['after']:.1f}{mark}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return ("\n## Reranking the baseline's top-k (MRR@10 before → after)\n\n" + "\n".join(lines)
            + "\n\n`*` / `-`: after significantly better / worse than before (paired t-test, Bonferroni).\n")


# -------------------------------------------------------------------------------- summarising
def headline(metrics: Mapping[str, Any], pairs: Sequence[str]) -> dict[str, float]:
    """The table's columns from one ``metrics.json``: setting averages, CLIR pairs, LAReQA, Tatoeba."""
    from xcs.evaluation import headline_metrics

    return headline_metrics(metrics, pairs)


def per_query(work_dir: Path, method: str, seed: int, pairs: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-query scores of one run, keyed like :func:`headline`'s columns."""
    from xcs.evaluation import load_per_query

    return load_per_query(work_dir / method / f"seed{seed}" / "eval", pairs)


def paired_t_test(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p-value of the paired t-test of ``a`` vs ``b`` (float64 (n,)); 1.0 when identical."""
    from xcs.significance import paired_t_test as test

    return float(test(a, b).p_value)


def summarize(config: ExperimentConfig, results_dir: Path, work_dir: Path) -> dict[str, Any]:
    """Collect every finished run: the content of ``summary.json`` (means, stds, per-seed values,
    p-values; :func:`run_experiment` adds the reranker part and writes it)."""
    columns: dict[str, dict[str, dict[str, float]]] = {}
    runs: dict[str, dict[int, dict[str, Any]]] = {}
    for name, method in config.methods.items():
        if method.kind == "rerank":
            continue
        for seed in config.seeds:
            metrics_path = results_dir / "runs" / name / f"seed{seed}" / "metrics.json"
            if metrics_path.exists():
                runs.setdefault(name, {})[seed] = json.loads(metrics_path.read_text())
    for name, by_seed in runs.items():
        columns[name] = {str(s): headline(m, config.pairs) for s, m in by_seed.items()}

    # per-query scores averaged over the seeds both methods share, then paired t-test vs the baseline
    comparisons = [(name, col) for name in runs if name != config.baseline
                   for col in next(iter(columns[name].values()))]
    n_tests = max(1, len(comparisons))
    base_seeds = set(runs.get(config.baseline, {}))
    summary: dict[str, Any] = {"name": config.name, "baseline": config.baseline, "model": config.model,
                               "seeds": config.seeds, "tests": "paired t-test on per-query scores "
                               "(averaged over shared seeds), Bonferroni x" + str(n_tests), "methods": {}}
    cache: dict[tuple[str, int], dict[str, np.ndarray]] = {}

    def scores(name: str, seed: int) -> dict[str, np.ndarray]:
        if (name, seed) not in cache:
            cache[name, seed] = per_query(work_dir, name, seed, config.pairs)
        return cache[name, seed]

    for name, by_seed in columns.items():
        entry: dict[str, Any] = {}
        for col in next(iter(by_seed.values())):
            values = [by_seed[s][col] for s in sorted(by_seed)]
            cell: dict[str, Any] = {"mean": float(np.mean(values)), "std": float(np.std(values)),
                                    "seeds": {s: by_seed[s][col] for s in sorted(by_seed)}}
            shared = sorted(base_seeds & set(runs[name])) if name != config.baseline else []
            if shared:
                try:
                    a = np.mean([scores(name, int(s))[col] for s in shared], axis=0)
                    b = np.mean([scores(config.baseline, int(s))[col] for s in shared], axis=0)
                    p = paired_t_test(a, b)
                    cell["p_value"] = p
                    cell["p_bonferroni"] = min(1.0, p * n_tests)
                    cell["delta"] = float(a.mean() - b.mean())
                except (FileNotFoundError, KeyError):
                    pass  # per-query scores were not kept for this column
            entry[col] = cell
        summary["methods"][name] = entry
    return summary


def markdown_table(summary: Mapping[str, Any], alpha: float = 0.05) -> str:
    """The paper's layout; ``*`` / ``-`` mark significant gains / losses vs the baseline
    (Bonferroni-corrected p < ``alpha``); values are x100, mean over seeds (± std when > 1 seed)."""
    methods = summary["methods"]
    if not methods:
        return "(no finished runs)\n"
    cols = list(next(iter(methods.values())))
    lines = ["| method | seeds | " + " | ".join(cols) + " |", "|---|---:|" + "---:|" * len(cols)]
    for name, entry in methods.items():
        cells = [str(len(entry[cols[0]]["seeds"]))]
        for col in cols:
            cell = entry.get(col)
            if cell is None:
                cells.append("")
                continue
            text = f"{100 * cell['mean']:.1f}"
            if len(cell["seeds"]) > 1:
                text += f" ±{100 * cell['std']:.1f}"
            if cell.get("p_bonferroni", 1.0) < alpha:
                text += "*" if cell.get("delta", 0.0) > 0 else "-"
            cells.append(text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    note = (f"\nBaseline: `{summary['baseline']}`. `*` / `-`: significantly better / worse than the baseline "
            f"({summary['tests']}, p < {alpha}). Values x100.\n")
    return "\n".join(lines) + "\n" + note


def plots(summary: Mapping[str, Any], out_dir: Path, pairs: Sequence[str]) -> list[Path]:
    """``pairs.png`` (grouped bars per CLIR pair) and, when methods sweep p, ``p_sweep.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    methods = summary["methods"]
    shown = [p for p in pairs if any(p in entry for entry in methods.values())]
    if shown:
        fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(shown)), 3.5))
        width = 0.8 / max(1, len(methods))
        for i, (name, entry) in enumerate(methods.items()):
            xs = np.arange(len(shown)) + i * width
            ax.bar(xs, [100 * entry.get(p, {}).get("mean", math.nan) for p in shown], width, label=name)
        ax.set_xticks(np.arange(len(shown)) + 0.4 - width / 2, shown)
        ax.set_ylabel("CLIR MRR@10 (x100)")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(4, len(methods)))
        fig.tight_layout()
        written.append(_save_figure(fig, out_dir / "pairs.png"))
        plt.close(fig)
    sweeps: dict[str, list[tuple[float, float]]] = {}
    for name, entry in methods.items():
        if "@p=" in name:
            base, p = name.split("@p=")
            for col in ("CLIR", "MoIR", "MLIR"):
                if col in entry:
                    sweeps.setdefault(f"{base} {col}", []).append((float(p), 100 * entry[col]["mean"]))
    if sweeps:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for label, points in sweeps.items():
            points.sort()
            ax.plot([p for p, _ in points], [v for _, v in points], marker="o", label=label)
        if summary["baseline"] in methods:
            for col in ("CLIR",):
                value = methods[summary["baseline"]].get(col, {}).get("mean")
                if value is not None:
                    ax.axhline(100 * value, linestyle="--", color="grey",
                               label=f"{summary['baseline']} {col}")
        ax.set_xlabel("switch rate p")
        ax.set_ylabel("MRR@10 (x100)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        written.append(_save_figure(fig, out_dir / "p_sweep.png"))
        plt.close(fig)
    return written


def _save_figure(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)
    return path


def run_experiment(config: ExperimentConfig, *, results_dir: Path, work_dir: Path, data_dir: Path,
                   progress: bool = True, config_text: str | None = None,
                   seeds: Sequence[int] | None = None,
                   methods: Sequence[str] | None = None) -> dict[str, Any]:
    """Every seed x method, then the summary. Seed-major, so that a run cut short has every method
    for its first seeds; the baseline comes first within a seed (translate-test and rerank reuse its
    model). The off-the-shelf model does not depend on the seed and is evaluated once. ``seeds``
    (default: the config's) and ``methods`` (names; default: all, the baseline always included) pick
    the runs to do now; the summary covers every finished run of the config."""
    unknown = sorted(set(methods or ()) - set(config.methods))
    if unknown:
        raise ValueError(f"--only: unknown method(s) {unknown}; known: {sorted(config.methods)}")
    if seeds and not set(seeds) <= set(config.seeds):
        raise ValueError(f"--seeds: {sorted(set(seeds) - set(config.seeds))} not among the config's seeds "
                         f"{config.seeds}")
    results_dir.mkdir(parents=True, exist_ok=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    if config_text is not None:
        write_text_atomic(config_text, results_dir / "config.toml")
    began = time.perf_counter()
    pairs = None
    order = [config.baseline] + [m for m in config.methods
                                 if m != config.baseline and (methods is None or m in methods)]
    walls = {}
    for seed in seeds or config.seeds:
        for name in order:
            method = config.methods[name]
            if method.kind == "off-the-shelf" and seed != config.seeds[0]:
                continue
            if (method.trains or method.kind == "rerank") and pairs is None:
                pairs = training_pairs(data_dir, config.data)
            print(f"[xcs experiment] {name} seed {seed}", file=sys.stderr, flush=True)
            record = run_one(config, method, seed, results_dir=results_dir, work_dir=work_dir,
                             data_dir=data_dir, pairs=pairs or [], progress=progress)
            walls[f"{name}/seed{seed}"] = record.get("wall_s")
    summary = summarize(config, results_dir, work_dir)
    summary["rerank"] = summarize_rerank(config, results_dir, work_dir)
    summary["wall_s_this_invocation"] = time.perf_counter() - began
    summary["run_wall_s"] = walls
    write_json_atomic(summary, results_dir / "summary.json")
    table = markdown_table(summary) + rerank_table(summary["rerank"])
    write_text_atomic(f"# {config.name}\n\nModel: {config.model}\n\n" + table, results_dir / "table.md")
    plots(summary, results_dir, config.pairs)
    return summary


# ------------------------------------------------------------------------------------------- CLI
def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``xcs train`` (one model) and ``xcs experiment`` (methods x seeds from a config)."""
    _add_train_parser(subparsers)
    parser = subparsers.add_parser("experiment", help="train and evaluate methods x seeds from a TOML config")
    parser.add_argument("--config", required=True, help="experiment TOML (e.g. configs/quick.toml)")
    parser.add_argument("--results-dir", default=None, help="default: results/NAME")
    parser.add_argument("--work-dir", default=None,
                        help="models, checkpoints (default: CACHE/experiments/NAME)")
    parser.add_argument("--data-dir", default=None, help="default: $XCS_DATA_DIR or ../shared/data")
    parser.add_argument("--only", default=None, help="comma-separated method names to run (others skipped)")
    parser.add_argument("--seeds", default=None,
                        help="comma-separated seeds to run now (of the config's; the summary covers every "
                        "finished seed)")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=_experiment_command)


def _experiment_command(args: argparse.Namespace) -> int:
    from xcs.paths import cache_dir, data_dir

    config = load_config(args.config)
    methods = [m.strip() for m in args.only.split(",") if m.strip()] if args.only else None
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    results = Path(args.results_dir or Path("results") / config.name)
    work = Path(args.work_dir or cache_dir() / "experiments" / config.name)
    summary = run_experiment(config, results_dir=results, work_dir=work, data_dir=data_dir(args.data_dir),
                             progress=not args.no_progress, config_text=Path(args.config).read_text(),
                             seeds=seeds, methods=methods)
    print((results / "table.md").read_text())
    print(f"wall time: {summary['wall_s_this_invocation']:.0f} s; results in {results}")
    return 0


# ``xcs train`` flags for TrainConfig fields: (flag, type); unset flags keep TrainConfig's defaults
_TRAIN_FLAGS = (("steps", int), ("batch-size", int), ("grad-accum", int), ("lr", float),
                ("weight-decay", float), ("warmup", float), ("max-grad-norm", float), ("temperature", float),
                ("hard-negatives", str), ("num-hard-negatives", int), ("mine-every", int),
                ("checkpoint-every", int), ("seed", int), ("loss-impl", str))


def _add_train_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train one dual encoder (zero-shot or code-switched) on SQuAD pairs",
        description="Train one model. Training options: every field of [train] (unset: the TrainConfig "
                    "default; --separate-towers is shared_towers = false). Method options: a subset of "
                    "[methods.NAME] (languages, weights, sides, p, p_start, lexicon, align_weight); "
                    "per-side languages, lowercase and max_candidates need an experiment config "
                    "(see docs/training.md).")
    parser.add_argument("--out", required=True, help="run directory (checkpoint.pt, model/, train_log.json)")
    parser.add_argument("--model", default="default", help="'default' (mE5-small) or a checkpoint path")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when available), cpu, cuda or cuda:N; under torchrun with CUDA "
                        "every rank takes cuda:LOCAL_RANK (nccl), else the CPU (gloo)")
    parser.add_argument("--languages", default="", help="code-switching targets, e.g. de or de,ar,ru,zh "
                        "(several: ML-CS); empty: zero-shot (English only)")
    parser.add_argument("--weights", default="", help="ML-CS language weights, comma-separated, one per "
                        "language (default: uniform)")
    parser.add_argument("--sides", default="both", choices=["both", "query", "document"])
    parser.add_argument("--p", type=float, default=0.5, help="switch rate (end value with --p-start)")
    parser.add_argument("--p-start", type=float, default=None, help="switch rate at step 0 (linear schedule)")
    parser.add_argument("--lexicon", default="muse", help="'muse' or a path template with {lang}")
    parser.add_argument("--align-weight", type=float, default=0.0)
    parser.add_argument("--max-pairs", type=int, default=None, help="random subset of the training pairs")
    parser.add_argument("--max-query-length", type=int, default=64)
    parser.add_argument("--max-document-length", type=int, default=128)
    for name, kind in _TRAIN_FLAGS:
        parser.add_argument(f"--{name}", type=kind, default=None)
    parser.add_argument("--symmetric", action="store_true", help="also contrast documents against queries")
    parser.add_argument("--freeze-embeddings", action="store_true")
    parser.add_argument("--separate-towers", action="store_true", help="do not share query/document weights")
    parser.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=_train_command)


def _train_command(args: argparse.Namespace) -> int:
    """``xcs train``: works under ``torchrun`` too (documents gathered across ranks in the loss)."""
    from xcs.encoder import Encoder
    from xcs.methods import CodeSwitchBatchBuilder, Method, load_lexicons
    from xcs.paths import data_dir
    from xcs.train import TrainConfig, init_distributed_from_env, resolve_device, train

    rank_device = init_distributed_from_env(args.device)  # None outside torchrun
    device = rank_device if rank_device is not None else resolve_device(args.device)
    languages = [lang for lang in args.languages.split(",") if lang]
    weights = [float(w) for w in args.weights.split(",") if w]
    method = Method(name="cli", kind="code-switch" if languages else "zero-shot", languages=languages,
                    weights=weights, sides=args.sides, p=args.p, p_start=args.p_start, lexicon=args.lexicon,
                    align_weight=args.align_weight)
    given = {flag.replace("-", "_"): getattr(args, flag.replace("-", "_")) for flag, _ in _TRAIN_FLAGS}
    config = TrainConfig(**{k: v for k, v in given.items() if v is not None},
                         symmetric=args.symmetric, freeze_embeddings=args.freeze_embeddings,
                         shared_towers=not args.separate_towers, align_weight=args.align_weight)
    data = data_dir(args.data_dir)
    pairs = training_pairs(data, {"max_pairs": args.max_pairs})
    encoder = Encoder(args.model, device=device)
    lexicons = load_lexicons(method, languages, data) if languages else {}
    builder = CodeSwitchBatchBuilder(
        encoder.tokenizer, method, lexicons=lexicons, seed=config.seed, total_steps=config.steps,
        query_prefix=encoder.query_prefix, passage_prefix=encoder.passage_prefix,
        max_query_length=args.max_query_length, max_document_length=args.max_document_length,
        align=config.align_weight > 0)
    result = train(encoder, pairs, builder, config, args.out, resume=not args.no_resume,
                   progress=not args.no_progress)
    print(json.dumps({"out": str(result.out_dir), "steps": len(result.losses), "first_loss": result.losses[0],
                      "last_loss": result.losses[-1], "wall_s": round(result.wall_s, 1),
                      "steps_per_s": round(result.steps_per_s, 3), "train_pairs": len(pairs),
                      "device": str(device)}))
    return 0
