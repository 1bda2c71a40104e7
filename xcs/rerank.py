"""Cross-encoder reranker (the paper's model): trained with binary cross-entropy on code-switched
(query, sentence) pairs, then used to rerank a dual encoder's top-k on XQuAD-R.

The cross-encoder reads ``<s> query: Q </s> passage: D </s>`` (the mE5 prefixes kept, so it starts
from the same checkpoint as the dual encoder) and scores it with a linear head on the first token.
Training reuses the dual-encoder machinery: batches come from :class:`xcs.methods.
CodeSwitchBatchBuilder` (code-switching on both sides), negatives are the other sentences of the
positive's paragraph plus the next query's positive (an in-batch negative); AdamW with warm-up and
linear decay, gradient clipping. It has no checkpoint/resume or DDP of its own (one short run).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from xcs.train import (
    TrainConfig,
    TrainPair,
    _optimizer,
    batch_indices,
    paragraph_negatives,
    seed_everything,
    warmup_linear_decay,
)


class CrossEncoder(nn.Module):
    """A transformer encoder plus a linear head: ``forward(ids, mask) -> logits`` float32 ``(n,)``."""

    def __init__(self, model: str | os.PathLike[str] = "default", max_length: int = 192, *,
                 seed: int = 0, device: str | torch.device | None = None) -> None:
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        from xcs.models import resolve_model_path

        path = resolve_model_path(model)
        self.encoder = AutoModel.from_pretrained(str(path), add_pooling_layer=False)
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.head = nn.Linear(self.encoder.config.hidden_size, 1)
        # The head's init comes from its own generator, not the global RNG, so it depends on
        # ``seed`` only (not on what ran before); N(0, 0.02) weights and a zero bias, as HF heads.
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            self.head.weight.normal_(0.0, 0.02, generator=generator)
            self.head.bias.zero_()
        self.max_length = max_length
        self.to(device if device is not None else "cpu")

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        device = self.head.weight.device  # callers pass CPU ids; the model may sit on a GPU
        hidden = self.encoder(input_ids=input_ids.to(device),
                              attention_mask=attention_mask.to(device)).last_hidden_state
        return self.head(hidden[:, 0].float()).squeeze(-1)

    def join(self, query_ids: Sequence[int], document_ids: Sequence[int]) -> list[int]:
        """``<s> q </s>`` + ``d </s>`` (the document's ``<s>`` dropped), cut to ``max_length`` keeping
        the closing token."""
        joined = list(query_ids) + list(document_ids[1:])
        return joined if len(joined) <= self.max_length else joined[: self.max_length - 1] + joined[-1:]

    def pad(self, sequences: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-pad id lists with the tokenizer's pad id: ``(input_ids, attention_mask)``, both
        int64 ``(n, L)`` with ``L`` the longest sequence."""
        from xcs.methods import pad

        tokens = pad(sequences, self.tokenizer.pad_token_id)
        return tokens.input_ids, tokens.attention_mask

    @torch.inference_mode()
    def score(self, queries: Sequence[str], documents: Sequence[str], *, query_prefix: str = "query: ",
              passage_prefix: str = "passage: ", batch_size: int = 64) -> np.ndarray:
        """Relevance logits (float32 ``(n,)``) of the pairs ``(queries[i], documents[i])``."""
        tok = self.tokenizer
        q = tok([query_prefix + t for t in queries], truncation=True, max_length=64)["input_ids"]
        d = tok([passage_prefix + t for t in documents], truncation=True,
                max_length=self.max_length)["input_ids"]
        joined = [self.join(a, b) for a, b in zip(q, d, strict=True)]
        order = np.argsort([len(s) for s in joined], kind="stable")
        out = np.empty(len(joined), dtype=np.float32)
        was_training = self.training
        self.eval()
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            ids, mask = self.pad([joined[i] for i in rows])
            out[rows] = self(ids, mask).float().cpu().numpy()
        self.train(was_training)
        return out


def train_cross_encoder(cross: CrossEncoder, pairs: Sequence[TrainPair], build_batch: Any,
                        config: TrainConfig, *, progress: bool = True) -> list[float]:
    """BCE training: per query its positive (label 1), ``num_hard_negatives`` other sentences of its
    paragraph and the next query's positive (label 0), negatives equal to the positive skipped (see
    :func:`scored_rows`). Returns the per-step losses."""
    seed_everything(config.seed)
    if config.freeze_embeddings:
        cross.encoder.get_input_embeddings().weight.requires_grad_(False)
    named = [(n, p) for n, p in cross.named_parameters() if p.requires_grad]
    optimizer = _optimizer(named, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_linear_decay(config.warmup_steps,
                                                                                 config.steps))
    bce = nn.BCEWithLogitsLoss()
    k = max(1, config.num_hard_negatives)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.steps, desc="train reranker", unit="step", dynamic_ncols=True)
    cross.train()
    losses = []
    for step in range(config.steps):
        ids, epoch = batch_indices(len(pairs), config.batch_size, step, config.seed)
        negatives = paragraph_negatives(pairs, ids, k, config.seed, step)
        batch = build_batch([pairs[int(i)] for i in ids], negatives, ids, epoch, step)
        queries = _rows(batch.queries)
        documents = _rows(batch.documents)
        rows = scored_rows([pairs[int(i)].positive for i in ids], negatives)
        joined = [cross.join(queries[q], documents[d]) for q, d, _ in rows]
        labels = [label for _, _, label in rows]
        input_ids, mask = cross.pad(joined)
        logits = cross(input_ids, mask)
        loss = bce(logits, torch.tensor(labels, device=logits.device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_([p for _, p in named], config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        losses.append(float(loss.detach()))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
    if bar is not None:
        bar.close()
    cross.eval()
    return losses


def scored_rows(positives: Sequence[str], negatives: Sequence[Sequence[str]]) -> list[tuple[int, int, float]]:
    """The ``(query row, document row, label)`` triples one training step scores.

    Documents are laid out as the batch builder makes them: the ``n`` positives, then ``k``
    negatives per query (``negatives[i][j]`` at row ``n + i * k + j``). Query ``i`` gets its positive
    (label 1), its paragraph negatives and the next query's positive (label 0), except negatives
    whose text equals its own positive (a paragraph without other sentences gives back the positive;
    two questions may share an answer sentence): those would teach the model a contradiction.
    """
    n = len(positives)
    k = len(negatives[0]) if n else 0
    rows = []
    for i, positive in enumerate(positives):
        rows.append((i, i, 1.0))
        rows.extend((i, n + i * k + j, 0.0) for j, text in enumerate(negatives[i]) if text != positive)
        if n > 1 and positives[(i + 1) % n] != positive:
            rows.append((i, (i + 1) % n, 0.0))
    return rows


def _rows(tokens: Any) -> list[list[int]]:
    """Unpadded id lists of a ``Tokens`` batch."""
    rows = zip(tokens.input_ids, tokens.attention_mask, strict=True)
    return [ids[mask.bool()].tolist() for ids, mask in rows]


def rerank_xquadr(dual_encoder: Any, cross: CrossEncoder, sets: Mapping[str, Any], pairs: Sequence[str], *,
                  k: int = 20) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """For each ``"src-tgt"`` pair (XQuAD-R languages; ``src == tgt`` is MoIR): retrieve target
    sentences with ``dual_encoder``, rerank its top ``k`` with ``cross`` (ranks below k keep their
    order), and report MRR@10 before and after. Returns ``(metrics, per_query)``; per-query keys
    ``"before/PAIR"`` and ``"after/PAIR"`` (float64 ``(n_questions,)``)."""
    from xcs.metrics import RelevanceJudgments, evaluate_ranking
    from xcs.retrieval import search

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
