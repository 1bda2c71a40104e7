"""The XTREME-R retrieval suite: LAReQA, the paper's XQuAD-R settings (MoIR / CLIR / MLIR), Tatoeba.

Tasks (``tasks=``; ``"xquadr"`` is shorthand for ``moir, clir, mlir``)
- ``lareqa``: every question of every language against the pool of all candidate sentences of all
  languages; relevant = the answer sentence in each language (11); ``map@20`` as XTREME-R.
- ``moir``: query in X, candidates in X; ``mrr@10`` per language and averaged.
- ``clir``: query in X, candidates in Y, for every X != Y; the 11x11 ``mrr@10`` matrix (its
  diagonal is MoIR), averaged over the 110 off-diagonal pairs.
- ``mlir``: query in X, candidates in all languages (the LAReQA pool); ``mrr@10`` (first relevant
  in any language) and ``map@20`` per query language and averaged.
- ``tatoeba``: nearest neighbour by cosine, ``acc@1`` per language in both directions (xx->en,
  en->xx), averaged over the languages.

Every text is encoded once: the suite collects the distinct (kind, text) pairs of all tasks, encodes
each kind in one call, and every task looks its rows up. Questions use ``kind="query"``, candidate
sentences ``kind="passage"``, Tatoeba sentences ``tatoeba_kind`` (default ``"query"``, the mE5
recipe for symmetric tasks). Any object with ``encode(texts, kind=...) -> (n, d) float32`` (rows
L2-normalised, so the inner product is the cosine) and an optional ``description`` works.

Outputs in ``out_dir``: ``metrics.json`` ``{task: {metric: value, by_language / by_pair: ...}}``,
``per_query.npz`` (float32 per-query scores, keys ``task/metric/lang-or-pair``, queries in file
order), ``run_info.json`` (model, data, options, wall times), ``report.md`` and ``clir_mrr10.png``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from xcs.atomic import atomic_path, write_text_atomic
from xcs.data.tatoeba import TatoebaPair, load_tatoeba_all
from xcs.data.xquadr import XQuADRSet, load_xquadr_dir, sample_question_ids
from xcs.metrics import RelevanceJudgments, evaluate_ranking
from xcs.retrieval import search

ALL_TASKS = ("lareqa", "moir", "clir", "mlir", "tatoeba")
TASK_ALIASES = {"xquadr": ("moir", "clir", "mlir")}
# The CLIR pairs the paper reports next to the averages.
PAPER_PAIRS = ("en-de", "en-ar", "en-ru", "de-ru", "ar-ru", "ar-de")


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str], kind: str | None = ...) -> np.ndarray: ...


def resolve_tasks(tasks: str | Iterable[str]) -> list[str]:
    """Expand ``"lareqa,xquadr,tatoeba"`` (or a list) into task names in canonical order."""
    names = [t.strip() for t in tasks.split(",")] if isinstance(tasks, str) else [str(t) for t in tasks]
    wanted: set[str] = set()
    for name in names:
        if not name:
            continue
        if name in TASK_ALIASES:
            wanted.update(TASK_ALIASES[name])
        elif name in ALL_TASKS:
            wanted.add(name)
        else:
            known = ", ".join(ALL_TASKS + tuple(TASK_ALIASES))
            raise ValueError(f"unknown task {name!r}; choose from {known}")
    if not wanted:
        raise ValueError("no tasks given")
    return [t for t in ALL_TASKS if t in wanted]


# ---------------------------------------------------------------------------------------- encoding
@dataclass
class _TextTable:
    """Distinct texts per kind; rows are filled by one encode call per kind."""

    texts: dict[str | None, dict[str, int]] = field(default_factory=dict)
    vectors: dict[str | None, np.ndarray] = field(default_factory=dict)

    def add(self, kind: str | None, texts: Sequence[str]) -> np.ndarray:
        index = self.texts.setdefault(kind, {})
        return np.asarray([index.setdefault(t, len(index)) for t in texts], dtype=np.int64)

    def encode(self, encoder: TextEncoder, timings: dict[str, float]) -> None:
        for kind, index in self.texts.items():
            began = time.perf_counter()
            vectors = np.asarray(encoder.encode(list(index), kind=kind), dtype=np.float32)
            if vectors.ndim != 2 or len(vectors) != len(index):
                raise ValueError(f"encoder returned shape {vectors.shape} for {len(index)} texts")
            self.vectors[kind] = np.ascontiguousarray(vectors)
            timings[f"encode_{kind}_s"] = round(time.perf_counter() - began, 2)
            timings[f"n_texts_{kind}"] = len(index)

    def rows(self, kind: str | None, index: np.ndarray) -> np.ndarray:
        return self.vectors[kind][index]


# ------------------------------------------------------------------------------------ XQuAD-R tasks
@dataclass
class _Pool:
    """Questions and candidates of all languages, with rows into the text table."""

    languages: list[str]
    question_rows: dict[str, np.ndarray]
    question_ids: dict[str, list[str]]
    candidate_rows: dict[str, np.ndarray]
    candidate_offset: dict[str, int]  # start of each language in the concatenated pool
    answer_of: dict[str, dict[str, int]]  # language -> question id -> candidate index (local)


def _build_pool(sets: Mapping[str, XQuADRSet], table: _TextTable) -> _Pool:
    languages = sorted(sets)
    offset, offsets = 0, {}
    for lang in languages:
        offsets[lang] = offset
        offset += len(sets[lang].candidates)
    return _Pool(
        languages,
        {lang: table.add("query", sets[lang].questions) for lang in languages},
        {lang: list(sets[lang].question_ids) for lang in languages},
        {lang: table.add("passage", sets[lang].candidates) for lang in languages},
        offsets,
        {lang: {q: int(a) for q, a in zip(sets[lang].question_ids, sets[lang].answers, strict=True)}
         for lang in languages},
    )


def _judgments(question_ids: list[str], targets: Sequence[str], pool: _Pool, global_index: bool):
    """Relevant candidates of each question: its answer sentence in each target language."""
    rows = []
    for qid in question_ids:
        relevant = []
        for lang in targets:
            local = pool.answer_of[lang].get(qid)
            if local is not None:
                relevant.append(local + (pool.candidate_offset[lang] if global_index else 0))
        rows.append(relevant)
    return RelevanceJudgments.from_lists(rows)


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return float(np.mean(values)) if values else float("nan")


def _xquadr_tasks(tasks: list[str], pool: _Pool, table: _TextTable, per_query: dict[str, np.ndarray],
                  timings: dict[str, float]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    langs = pool.languages
    began = time.perf_counter()
    if "lareqa" in tasks or "mlir" in tasks:
        all_docs = np.concatenate([table.rows("passage", pool.candidate_rows[lang]) for lang in langs])
        lareqa_by_lang, mlir_mrr, mlir_map = {}, {}, {}
        for lang in langs:
            _, retrieved = search(table.rows("query", pool.question_rows[lang]), all_docs, 20)
            judged = _judgments(pool.question_ids[lang], langs, pool, global_index=True)
            scores = evaluate_ranking(retrieved, judged, ["map@20", "mrr@10"])
            lareqa_by_lang[lang] = scores["map@20"]
            mlir_mrr[lang] = scores["mrr@10"]
            mlir_map[lang] = scores["map@20"]
        if "lareqa" in tasks:
            every = np.concatenate([lareqa_by_lang[lang] for lang in langs])
            per_query["lareqa/map@20"] = every
            results["lareqa"] = {"map@20": float(every.mean()),
                                 "by_language": {lang: float(lareqa_by_lang[lang].mean()) for lang in langs},
                                 "n_queries": int(len(every)), "n_candidates": int(len(all_docs))}
        if "mlir" in tasks:
            for lang in langs:
                per_query[f"mlir/mrr@10/{lang}"] = mlir_mrr[lang]
                per_query[f"mlir/map@20/{lang}"] = mlir_map[lang]
            results["mlir"] = {
                "mrr@10": _mean(mlir_mrr[lang].mean() for lang in langs),
                "map@20": _mean(mlir_map[lang].mean() for lang in langs),
                "by_language": {lang: {"mrr@10": float(mlir_mrr[lang].mean()),
                                       "map@20": float(mlir_map[lang].mean())} for lang in langs},
            }
    if "moir" in tasks or "clir" in tasks:
        matrix = np.full((len(langs), len(langs)), np.nan)
        for j, target in enumerate(langs):
            docs = table.rows("passage", pool.candidate_rows[target])
            for i, source in enumerate(langs):
                if source != target and "clir" not in tasks:
                    continue
                if source == target and "moir" not in tasks:
                    continue
                _, retrieved = search(table.rows("query", pool.question_rows[source]), docs, 10)
                judged = _judgments(pool.question_ids[source], [target], pool, global_index=False)
                rr = evaluate_ranking(retrieved, judged, ["mrr@10"])["mrr@10"]
                key = f"moir/mrr@10/{source}" if source == target else f"clir/mrr@10/{source}-{target}"
                per_query[key] = rr
                matrix[i, j] = rr.mean()
        if "moir" in tasks:
            diagonal = {lang: float(matrix[i, i]) for i, lang in enumerate(langs)}
            results["moir"] = {"mrr@10": _mean(diagonal.values()), "by_language": diagonal}
        if "clir" in tasks:
            pairs = {f"{s}-{t}": float(matrix[i, j]) for i, s in enumerate(langs)
                     for j, t in enumerate(langs) if i != j}
            results["clir"] = {"mrr@10": _mean(pairs.values()), "by_pair": pairs,
                               "languages": langs, "matrix": [[None if np.isnan(v) else float(v) for v in row]
                                                              for row in matrix]}
            if "moir" in tasks:  # the full matrix with MoIR on the diagonal, for the heatmap
                results["clir"]["matrix_includes_moir_diagonal"] = True
    timings["xquadr_retrieval_s"] = round(time.perf_counter() - began, 2)
    return results


# ------------------------------------------------------------------------------------------ Tatoeba
def _tatoeba(pairs: Mapping[str, TatoebaPair], rows: Mapping[str, tuple[np.ndarray, np.ndarray]],
             table: _TextTable, kind: str | None, per_query: dict[str, np.ndarray]) -> dict[str, Any]:
    by_language: dict[str, dict[str, float]] = {}
    for lang in pairs:
        source = table.rows(kind, rows[lang][0])
        english = table.rows(kind, rows[lang][1])
        gold = RelevanceJudgments.from_lists([[i] for i in range(len(source))])
        _, to_en = search(source, english, 1)
        _, from_en = search(english, source, 1)
        xx_en = evaluate_ranking(to_en, gold, ["acc@1"])["acc@1"]
        en_xx = evaluate_ranking(from_en, gold, ["acc@1"])["acc@1"]
        per_query[f"tatoeba/acc@1/{lang}-en"] = xx_en
        per_query[f"tatoeba/acc@1/en-{lang}"] = en_xx
        by_language[lang] = {"xx->en": float(xx_en.mean()), "en->xx": float(en_xx.mean()),
                             "mean": float((xx_en.mean() + en_xx.mean()) / 2), "n": len(source)}
    return {
        "acc@1": _mean(v["mean"] for v in by_language.values()),
        "acc@1_xx->en": _mean(v["xx->en"] for v in by_language.values()),
        "acc@1_en->xx": _mean(v["en->xx"] for v in by_language.values()),
        "n_languages": len(by_language),
        "by_language": by_language,
    }


# ------------------------------------------------------------------------------------------- driver
def _write_json(obj: Any, path: Path) -> None:
    write_text_atomic(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", path)


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
    tatoeba_kind: str | None = "query",
    command: str | None = None,
) -> dict[str, Any]:
    """Run the suite and return the ``metrics.json`` dict (also written to ``out_dir`` when given).

    Args:
        encoder: ``encode(texts, kind=...) -> (n, d)`` float32, L2-normalised rows.
        tasks: names or a comma list (see the module docstring).
        data_dir: directory laid out like ``../shared/data`` (default :func:`xcs.paths.data_dir`).
        xquadr_dir: any directory of XQuAD-R-format ``{lang}.json`` (default ``DATA/xquad-r``).
        tatoeba_dir: LASER v1 Tatoeba files (default ``DATA/tatoeba``).
        languages: XQuAD-R languages (default: every file in ``xquadr_dir``).
        tatoeba_languages: ISO 639-1 codes (default: the 41 XTREME-R languages).
        subsample: quick runs: ``subsample`` questions per language (the same ids in every
            language, seeded) with only their paragraphs' sentences as candidates, and
            ``subsample`` Tatoeba pairs per language. Numbers are higher than on the full pools
            and comparable only at equal ``subsample`` and ``seed``.
        command: the command line to record in ``run_info.json``.
    """
    from xcs.paths import data_dir as find_data_dir

    began = time.perf_counter()
    task_list = resolve_tasks(tasks)
    needs_xquadr = any(t in task_list for t in ("lareqa", "moir", "clir", "mlir"))
    if (needs_xquadr and xquadr_dir is None) or ("tatoeba" in task_list and tatoeba_dir is None):
        data_dir = find_data_dir(data_dir)
    if subsample is not None and subsample < 1:
        raise ValueError(f"subsample must be >= 1, got {subsample}")

    timings: dict[str, float] = {}
    table = _TextTable()
    per_query: dict[str, np.ndarray] = {}
    sets: dict[str, XQuADRSet] = {}
    if needs_xquadr:
        sets = load_xquadr_dir(Path(xquadr_dir) if xquadr_dir else Path(data_dir) / "xquad-r", languages)
        if subsample is not None:
            shared = set.intersection(*(set(s.question_ids) for s in sets.values()))
            chosen = frozenset(sample_question_ids(sorted(shared), subsample, seed))
            sets = {lang: s.restrict(chosen) for lang, s in sets.items()}
        pool = _build_pool(sets, table)
    tatoeba_pairs: dict[str, TatoebaPair] = {}
    tatoeba_rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if "tatoeba" in task_list:
        directory = Path(tatoeba_dir) if tatoeba_dir else Path(data_dir) / "tatoeba"
        tatoeba_pairs = load_tatoeba_all(directory, tatoeba_languages)
        rng = np.random.default_rng(seed)
        for lang, pair in tatoeba_pairs.items():
            if subsample is not None and subsample < len(pair.source):
                keep = np.sort(rng.choice(len(pair.source), size=subsample, replace=False))
                pair = TatoebaPair(pair.language, pair.code, [pair.source[i] for i in keep],
                                   [pair.english[i] for i in keep])
                tatoeba_pairs[lang] = pair
            tatoeba_rows[lang] = (table.add(tatoeba_kind, pair.source), table.add(tatoeba_kind, pair.english))

    table.encode(encoder, timings)
    results: dict[str, Any] = {}
    if needs_xquadr:
        results.update(_xquadr_tasks(task_list, pool, table, per_query, timings))
    if tatoeba_pairs:
        results["tatoeba"] = _tatoeba(tatoeba_pairs, tatoeba_rows, table, tatoeba_kind, per_query)
    results = {t: results[t] for t in task_list if t in results}
    timings["total_s"] = round(time.perf_counter() - began, 2)

    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        info = {
            "model": getattr(encoder, "description", type(encoder).__name__),
            "tasks": task_list,
            "xquadr": {lang: {"questions": len(s.questions), "candidates": len(s.candidates)}
                       for lang, s in sets.items()},
            "tatoeba_languages": list(tatoeba_pairs),
            "subsample": subsample,
            "seed": seed,
            "tatoeba_kind": tatoeba_kind,
            "command": command,
            "timings": timings,
            "cpu_count": os.cpu_count(),
            "load_average_at_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        }
        _write_json(results, out / "metrics.json")
        _write_json(info, out / "run_info.json")
        with atomic_path(out / "per_query.npz") as tmp:
            np.savez_compressed(tmp, **{k: v.astype(np.float32) for k, v in per_query.items()})
        write_text_atomic(markdown_report(results, info), out / "report.md")
        if "clir" in results:
            plot_clir_heatmap(results["clir"], out / "clir_mrr10.png")
    return results


# -------------------------------------------------------------------------------- reading results
def headline_metrics(metrics: Mapping[str, Any], pairs: Sequence[str] = PAPER_PAIRS) -> dict[str, float]:
    """The paper-table columns of one ``metrics.json``: MoIR / CLIR / MLIR MRR@10 averages, the given
    CLIR pairs, LAReQA mAP@20 and Tatoeba acc@1 (only the tasks present)."""
    out: dict[str, float] = {}
    if "moir" in metrics:
        out["MoIR"] = metrics["moir"]["mrr@10"]
    if "clir" in metrics:
        out["CLIR"] = metrics["clir"]["mrr@10"]
    if "mlir" in metrics:
        out["MLIR"] = metrics["mlir"]["mrr@10"]
    if "clir" in metrics:
        for pair in pairs:
            if pair in metrics["clir"]["by_pair"]:
                out[pair] = metrics["clir"]["by_pair"][pair]
    if "lareqa" in metrics:
        out["LAReQA"] = metrics["lareqa"]["map@20"]
    if "tatoeba" in metrics:
        out["Tatoeba"] = metrics["tatoeba"]["acc@1"]
    return out


def load_per_query(
    run_dir: str | os.PathLike[str], pairs: Sequence[str] = PAPER_PAIRS
) -> dict[str, np.ndarray]:
    """Per-query float64 scores of a run directory, keyed like :func:`headline_metrics` (the
    averages concatenate their languages / pairs; Tatoeba concatenates both directions).

    The concatenations follow sorted keys, so two runs of the same data and options line up query
    by query, as the paired tests need."""
    path = Path(run_dir) / "per_query.npz"
    if not path.exists():
        raise FileNotFoundError(f"no per-query scores in {run_dir} (expected {path.name})")
    with np.load(path) as data:
        arrays = {k: data[k].astype(np.float64) for k in data.files}

    def joined(prefix: str) -> np.ndarray | None:
        keys = sorted(k for k in arrays if k.startswith(prefix))
        return np.concatenate([arrays[k] for k in keys]) if keys else None

    out: dict[str, np.ndarray] = {}
    for column, prefix in (("MoIR", "moir/mrr@10/"), ("CLIR", "clir/mrr@10/"), ("MLIR", "mlir/mrr@10/")):
        values = joined(prefix)
        if values is not None:
            out[column] = values
    for pair in pairs:
        if f"clir/mrr@10/{pair}" in arrays:
            out[pair] = arrays[f"clir/mrr@10/{pair}"]
    if "lareqa/map@20" in arrays:
        out["LAReQA"] = arrays["lareqa/map@20"]
    tatoeba = joined("tatoeba/acc@1/")
    if tatoeba is not None:
        out["Tatoeba"] = tatoeba
    return out


# ---------------------------------------------------------------------------------------- reports
def markdown_report(metrics: Mapping[str, Any], info: Mapping[str, Any]) -> str:
    """A human-readable summary of one run (values x100)."""
    lines = ["# Retrieval evaluation", "", f"- model: `{info.get('model')}`",
             f"- tasks: {', '.join(info.get('tasks', []))}",
             f"- subsample: {info.get('subsample')} (seed {info.get('seed')})"]
    if info.get("command"):
        lines.append(f"- command: `{info['command']}`")
    timings = info.get("timings", {})
    if timings:
        lines.append(f"- wall time: {timings.get('total_s')} s (" + ", ".join(
            f"{k} {v}" for k, v in timings.items() if k != "total_s") + ")")
    lines += ["", "## Headline (x100)", "", "| " + " | ".join(headline_metrics(metrics)) + " |",
              "|" + "---:|" * len(headline_metrics(metrics)),
              "| " + " | ".join(f"{100 * v:.2f}" for v in headline_metrics(metrics).values()) + " |"]
    if "clir" in metrics:
        langs = metrics["clir"]["languages"]
        lines += ["", "## XQuAD-R MRR@10 matrix (rows: query language, columns: candidates; x100)", "",
                  "| q \\ c | " + " | ".join(langs) + " |", "|---|" + "---:|" * len(langs)]
        for lang, row in zip(langs, metrics["clir"]["matrix"], strict=True):
            cells = ("" if v is None else f"{100 * v:.1f}" for v in row)
            lines.append(f"| {lang} | " + " | ".join(cells) + " |")
    for task, key in (("lareqa", "map@20"), ("mlir", None)):
        if task in metrics:
            by = metrics[task]["by_language"]
            cells = [by[lang] if key else by[lang]["mrr@10"] for lang in by]
            lines += ["", f"## {task} by query language (x100, {key or 'mrr@10'})", "",
                      "| " + " | ".join(by) + " |", "|" + "---:|" * len(by),
                      "| " + " | ".join(f"{100 * v:.1f}" for v in cells) + " |"]
    if "tatoeba" in metrics:
        t = metrics["tatoeba"]
        title = (f"## Tatoeba acc@1 (x100): mean {100 * t['acc@1']:.2f},"
                 f" xx->en {100 * t['acc@1_xx->en']:.2f}, en->xx {100 * t['acc@1_en->xx']:.2f}"
                 f" over {t['n_languages']} languages")
        lines += ["", title, "",
                  "| lang | xx->en | en->xx |", "|---|---:|---:|"]
        for lang, v in t["by_language"].items():
            lines.append(f"| {lang} | {100 * v['xx->en']:.1f} | {100 * v['en->xx']:.1f} |")
    return "\n".join(lines) + "\n"


def plot_clir_heatmap(clir: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Heatmap PNG of the 11x11 XQuAD-R MRR@10 matrix (rows: query language)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    langs = clir["languages"]
    matrix = np.array([[np.nan if v is None else v for v in row] for row in clir["matrix"]], dtype=float)
    fig, ax = plt.subplots(figsize=(7, 6))
    image = ax.imshow(100 * matrix, cmap="viridis", vmin=0, vmax=100)
    ax.set_xticks(range(len(langs)), langs)
    ax.set_yticks(range(len(langs)), langs)
    ax.set_xlabel("candidate language")
    ax.set_ylabel("query language")
    ax.set_title("XQuAD-R MRR@10 (x100)")
    for i in range(len(langs)):
        for j in range(len(langs)):
            if not np.isnan(matrix[i, j]):
                ax.text(j, i, f"{100 * matrix[i, j]:.0f}", ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path
