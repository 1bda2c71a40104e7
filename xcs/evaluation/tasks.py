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
from xcs.data.xquadr import MLIR_DRAWS, MLIR_SEED, XQuADRSet, mlir_paragraph_languages
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
    candidate_paragraph: dict[str, np.ndarray]  # language -> (n_candidates,) paragraph index
    paragraph_counts: dict[str, int]  # language -> number of paragraphs


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
        {lang: np.asarray(sets[lang].candidate_paragraph, dtype=np.int64) for lang in languages},
        {lang: len(sets[lang].paragraphs) for lang in languages},
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
    if "lareqa" in tasks:
        all_docs = np.concatenate([table.rows("passage", pool.candidate_rows[lang]) for lang in langs])
        by_lang = {}
        for lang in langs:
            _, retrieved = search(table.rows("query", pool.question_rows[lang]), all_docs, 20)
            judged = _judgments(pool.question_ids[lang], langs, pool, global_index=True)
            by_lang[lang] = evaluate_ranking(retrieved, judged, ["map@20", "mrr@10"])
        ids = np.asarray([f"{lang}/{q}" for lang in langs for q in pool.question_ids[lang]])
        results["lareqa"] = {"n_queries": int(len(ids)), "n_candidates": int(len(all_docs))}
        for metric in ("map@20", "mrr@10"):
            every = np.concatenate([by_lang[lang][metric] for lang in langs])
            per_query[f"lareqa/{metric}"] = every
            query_ids[f"lareqa/{metric}"] = ids
            results["lareqa"][metric] = float(every.mean())
        results["lareqa"]["by_language"] = {lang: float(by_lang[lang]["map@20"].mean()) for lang in langs}
        # MRR@10 of the first relevant answer in any language: what this suite reported as "MLIR"
        # before issue 22 (the same-language answer is always in the pool, so it tracks MoIR)
        results["lareqa"]["by_language_mrr@10"] = {lang: float(by_lang[lang]["mrr@10"].mean())
                                                   for lang in langs}
    if "mlir" in tasks:
        results["mlir"] = mlir_task(pool, table, per_query, query_ids)
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


def _mlir_collection(pool: Pool, assigned: np.ndarray) -> tuple[np.ndarray, dict[str, dict[int, int]]]:
    """One draw's collection: every candidate sentence of paragraph ``p`` in language
    ``assigned[p]``. Returns its rows ((n,) int64 indices into all languages' candidates
    concatenated, as ``pool.candidate_offset`` lays them out) and, per language, local candidate
    index -> position in the collection."""
    rows, position = [], {}
    for j, lang in enumerate(pool.languages):
        local = np.flatnonzero(assigned[pool.candidate_paragraph[lang]] == j)
        position[lang] = {int(c): len(rows) + k for k, c in enumerate(local)}
        rows.extend(int(c) + pool.candidate_offset[lang] for c in local)
    return np.asarray(rows, dtype=np.int64), position


def mlir_task(pool: Pool, table: TextTable, per_query: dict[str, np.ndarray],
              query_ids: dict[str, np.ndarray], *, draws: int = MLIR_DRAWS,
              seed: int = MLIR_SEED) -> dict[str, Any]:
    """Paper-style MLIR: the parallel candidates become one multilingual collection in which every
    paragraph's sentences appear in exactly one language (:func:`xcs.data.xquadr.
    mlir_paragraph_languages`); every question, asked in every language, must find its answer
    sentence in the language its paragraph landed in. MRR@10 per query language, each query's
    score averaged over ``draws`` fixed draws (the same for every model, so two models are compared
    on the same collections); ``per_query`` gets ``mlir/mrr@10/LANG``, (n_questions,) float64."""
    langs = pool.languages
    if len(set(pool.paragraph_counts.values())) > 1:
        raise ValueError("MLIR draws one language per paragraph and needs parallel files (paragraph i the "
                         f"same in every language); the paragraph counts differ: {pool.paragraph_counts}")
    n_paragraphs = next(iter(pool.paragraph_counts.values()))
    passages = np.concatenate([table.rows("passage", pool.candidate_rows[lang]) for lang in langs])
    question_paragraph = {lang: np.asarray([pool.candidate_paragraph[lang][pool.answer_of[lang][q]]
                                            for q in pool.question_ids[lang]], dtype=np.int64)
                          for lang in langs}
    scores = {lang: np.full((draws, len(pool.question_ids[lang])), np.nan) for lang in langs}
    per_draw, sizes = [], []
    for draw in range(draws):
        assigned = mlir_paragraph_languages(n_paragraphs, len(langs), draw, seed=seed)
        rows, position = _mlir_collection(pool, assigned)
        docs = passages[rows]
        sizes.append(len(docs))
        for lang in langs:
            relevant, answerable = [], []
            for qid, paragraph in zip(pool.question_ids[lang], question_paragraph[lang], strict=True):
                target = langs[assigned[paragraph]]
                answer = pool.answer_of[target].get(qid)  # None: no answer sentence in that language
                relevant.append([] if answer is None else [position[target][answer]])
                answerable.append(answer is not None)
            _, retrieved = search(table.rows("query", pool.question_rows[lang]), docs, 10)
            rr = evaluate_ranking(retrieved, RelevanceJudgments.from_lists(relevant), ["mrr@10"])["mrr@10"]
            scores[lang][draw] = np.where(answerable, rr, np.nan)
        per_draw.append(float(np.mean([np.nanmean(scores[lang][draw]) for lang in langs])))
    by_language = {}
    for lang in langs:
        defined = ~np.isnan(scores[lang]).all(axis=0)  # a question never answerable is left out
        averaged = np.nanmean(scores[lang][:, defined], axis=0)
        per_query[f"mlir/mrr@10/{lang}"] = averaged
        query_ids[f"mlir/mrr@10/{lang}"] = np.asarray(pool.question_ids[lang])[defined]
        by_language[lang] = {"mrr@10": float(averaged.mean()) if averaged.size else None}
    return {"mrr@10": _mean(v["mrr@10"] for v in by_language.values() if v["mrr@10"] is not None),
            "by_language": by_language, "per_draw_mrr@10": per_draw,
            "definition": "paper: each paragraph in one language per draw, every question in every language",
            "draws": draws, "draw_seed": seed, "mean_collection_size": float(np.mean(sizes))}


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
