"""``CollatorBatchBuilder``: the training loop's batches, made by the public ``CodeSwitchCollator``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from xcs.data.pairs import TrainPair
from xcs.switching.collator import CodeSwitchCollator
from xcs.training.batch import TokenBatch, Tokens


def tokens(batch: Mapping[str, torch.Tensor], prefix: str) -> Tokens:
    """``Tokens`` from a collated batch's ``{prefix}_input_ids`` / ``{prefix}_attention_mask``."""
    return Tokens(batch[f"{prefix}_input_ids"], batch[f"{prefix}_attention_mask"])


def token_batch(batch: Mapping[str, Any]) -> TokenBatch:
    """A ``TokenBatch`` from what :class:`CodeSwitchCollator` returns (originals when present)."""
    originals = "query_original_input_ids" in batch
    return TokenBatch(tokens(batch, "query"), tokens(batch, "document"), batch["document_ids"],
                      tokens(batch, "query_original") if originals else None,
                      tokens(batch, "document_original") if originals else None)


class CollatorBatchBuilder:
    """:class:`~xcs.training.batch.BatchBuilder` over a collator: example ``i`` of the training set
    draws as example index ``i`` at the loop's epoch, with the switch rate ``p_at(step)`` when a
    schedule is given.

    Args:
        collator: makes the batches (its switchers, lengths, prefixes and ``return_originals``).
        p_at: switch rate of optimizer step ``step`` (None: the switchers' own ``p``).
    """

    def __init__(self, collator: CodeSwitchCollator, p_at: Callable[[int], float] | None = None) -> None:
        self.collator = collator
        self.p_at = p_at

    def __call__(self, pairs: Sequence[TrainPair], negatives: Sequence[Sequence[str]],
                 example_ids: np.ndarray, epoch: int, step: int) -> TokenBatch:
        if self.p_at is not None:
            self.collator.set_p(self.p_at(step))
        batch = self.collator.collate([p.query for p in pairs], [p.positive for p in pairs], negatives,
                                      np.asarray(example_ids, dtype=np.int64), epoch=epoch)
        return token_batch(batch)
