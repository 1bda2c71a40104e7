"""The suite's tasks on encoded texts: LAReQA, MoIR / CLIR / MLIR on XQuAD-R, Tatoeba.

Every task reads its rows from a :class:`TextTable` (each distinct text encoded once) and writes its
per-query scores into ``per_query`` under ``task/metric/lang-or-pair`` keys.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from xcs.data.tatoeba import TatoebaPair
from xcs.data.xquadr import XQuADRSet
from xcs.evaluation.metrics import RelevanceJudgments, evaluate_ranking
from xcs.evaluation.retrieval import search


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str], kind: str | None = ...) -> np.ndarray: ...


@dataclass
class TextTable:
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
            bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
            if bad.size:
                raise ValueError(f"encoder returned non-finite embeddings for {bad.size} of the {len(index)} "
                                 f"{kind or 'plain'} texts (first: {list(index)[bad[0]]!r}); refusing to "
                                 "score them")
            self.vectors[kind] = np.ascontiguousarray(vectors)
            timings[f"encode_{kind}_s"] = round(time.perf_counter() - began, 2)
            timings[f"n_texts_{kind}"] = len(index)

    def rows(self, kind: str | None, index: np.ndarray) -> np.ndarray:
        return self.vectors[kind][index]


@dataclass
class Pool:
    """Questions and candidates of all languages, with rows into the text table."""

    languages: list[str]
    question_rows: dict[str, np.ndarray]
    question_ids: dict[str, list[str]]
    candidate_rows: dict[str, np.ndarray]
    candidate_offset: dict[str, int]  # start of each language in the concatenated pool
    answer_of: dict[str, dict[str, int]]  # language -> question id -> candidate index (local)


def build_pool(sets: Mapping[str, XQuADRSet], table: TextTable) -> Pool:
    languages = sorted(sets)
    offset, offsets = 0, {}
    for lang in languages:
        offsets[lang] = offset
        offset += len(sets[lang].candidates)
    return Pool(
        languages,
        {lang: table.add("query", sets[lang].questions) for lang in languages},
        {lang: list(sets[lang].question_ids) for lang in languages},
        {lang: table.add("passage", sets[lang].candidates) for lang in languages},
        offsets,
        {lang: {q: int(a) for q, a in zip(sets[lang].question_ids, sets[lang].answers, strict=True)}
         for lang in languages},
    )


def _judgments(question_ids: list[str], targets: Sequence[str], pool: Pool, global_index: bool):
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


def _mean(values: Iterable[float]) -> float | None:
    """The average, or ``None`` (``null`` in ``metrics.json``) when there is nothing to average (CLIR
    with a single language has no pair): undefined, never NaN, which JSON cannot hold."""
    values = list(values)
    return float(np.mean(values)) if values else None


def xquadr_tasks(tasks: list[str], pool: Pool, table: TextTable, per_query: dict[str, np.ndarray],
                 query_ids: dict[str, np.ndarray], timings: dict[str, float]) -> dict[str, Any]:
    """LAReQA, MLIR, MoIR and CLIR; fills ``per_query`` (scores) and ``query_ids`` (str, the question
    ids in the same order) under the same keys."""
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
            query_ids["lareqa/map@20"] = np.asarray([f"{lang}/{q}" for lang in langs
                                                     for q in pool.question_ids[lang]])
            results["lareqa"] = {"map@20": float(every.mean()),
                                 "by_language": {lang: float(lareqa_by_lang[lang].mean()) for lang in langs},
                                 "n_queries": int(len(every)), "n_candidates": int(len(all_docs))}
        if "mlir" in tasks:
            for lang in langs:
                per_query[f"mlir/mrr@10/{lang}"] = mlir_mrr[lang]
                per_query[f"mlir/map@20/{lang}"] = mlir_map[lang]
                for metric in ("mrr@10", "map@20"):
                    query_ids[f"mlir/{metric}/{lang}"] = np.asarray(pool.question_ids[lang])
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
                query_ids[key] = np.asarray(pool.question_ids[source])
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


def tatoeba_task(pairs: Mapping[str, TatoebaPair], rows: Mapping[str, tuple[np.ndarray, np.ndarray]],
             table: TextTable, kind: str | None, per_query: dict[str, np.ndarray],
             query_ids: dict[str, np.ndarray]) -> dict[str, Any]:
    """Tatoeba acc@1 both directions; fills ``per_query`` and ``query_ids`` (the pairs themselves,
    ``lang:source||english``: the files have no ids)."""
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
        lines = np.asarray([f"{lang}:{x}||{e}" for x, e in zip(pairs[lang].source, pairs[lang].english,
                                                                 strict=True)])
        query_ids[f"tatoeba/acc@1/{lang}-en"] = query_ids[f"tatoeba/acc@1/en-{lang}"] = lines
        by_language[lang] = {"xx->en": float(xx_en.mean()), "en->xx": float(en_xx.mean()),
                             "mean": float((xx_en.mean() + en_xx.mean()) / 2), "n": len(source)}
    return {
        "acc@1": _mean(v["mean"] for v in by_language.values()),
        "acc@1_xx->en": _mean(v["xx->en"] for v in by_language.values()),
        "acc@1_en->xx": _mean(v["en->xx"] for v in by_language.values()),
        "n_languages": len(by_language),
        "by_language": by_language,
    }
