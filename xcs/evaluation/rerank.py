"""Reranking a dual encoder's top-k on XQuAD-R with a cross-encoder, MRR@10 before and after."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from xcs.evaluation.metrics import RelevanceJudgments, evaluate_ranking
from xcs.evaluation.retrieval import search
from xcs.models.cross_encoder import CrossEncoder


def rerank_xquadr(dual_encoder: Any, cross: CrossEncoder, sets: Mapping[str, Any], pairs: Sequence[str], *,
                  k: int = 20) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """For each ``"src-tgt"`` pair (XQuAD-R languages; ``src == tgt`` is MoIR): retrieve target
    sentences with ``dual_encoder``, rerank its top ``k`` with ``cross`` (ranks below k keep their
    order), and report MRR@10 before and after. Returns ``(metrics, per_query)``; per-query keys
    ``"before/PAIR"`` and ``"after/PAIR"`` (float64 ``(n_questions,)``)."""
    began = time.perf_counter()
    by_pair: dict[str, Any] = {}
    per_query: dict[str, np.ndarray] = {}
    embedded: dict[tuple[str, str], np.ndarray] = {}

    def embed(lang: str, kind: str) -> np.ndarray:
        if (lang, kind) not in embedded:
            texts = sets[lang].questions if kind == "query" else sets[lang].candidates
            embedded[lang, kind] = dual_encoder.encode(texts, kind=kind)
        return embedded[lang, kind]

    for pair in pairs:
        src, tgt = pair.split("-")
        if src not in sets or tgt not in sets:
            raise ValueError(f"rerank pair {pair!r}: languages must be among {sorted(sets)}")
        source, target = sets[src], sets[tgt]
        answer = dict(zip(target.question_ids, target.answers.tolist(), strict=True))
        keep = [i for i, q in enumerate(source.question_ids) if q in answer]
        judged = RelevanceJudgments.from_lists([[answer[source.question_ids[i]]] for i in keep])
        # depth >= 10 so that "before" is the dual encoder's full MRR@10; only the top k are reranked
        _, retrieved = search(embed(src, "query")[keep], embed(tgt, "passage"), max(k, 10))
        before = evaluate_ranking(retrieved, judged, ["mrr@10"])["mrr@10"]
        top = retrieved[:, :k]
        flat_q = [source.questions[i] for i, row in zip(keep, top, strict=True) for _ in row]
        flat_d = [target.candidates[j] for row in top for j in row]
        scores = cross.score(flat_q, flat_d).reshape(top.shape)
        reranked = retrieved.copy()
        order = np.argsort(-scores, axis=1, kind="stable")
        reranked[:, : top.shape[1]] = np.take_along_axis(top, order, axis=1)
        after = evaluate_ranking(reranked, judged, ["mrr@10"])["mrr@10"]
        per_query[f"before/{pair}"], per_query[f"after/{pair}"] = before, after
        by_pair[pair] = {"mrr@10_before": float(before.mean()), "mrr@10_after": float(after.mean()),
                         "n_queries": len(keep)}
    metrics = {"k": k, "by_pair": by_pair,
               "mrr@10_before": float(np.mean([v["mrr@10_before"] for v in by_pair.values()])),
               "mrr@10_after": float(np.mean([v["mrr@10_after"] for v in by_pair.values()])),
               "wall_s": round(time.perf_counter() - began, 1)}
    return metrics, per_query
