"""``transformers.Trainer`` with xcs: code-switched batches, a new switch pattern every epoch, and
the contrastive loss computed by the model, so neither ``remove_unused_columns=False`` nor a custom
``compute_loss`` is needed::

    collator = CodeSwitchCollator(tokenizer, query_switcher, document_switcher)
    model = DualEncoderForContrastiveTraining(Encoder("default"))
    trainer = Trainer(model=model, args=TrainingArguments(...), train_dataset=dataset,
                      data_collator=collator, callbacks=[CodeSwitchEpochCallback(collator)])
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from xcs.training.batch import TokenBatch, TokenEncoder, Tokens
from xcs.training.config import TrainConfig
from xcs.training.devices import world
from xcs.training.objective import DualTowers, step_loss


class CodeSwitchEpochCallback(TrainerCallback):
    """Calls ``collator.set_epoch(epoch)`` at the start of every training epoch, so each epoch draws a
    new switch pattern (the Trainer never calls ``set_epoch`` on a collator itself). Works with
    DataLoader workers: the collator keeps its epoch in shared memory.

    Args:
        collator: anything with ``set_epoch(int)``: :class:`~xcs.switching.collator.CodeSwitchCollator`
            or :class:`xcs.integrations.sentence_transformers.CodeSwitchDataCollator`.
    """

    def __init__(self, collator: Any) -> None:
        if not callable(getattr(collator, "set_epoch", None)):
            raise TypeError(f"collator must have set_epoch(epoch), got {type(collator).__name__}")
        self.collator = collator

    def on_epoch_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                       **kwargs: Any) -> None:
        # state.epoch is fractional when a run resumes mid-epoch; the epoch index is its floor
        self.collator.set_epoch(math.floor(state.epoch or 0))


class DualEncoderForContrastiveTraining(nn.Module):
    """A dual encoder whose ``forward`` takes a :class:`CodeSwitchCollator` batch and returns
    ``{"loss": loss}``: InfoNCE of the queries against every document of the batch (positives and hard
    negatives; all-gathered across ranks under torchrun), the same objective as ``xcs train``.

    Args:
        encoder: an :class:`xcs.Encoder` (anything with ``model`` and ``forward_tokens``); trained in
            place.
        document_encoder: a separate document tower (default: the query tower, shared weights).
        temperature: InfoNCE temperature.
        symmetric: also contrast documents against queries.
        align_weight: weight of the alignment term (needs a collator with ``return_originals=True``).
        loss_impl: ``"auto" | "triton" | "chunked" | "eager"`` (see :mod:`xcs.loss`).
    """

    def __init__(self, encoder: TokenEncoder, document_encoder: TokenEncoder | None = None, *,
                 temperature: float = 0.05, symmetric: bool = False, align_weight: float = 0.0,
                 loss_impl: str = "auto") -> None:
        super().__init__()
        if not callable(getattr(encoder, "forward_tokens", None)):
            raise TypeError(f"encoder must be an xcs Encoder (forward_tokens), got {type(encoder).__name__}")
        self.towers = DualTowers(encoder, document_encoder)
        self.config = TrainConfig(temperature=temperature, symmetric=symmetric, align_weight=align_weight,
                                  loss_impl=loss_impl)

    def forward(
        self,
        query_input_ids: torch.Tensor,
        query_attention_mask: torch.Tensor,
        document_input_ids: torch.Tensor,
        document_attention_mask: torch.Tensor,
        document_ids: torch.Tensor | None = None,
        query_original_input_ids: torch.Tensor | None = None,
        query_original_attention_mask: torch.Tensor | None = None,
        document_original_input_ids: torch.Tensor | None = None,
        document_original_attention_mask: torch.Tensor | None = None,
        # The collator's input columns: named here only so that the Trainer, which drops dataset
        # columns the forward signature does not name, hands them to the collator.
        query: Any = None,
        document: Any = None,
        negatives: Any = None,
        index: Any = None,
    ) -> dict[str, torch.Tensor]:
        """``{"loss": scalar}``; the tensors are the collator's int64 outputs (``(B, Lq)`` queries,
        ``(B + B*H, Ld)`` documents, ``(B + B*H,)`` document ids)."""
        originals = query_original_input_ids is not None
        if self.config.align_weight > 0 and not originals:
            raise ValueError("align_weight > 0 needs the unswitched originals: build the collator with "
                             "return_originals=True")
        batch = TokenBatch(
            Tokens(query_input_ids, query_attention_mask),
            Tokens(document_input_ids, document_attention_mask), document_ids,
            Tokens(query_original_input_ids, query_original_attention_mask) if originals else None,
            Tokens(document_original_input_ids, document_original_attention_mask) if originals else None)
        return {"loss": step_loss(self.towers, batch, self.config, gather=world()[1] > 1)}

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Save the query tower as an xcs / Hugging Face / sentence-transformers checkpoint."""
        return self.towers.query_encoder.save(path, overwrite=overwrite)

