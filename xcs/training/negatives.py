"""Hard negatives: other sentences of the positive's paragraph, the model's own top wrong answers, or
those given with each pair."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from xcs.data.pairs import TrainPair
from xcs.training.batch import TokenEncoder


def paragraph_negatives(pairs: Sequence[TrainPair], ids: np.ndarray, k: int, seed: int, step: int
                        ) -> list[list[str]]:
    """``k`` other sentences of each example's paragraph, drawn with a ``(seed, step, id)`` RNG.

    Paragraphs with fewer than ``k`` other sentences are topped up by repetition; an example without
    any gets its own positive back, which the loss then masks as a duplicate (no signal, no harm).
    """
    out = []
    for i in ids:
        pair = pairs[int(i)]
        others = [s for s in pair.paragraph if s != pair.positive]
        if not others:
            out.append([pair.positive] * k)
            continue
        rng = np.random.default_rng([seed, step, int(i), 7])
        picks = rng.choice(len(others), size=k, replace=len(others) < k)
        out.append([others[j] for j in picks])
    return out


def given_negatives(pairs: Sequence[TrainPair], ids: np.ndarray, k: int) -> list[list[str]]:
    """Each example's own hard negatives (``TrainPair.negatives``); every one must have exactly ``k``."""
    out = []
    for i in ids:
        negatives = pairs[int(i)].negatives
        if len(negatives) != k:
            raise ValueError(f"training pair {int(i)} has {len(negatives)} hard negative(s); hard_negatives "
                             f"= 'given' needs exactly num_hard_negatives = {k} in every pair")
        out.append(list(negatives))
    return out


@torch.no_grad()
def mine_negatives(encoder: TokenEncoder, pairs: Sequence[TrainPair], k: int, batch_size: int = 64,
                   document_encoder: TokenEncoder | None = None) -> list[list[str]]:
    """For every pair, the ``k`` highest-ranked sentences under the model that are not its positive.

    The pool is every distinct positive sentence of the training set (at least two are needed);
    queries are embedded by ``encoder``, the pool by ``document_encoder`` (separate towers; default
    ``encoder``), both in eval mode (their train/eval modes are restored afterwards). Returns, per
    pair, ``k`` strings. Costs one pass of the towers over queries and pool.
    """
    pool = sorted({p.positive for p in pairs})
    if len(pool) < 2:
        raise ValueError(f"mining hard negatives needs at least 2 distinct positive sentences, got "
                         f"{len(pool)}; use hard_negatives = 'paragraph' or 'none' for this data")
    index = {s: i for i, s in enumerate(pool)}
    towers = [encoder] if document_encoder is None else [encoder, document_encoder]
    was_training = [tower.model.training for tower in towers]
    for tower in towers:
        tower.model.eval()
    try:
        q = torch.from_numpy(np.asarray(encoder.encode([p.query for p in pairs], kind="query",
                                                       batch_size=batch_size, show_progress=False)))
        d = torch.from_numpy(np.asarray(towers[-1].encode(pool, kind="passage", batch_size=batch_size,
                                                          show_progress=False)))
    finally:
        for tower, mode in zip(towers, was_training, strict=True):
            tower.model.train(mode)
    positive = torch.tensor([index[p.positive] for p in pairs])
    out: list[list[str]] = []
    for start in range(0, len(pairs), 1024):  # bounded memory: 1024 x |pool| scores at a time
        scores = q[start:start + 1024] @ d.T
        rows = torch.arange(scores.shape[0])
        scores[rows, positive[start:start + 1024]] = -math.inf
        top = scores.topk(min(k, len(pool) - 1), dim=1).indices
        out.extend([[pool[j] for j in row] + [pool[row[0]]] * (k - len(row)) for row in top.tolist()])
    return out
