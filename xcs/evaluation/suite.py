"""The XTREME-R retrieval suite: LAReQA, the paper's XQuAD-R settings (MoIR / CLIR / MLIR), Tatoeba.

Tasks (``tasks=``; ``"xquadr"`` is shorthand for ``moir, clir, mlir``)
- ``lareqa``: every question of every language against the pool of all candidate sentences of all
  languages; relevant = the answer sentence in each language (11); ``map@20`` as XTREME-R, and
  ``mrr@10`` (the first answer in any language).
- ``moir``: query in X, candidates in X; ``mrr@10`` per language and averaged.
- ``clir``: query in X, candidates in Y, for every X != Y; the 11x11 ``mrr@10`` matrix (its
  diagonal is MoIR), averaged over the 110 off-diagonal pairs.
- ``mlir``: the paper's MLIR: one multilingual collection in which each paragraph's sentences appear
  in one drawn language; query in X (every X), relevant = the answer sentence in the language its
  paragraph was drawn into; ``mrr@10`` per query language and averaged, each query's score the mean
  over 10 fixed draws (:func:`xcs.evaluation.tasks.mlir_task`).
- ``tatoeba``: nearest neighbour by cosine, ``acc@1`` per language in both directions (xx->en,
  en->xx), averaged over the languages.
- ``cs-queries`` (only when named): English questions code-switched into the answer's language X
  (``cs_query_lexicon``, default the XLING dictionaries: de, ru) at each of ``cs_query_rates``,
  against X's sentences; MRR@10 switched and clean and the drop (:mod:`xcs.evaluation.mixed_queries`).

Every text is encoded once: the suite collects the distinct (kind, text) pairs of all tasks, encodes
each kind in one call, and every task looks its rows up. Questions use ``kind="query"``, candidate
sentences ``kind="passage"``, Tatoeba sentences ``tatoeba_kind`` (default ``"query"``, the mE5
recipe for symmetric tasks). Any object with ``encode(texts, kind=...) -> (n, d) float32`` (rows
L2-normalised, so the inner product is the cosine) and an optional ``description`` works.

Outputs in ``out_dir``: ``metrics.json`` ``{task: {metric: value, by_language / by_pair: ...}}``,
``per_query.npz`` (float32 per-query scores, keys ``task/metric/lang-or-pair``, queries in file
order), ``run_info.json`` (model, data, options, wall times), ``report.md`` and ``clir_mrr10.png``.
``metrics.json`` and ``run_info.json`` also hold ``"environment"``: the versions of python, torch,
transformers, triton, numpy and xcs (:func:`xcs.io.versions.versions`).
"""

from __future__ import annotations

import numbers
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xcs.data.tatoeba import TATOEBA_XTREME_R_LANGUAGES, TatoebaPair, load_tatoeba_all, tatoeba_files
from xcs.data.xquadr import XQuADRSet, load_xquadr_dir, split_sets, subsample_sets
from xcs.evaluation.mixed_queries import (
    CS_QUERY_LEXICON,
    CS_QUERY_RATES,
    MixedQuerySet,
    add_mixed_queries,
    cs_query_languages,
    mixed_queries_task,
)
from xcs.evaluation.protocol import ALL_TASKS, resolve_tasks
from xcs.evaluation.report import markdown_report, plot_clir_heatmap
from xcs.evaluation.tasks import Pool, TextEncoder, TextTable, build_pool, tatoeba_task, xquadr_tasks
from xcs.io.atomic import atomic_path, write_json_atomic, write_text_atomic
from xcs.io.versions import versions

# ---------------------------------------------------------------------------------------- encoding


# ------------------------------------------------------------------------------------ XQuAD-R tasks


# ------------------------------------------------------------------------------------------ Tatoeba


# ------------------------------------------------------------------------------------------- driver
@dataclass
class _Inputs:
    """The suite's data, each text registered once in ``table``."""

    table: TextTable = field(default_factory=TextTable)
    sets: dict[str, XQuADRSet] = field(default_factory=dict)
    pool: Pool | None = None
    tatoeba_pairs: dict[str, TatoebaPair] = field(default_factory=dict)
    tatoeba_rows: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    mixed_queries: list[MixedQuerySet] = field(default_factory=list)


def _add_xquadr(inputs: _Inputs, directory: Path, languages: Sequence[str] | None, subsample: int | None,
                seed: int, split: str | None) -> None:
    sets = load_xquadr_dir(directory, languages)
    if split is not None:
        sets = split_sets(sets, split)
    inputs.sets = subsample_sets(sets, subsample, seed) if subsample is not None else sets
    inputs.pool = build_pool(inputs.sets, inputs.table)


