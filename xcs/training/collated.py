"""``CollatorBatchBuilder``: the training loop's batches, made by the public ``CodeSwitchCollator``;
:func:`recipe_batch_builder` makes one from a :class:`~xcs.switching.recipe.SwitchingRecipe`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from xcs.data.options import MAX_DOCUMENT_LENGTH, MAX_QUERY_LENGTH
from xcs.data.pairs import TrainPair
from xcs.switching.collator import CodeSwitchCollator
from xcs.training.batch import TokenBatch, Tokens

if TYPE_CHECKING:
    from xcs.switching.recipe import SwitchingRecipe


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


def recipe_batch_builder(
    tokenizer: Any,
    recipe: SwitchingRecipe | None,
    *,
    lexicons: Mapping[str, Any] | None = None,
    seed: int = 0,
    total_steps: int = 1,
    query_prefix: str = "query: ",
    passage_prefix: str = "passage: ",
    max_query_length: int = MAX_QUERY_LENGTH,
    max_document_length: int = MAX_DOCUMENT_LENGTH,
    align: bool = False,
) -> CollatorBatchBuilder:
    """The training loop's batch builder for ``recipe`` (None: English only): a
    :class:`CodeSwitchCollator` with the recipe's switchers over ``lexicons`` (``{lang: Lexicon}``
    or compiled), E5 prefixes added after switching, the unswitched originals when ``align``, and
    ``p`` following the recipe's schedule over ``total_steps``. Each side's switcher draws from
    ``(seed, epoch, example index)`` with a side-specific index offset, so queries and documents of
    one example are switched independently."""
    options = dict(max_query_length=max_query_length, max_document_length=max_document_length,
                   query_prefix=query_prefix, passage_prefix=passage_prefix, return_originals=align)
    if recipe is None:
        return CollatorBatchBuilder(CodeSwitchCollator(tokenizer, **options))
    collator = recipe.collator(tokenizer, lexicons or {}, seed, **options)
    return CollatorBatchBuilder(collator,
                                (lambda step: recipe.p_at(step, total_steps)) if recipe.scheduled else None)
