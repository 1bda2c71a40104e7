"""BCE training of the reranker's cross-encoder (:class:`xcs.models.cross_encoder.CrossEncoder`) on
code-switched (query, sentence) pairs.

It shares the dual encoder's pieces: batches come from the same batch builder (code-switching on
both sides), batch order from :func:`xcs.training.sampling.batch_indices`, negatives are the other
sentences of the positive's paragraph plus the next query's positive (an in-batch negative), and the
optimizer recipe is :mod:`xcs.training.optimization`. It has no checkpoint/resume or DDP of its own
(one short run).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from xcs.data.pairs import TrainPair
from xcs.models.cross_encoder import CrossEncoder
from xcs.training.batch import BatchBuilder, Tokens
from xcs.training.config import TrainConfig
from xcs.training.negatives import paragraph_negatives
from xcs.training.optimization import NonFiniteLossError, apply_gradients, freeze, optimizer_and_schedule
from xcs.training.sampling import batch_indices, seed_everything


def _bce_step(cross: CrossEncoder, pairs: Sequence[TrainPair], build_batch: BatchBuilder, ids: Any,
              negatives: list[list[str]], epoch: int, step: int) -> torch.Tensor:
    """The BCE loss of one batch: every scored (query, document) row of :func:`scored_rows`."""
    batch = build_batch([pairs[int(i)] for i in ids], negatives, ids, epoch, step)
    queries = _rows(batch.queries)
    documents = _rows(batch.documents)
    rows = scored_rows([pairs[int(i)].positive for i in ids], negatives)
    input_ids, mask = cross.pad([cross.join(queries[q], documents[d]) for q, d, _ in rows])
    logits = cross(input_ids, mask)
    labels = torch.tensor([label for _, _, label in rows], device=logits.device)
    return nn.functional.binary_cross_entropy_with_logits(logits, labels)


def train_cross_encoder(cross: CrossEncoder, pairs: Sequence[TrainPair], build_batch: BatchBuilder,
                        config: TrainConfig, *, progress: bool = True) -> list[float]:
    """BCE training: per query its positive (label 1), ``num_hard_negatives`` other sentences of its
    paragraph and the next query's positive (label 0), negatives equal to the positive skipped (see
    :func:`scored_rows`). Returns the per-step losses; a non-finite loss or gradient raises
    :class:`~xcs.training.optimization.NonFiniteLossError` naming the step."""
    if config.lora_rank:
        raise ValueError(f"lora_rank = {config.lora_rank}: the reranker's cross-encoder trains its full "
                         "weights; set lora_rank = 0 for it")
    seed_everything(config.seed)
    freeze(cross.encoder, config)
    named = [(n, p) for n, p in cross.named_parameters() if p.requires_grad]
    optimizer, scheduler = optimizer_and_schedule(named, config)
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
        loss = _bce_step(cross, pairs, build_batch, ids, negatives, epoch, step)
        optimizer.zero_grad(set_to_none=True)
        value = float(loss.detach())
        if math.isfinite(value):
            loss.backward()
        if not (math.isfinite(value) and apply_gradients([p for _, p in named], optimizer, scheduler,
                                                         config.max_grad_norm)):
            if bar is not None:
                bar.close()
            what = f"loss of step {step + 1} is {value}" if not math.isfinite(value) else (
                f"gradient of step {step + 1} (loss {value:.4g}) is")
            raise NonFiniteLossError(f"reranker training diverged: the {what} (not a finite number); "
                                     "stopped. Lower the learning rate (lr) or raise the warm-up")
        losses.append(value)
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


def _rows(tokens: Tokens) -> list[list[int]]:
    """Unpadded id lists of a ``Tokens`` batch."""
    rows = zip(tokens.input_ids, tokens.attention_mask, strict=True)
    return [ids[mask.bool()].tolist() for ids, mask in rows]