def _add_tatoeba(inputs: _Inputs, directory: Path, languages: Sequence[str] | None, subsample: int | None,
                 seed: int, kind: str | None) -> None:
    inputs.tatoeba_pairs = load_tatoeba_all(directory, languages)
    rng = np.random.default_rng(seed)
    for lang, pair in inputs.tatoeba_pairs.items():
        if subsample is not None and subsample < len(pair.source):
            keep = np.sort(rng.choice(len(pair.source), size=subsample, replace=False))
            pair = TatoebaPair(pair.language, pair.code, [pair.source[i] for i in keep],
                               [pair.english[i] for i in keep])
            inputs.tatoeba_pairs[lang] = pair
        inputs.tatoeba_rows[lang] = (inputs.table.add(kind, pair.source),
                                     inputs.table.add(kind, pair.english))


def _write_outputs(out: Path, results: dict[str, Any], info: dict[str, Any],
                   per_query: dict[str, np.ndarray], query_ids: dict[str, np.ndarray]) -> None:
    """``metrics.json``, ``run_info.json``, ``per_query.npz`` (with ``query_ids.npz``, the query of
    each score), ``report.md`` and the CLIR heatmap. Both JSON files record the package versions
    under ``"environment"`` (:func:`xcs.io.versions.versions`)."""
    out.mkdir(parents=True, exist_ok=True)
    environment = versions()
    write_json_atomic({**results, "environment": environment}, out / "metrics.json", indent=1,
                      ensure_ascii=False)
    write_json_atomic({**info, "environment": environment}, out / "run_info.json", indent=1,
                      ensure_ascii=False)
    with atomic_path(out / "per_query.npz") as tmp:
        np.savez_compressed(tmp, **{k: v.astype(np.float32) for k, v in per_query.items()})
    with atomic_path(out / "query_ids.npz") as tmp:
        np.savez_compressed(tmp, **query_ids)
    write_text_atomic(markdown_report(results, info), out / "report.md")
    if "clir" in results:
        plot_clir_heatmap(results["clir"], out / "clir_mrr10.png")


def _languages(name: str, value: Any) -> list[str] | None:
    """A language option: None (every language) or a non-empty list of codes; an empty list (which
    would evaluate nothing) or one bare string (``"de"`` read as ``["d", "e"]``) is refused."""
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError(f"{name} must be a list of language codes, got one string {value!r} "
                        f"(write [{value!r}])")
    try:
        codes = list(value)
    except TypeError:  # not iterable (a number, a 0-d tensor)
        raise TypeError(f"{name} must be a list of language codes, got {type(value).__name__} "
                        f"{value!r}") from None
    bad = [code for code in codes if not isinstance(code, str) or not code.strip()]
    if bad:
        raise TypeError(f"{name} must hold language codes (non-empty strings), got {bad[0]!r}")
    if not codes:
        raise ValueError(f"{name} is empty: give at least one language code, or None for every language")
    return codes


def _check_rates(rates: Any) -> None:
    """``cs_query_rates``: a non-empty list of switch rates in (0, 1]."""
    if isinstance(rates, str) or not isinstance(rates, Sequence) or not rates:
        raise TypeError(f"cs_query_rates must be a non-empty list of rates in (0, 1], got {rates!r}")
    for rate in rates:
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 < float(rate) <= 1.0:
            raise ValueError(f"cs_query_rates must hold rates in (0, 1], got {rate!r}")


def _check_integer(name: str, value: Any, low: int, *, optional: bool = False) -> None:
    """An integer option >= ``low`` (a float would be truncated, a bool coerced)."""
    if optional and value is None:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")


@dataclass(frozen=True)
class EvaluationPlan:
    """What :func:`evaluate` will read, checked by :func:`check_evaluation`: the tasks (canonical
    order), the languages (None: every one) and the data directories (None: no task reads them)."""

    tasks: list[str]
    languages: list[str] | None
    tatoeba_languages: list[str] | None
    xquadr_dir: Path | None
    tatoeba_dir: Path | None
    data_dir: Path | None = None  # the data directory found (None: not needed)


