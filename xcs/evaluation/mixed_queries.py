"""Code-switched queries (task ``cs-queries``): how much a retriever loses when the query mixes
languages, as real users' queries do.

English XQuAD-R questions are code-switched into the answer's language X with a lexicon that no
training run uses (default: the XLING 5k seed dictionaries, which exist for en-de and en-ru), at
each rate p, and retrieve among X's sentences (relevant: the answer sentence in X). Next to each
switched setting the clean English question is scored on the same queries: the drop is clean minus
switched (MRR@10). The switching is the project's own (:class:`xcs.switching.CodeSwitcher`, one
language, the default XLM-R tokenizer, a fixed seed), so every model is asked the same texts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xcs.data.xquadr import XQuADRSet
from xcs.evaluation.metrics import RelevanceJudgments, evaluate_ranking
from xcs.evaluation.retrieval import search

CS_QUERY_RATES = (0.25, 0.5)
CS_QUERY_SEED = 22  # fixed: the switched questions are part of the protocol
CS_QUERY_LEXICON = "xling"  # DATA/xling/en-LANG.train.freq.5k.tsv; or a path template with {lang}


def cs_query_lexicon_path(spec: str, lang: str, data_dir: str | os.PathLike[str] | None) -> Path:
    """The en -> ``lang`` lexicon file of ``spec``: ``"xling"`` (under ``data_dir``) or a path
    template containing ``{lang}`` (``~`` expanded)."""
    if spec == CS_QUERY_LEXICON:
        if data_dir is None:
            raise ValueError("cs_query_lexicon = 'xling' needs the data directory")
        return Path(data_dir) / "xling" / f"en-{lang}.train.freq.5k.tsv"
    if "{lang}" not in spec:
        raise ValueError(f"cs_query_lexicon must be 'xling' or a path template containing {{lang}}, "
                         f"got {spec!r}")
    return Path(spec.format(lang=lang)).expanduser()


def cs_query_languages(spec: str, languages: Sequence[str],
                       data_dir: str | os.PathLike[str] | None) -> list[str]:
    """The non-English ``languages`` that have an en -> X lexicon under ``spec``; ``ValueError``
    when none has (the task would measure nothing)."""
    found = [lang for lang in languages
             if lang != "en" and cs_query_lexicon_path(spec, lang, data_dir).is_file()]
    if not found:
        raise ValueError(f"cs-queries: no en -> X lexicon for any of {sorted(set(languages) - {'en'})} "
                         f"under {spec!r} (e.g. {cs_query_lexicon_path(spec, 'de', data_dir)})")
    return found


@dataclass(frozen=True)
class MixedQuerySet:
    """The English questions switched into ``language`` at ``rate``: their rows in the text table,
    and the share of their words that changed."""

    language: str
    rate: float
    rows: np.ndarray
    switched_words: float

    @property
    def key(self) -> str:
        return f"en-{self.language}@p={self.rate:g}"


def switched_questions(questions: Sequence[str], lexicon: Any, rate: float, tokenizer: Any) -> list[str]:
    """``questions`` code-switched into the lexicon's target language at ``rate`` (question ``i``
    draws as example ``i`` with :data:`CS_QUERY_SEED`)."""
    from xcs.switching.switcher import CodeSwitcher

    switcher = CodeSwitcher(tokenizer, {lexicon.tgt_lang: lexicon}, p=rate, mode="bilingual",
                            seed=CS_QUERY_SEED)
    return switcher.switch_texts(list(questions))


def _changed_share(switched: str, original: str) -> float:
    """The share of ``original``'s whitespace words that are not in ``switched`` (a switched word
    may become several, so position-free)."""
    words = original.split()
    kept = set(switched.split())
    return sum(w not in kept for w in words) / max(1, len(words))


def add_mixed_queries(sets: Mapping[str, XQuADRSet], table: Any, spec: str, rates: Sequence[float],
                      data_dir: str | os.PathLike[str] | None) -> list[MixedQuerySet]:
    """Switch the English questions into every language with a lexicon under ``spec`` at every rate
    and register them in ``table`` (kind ``"query"``); ``ValueError`` without English."""
    from xcs.lexicons.lexicon import Lexicon
    from xcs.models.checkpoints import load_tokenizer

    if "en" not in sets:
        raise ValueError("cs-queries switches the English questions: evaluate with 'en' among the languages")
    tokenizer = load_tokenizer()
    english = sets["en"].questions
    out = []
    for lang in cs_query_languages(spec, list(sets), data_dir):
        lexicon = Lexicon.load(cs_query_lexicon_path(spec, lang, data_dir), "en", lang, lowercase=True,
                               drop_identical=True, on_error="skip")
        for rate in rates:
            switched = switched_questions(english, lexicon, rate, tokenizer)
            changed = [_changed_share(s, e) for s, e in zip(switched, english, strict=True)]
            out.append(MixedQuerySet(lang, float(rate), table.add("query", switched),
                                     float(np.mean(changed))))
    return out


def mixed_queries_task(pool: Any, table: Any, mixed: Sequence[MixedQuerySet],
                       per_query: dict[str, np.ndarray], query_ids: dict[str, np.ndarray], *,
                       lexicon: str) -> dict[str, Any]:
    """MRR@10 of the switched and of the clean English questions against each language's sentences;
    ``per_query`` gets ``cs-queries/mrr@10/en-X@p=P`` and ``cs-queries-clean/mrr@10/en-X``
    ((n_questions,) float64, the English questions' order)."""
    english_ids = pool.question_ids["en"]
    by_setting: dict[str, dict[str, float]] = {}
    targets: dict[str, tuple[np.ndarray, RelevanceJudgments, float]] = {}  # per language, once
    for item in mixed:
        if item.language not in targets:
            docs = table.rows("passage", pool.candidate_rows[item.language])
            answers = pool.answer_of[item.language]
            judged = RelevanceJudgments.from_lists([[answers[q]] if q in answers else []
                                                    for q in english_ids])
            _, retrieved = search(table.rows("query", pool.question_rows["en"]), docs, 10)
            clean = evaluate_ranking(retrieved, judged, ["mrr@10"])["mrr@10"]
            per_query[f"cs-queries-clean/mrr@10/en-{item.language}"] = clean
            query_ids[f"cs-queries-clean/mrr@10/en-{item.language}"] = np.asarray(english_ids)
            targets[item.language] = (docs, judged, float(clean.mean()))
        docs, judged, before = targets[item.language]
        _, retrieved = search(table.rows("query", item.rows), docs, 10)
        switched = evaluate_ranking(retrieved, judged, ["mrr@10"])["mrr@10"]
        per_query[f"cs-queries/mrr@10/{item.key}"] = switched
        query_ids[f"cs-queries/mrr@10/{item.key}"] = np.asarray(english_ids)
        by_setting[item.key] = {"mrr@10": float(switched.mean()), "clean_mrr@10": before,
                                "drop": before - float(switched.mean()),
                                "switched_words": item.switched_words}
    return {"mrr@10": float(np.mean([v["mrr@10"] for v in by_setting.values()])),
            "drop": float(np.mean([v["drop"] for v in by_setting.values()])),
            "by_setting": by_setting, "lexicon": lexicon, "seed": CS_QUERY_SEED,
            "rates": sorted({item.rate for item in mixed}), "languages": sorted(targets)}