def check_evaluation(
    tasks: str | Iterable[str] = ALL_TASKS,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    xquadr_dir: str | os.PathLike[str] | None = None,
    tatoeba_dir: str | os.PathLike[str] | None = None,
    languages: Sequence[str] | None = None,
    tatoeba_languages: Sequence[str] | None = None,
    subsample: int | None = None,
    seed: int = 0,
    split: str | None = None,
    tatoeba_kind: str | None = "query",
    cs_query_lexicon: str = CS_QUERY_LEXICON,
    cs_query_rates: Sequence[float] = CS_QUERY_RATES,
) -> EvaluationPlan:
    """The checks :func:`evaluate` makes before it reads anything (its arguments, same meaning), for
    callers that must refuse bad options before loading a model (``xcs eval``): the option types and
    ranges, the tasks, the languages (no empty list, no bare string), and that the data directories
    exist and hold the file of every language to evaluate. ``ValueError`` / ``TypeError`` naming the
    option, ``FileNotFoundError`` naming the path."""
    from xcs.io.paths import data_dir as find_data_dir

    if not isinstance(tasks, str):
        try:
            tasks = list(tasks)
        except TypeError:  # not iterable (a number, a 0-d tensor)
            raise TypeError(f"tasks must be a comma list or a list of task names, got {tasks!r}") from None
        if not all(isinstance(t, str) for t in tasks):
            raise TypeError(f"tasks must be a comma list or a list of task names, got {tasks!r}")
    task_list = resolve_tasks(tasks)
    languages = _languages("languages", languages)
    tatoeba_languages = _languages("tatoeba_languages", tatoeba_languages)
    _check_integer("subsample", subsample, 1, optional=True)
    _check_integer("seed", seed, 0)
    if tatoeba_kind is not None and not isinstance(tatoeba_kind, str):
        raise TypeError(f"tatoeba_kind must be a string (an encoder kind) or None, got {tatoeba_kind!r}")
    if split is not None and (not isinstance(split, str) or split not in ("dev", "test")):
        raise ValueError(f"split must be one of ('dev', 'test') or None, got {split!r}")
    if "cs-queries" in task_list:
        _check_rates(cs_query_rates)
        if not isinstance(cs_query_lexicon, str) or not cs_query_lexicon:
            raise TypeError(f"cs_query_lexicon must be 'xling' or a path template, got {cs_query_lexicon!r}")
    needs_xquadr = any(t in task_list for t in ("lareqa", "moir", "clir", "mlir", "cs-queries"))
    needs_tatoeba = "tatoeba" in task_list
    needs_xling = "cs-queries" in task_list and cs_query_lexicon == CS_QUERY_LEXICON
    if (needs_xquadr and xquadr_dir is None) or (needs_tatoeba and tatoeba_dir is None) or needs_xling:
        data_dir = find_data_dir(data_dir)
    xquadr = tatoeba = None
    if needs_xquadr:
        xquadr = Path(xquadr_dir) if xquadr_dir else Path(data_dir) / "xquad-r"
        if not xquadr.is_dir():
            raise FileNotFoundError(f"XQuAD-R directory not found: {xquadr}")
        if languages is None and not any(xquadr.glob("*.json")):
            raise FileNotFoundError(f"no *.json files in {xquadr}")
        missing = [str(xquadr / f"{lang}.json") for lang in languages or ()
                   if not (xquadr / f"{lang}.json").is_file()]
        if missing:
            raise FileNotFoundError(f"missing XQuAD-R files: {', '.join(missing)}")
        if "cs-queries" in task_list:
            evaluated = languages or [f.stem for f in xquadr.glob("*.json")]
            if "en" not in evaluated:
                raise ValueError("cs-queries switches the English questions: include 'en' in languages")
            cs_query_languages(cs_query_lexicon, evaluated, data_dir)
    if needs_tatoeba:
        tatoeba = Path(tatoeba_dir) if tatoeba_dir else Path(data_dir) / "tatoeba"
        if not tatoeba.is_dir():
            raise FileNotFoundError(f"Tatoeba directory not found: {tatoeba}")
        wanted = tatoeba_languages or list(TATOEBA_XTREME_R_LANGUAGES.values())
        missing = [str(f) for lang in wanted for f in tatoeba_files(tatoeba, lang) if not f.is_file()]
        if missing:
            raise FileNotFoundError(f"missing Tatoeba files: {', '.join(missing[:4])}"
                                    + (f" and {len(missing) - 4} more" if len(missing) > 4 else ""))
    return EvaluationPlan(task_list, languages, tatoeba_languages, xquadr, tatoeba,
                          Path(data_dir) if data_dir is not None else None)


def evaluate(
    encoder: TextEncoder,
    tasks: str | Iterable[str] = ALL_TASKS,
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    xquadr_dir: str | os.PathLike[str] | None = None,
    tatoeba_dir: str | os.PathLike[str] | None = None,
    languages: Sequence[str] | None = None,
    tatoeba_languages: Sequence[str] | None = None,
    subsample: int | None = None,
    seed: int = 0,
    split: str | None = None,
    tatoeba_kind: str | None = "query",
    cs_query_lexicon: str = CS_QUERY_LEXICON,
    cs_query_rates: Sequence[float] = CS_QUERY_RATES,
    command: str | None = None,
) -> dict[str, Any]:
    """Run the suite and return the ``metrics.json`` dict (also written to ``out_dir`` when given).

    Args:
        encoder: ``encode(texts, kind=...) -> (n, d)`` float32, L2-normalised rows; or a
            ``sentence_transformers.SentenceTransformer``, evaluated through :class:`xcs.Encoder`
            (its prompts as the query / passage prefixes, its pooling, normalisation and
            ``max_seq_length``). Anything else raises ``TypeError``.
        tasks: names or a comma list (see the module docstring).
        data_dir: directory laid out like ``../shared/data`` (default :func:`xcs.io.paths.data_dir`).
        xquadr_dir: any directory of XQuAD-R-format ``{lang}.json`` (default ``DATA/xquad-r``).
        tatoeba_dir: LASER v1 Tatoeba files (default ``DATA/tatoeba``).
        languages: XQuAD-R languages (default: every file in ``xquadr_dir``).
        tatoeba_languages: ISO 639-1 codes (default: the 41 XTREME-R languages).
        subsample: quick runs: ``subsample`` questions per language (the same ids in every
            language, seeded) with only their paragraphs' sentences as candidates, and
            ``subsample`` Tatoeba pairs per language. Numbers are higher than on the full pools
            and comparable only at equal ``subsample`` and ``seed``.
        split: ``"dev"`` or ``"test"``: only the XQuAD-R questions of that split
            (:func:`xcs.data.xquadr.split_question_ids`: a fixed 20% of the paragraphs is dev),
            every sentence still a candidate; choose settings on dev, report on test. Tatoeba
            has no split (it is not used to choose settings).
        cs_query_lexicon: ``cs-queries``: ``"xling"`` (``DATA/xling/en-X.train.freq.5k.tsv``) or
            a path template with ``{lang}``; the languages are those with a file.
        cs_query_rates: ``cs-queries``: the switch rates (default 0.25 and 0.5).
        command: the command line to record in ``run_info.json``.
    """
    from xcs.models.encoder import as_text_encoder

    encoder = as_text_encoder(encoder)
    began = time.perf_counter()
    plan = check_evaluation(tasks, data_dir, xquadr_dir=xquadr_dir, tatoeba_dir=tatoeba_dir,
                            languages=languages, tatoeba_languages=tatoeba_languages, subsample=subsample,
                            seed=seed, split=split, tatoeba_kind=tatoeba_kind,
                            cs_query_lexicon=cs_query_lexicon, cs_query_rates=cs_query_rates)
    task_list = plan.tasks

    inputs = _Inputs()
    if plan.xquadr_dir is not None:
        _add_xquadr(inputs, plan.xquadr_dir, plan.languages, subsample, seed, split)
        if "cs-queries" in task_list:
            inputs.mixed_queries = add_mixed_queries(inputs.sets, inputs.table, cs_query_lexicon,
                                                     cs_query_rates, plan.data_dir)
    if plan.tatoeba_dir is not None:
        _add_tatoeba(inputs, plan.tatoeba_dir, plan.tatoeba_languages, subsample, seed, tatoeba_kind)
    timings: dict[str, float] = {}
    per_query: dict[str, np.ndarray] = {}
    query_ids: dict[str, np.ndarray] = {}
    inputs.table.encode(encoder, timings)
    results: dict[str, Any] = {}
    if inputs.pool is not None:
        results.update(xquadr_tasks(task_list, inputs.pool, inputs.table, per_query, query_ids,
                                    timings))
    if inputs.mixed_queries:
        results["cs-queries"] = mixed_queries_task(inputs.pool, inputs.table, inputs.mixed_queries, per_query,
                                                   query_ids, lexicon=cs_query_lexicon)
    if inputs.tatoeba_pairs:
        results["tatoeba"] = tatoeba_task(inputs.tatoeba_pairs, inputs.tatoeba_rows, inputs.table,
                                          tatoeba_kind, per_query, query_ids)
    results = {t: results[t] for t in task_list if t in results}
    timings["total_s"] = round(time.perf_counter() - began, 2)
    if out_dir is not None:
        info = {
            "model": getattr(encoder, "description", type(encoder).__name__),
            "tasks": task_list,
            "xquadr": {lang: {"questions": len(s.questions), "candidates": len(s.candidates)}
                       for lang, s in inputs.sets.items()},
            "tatoeba_languages": list(inputs.tatoeba_pairs),
            "subsample": subsample,
            "seed": seed,
            "split": split,
            "tatoeba_kind": tatoeba_kind,
            **({"cs_query_lexicon": cs_query_lexicon, "cs_query_rates": list(cs_query_rates)}
               if "cs-queries" in task_list else {}),
            "command": command,
            "timings": timings,
            "cpu_count": os.cpu_count(),
            "load_average_at_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        }
        _write_outputs(Path(out_dir), results, info, per_query, query_ids)
    return results
