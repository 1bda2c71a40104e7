"""What training consumes: padded token batches (made from :class:`xcs.data.pairs.TrainPair` examples)
and the protocols of the batch builder and the encoder."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from xcs.data.pairs import TrainPair


@dataclass
class Tokens:
    """A padded batch of token ids: ``input_ids`` and ``attention_mask``, both int64 ``(n, L)``."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor

    def to(self, device: torch.device | str) -> Tokens:
        """The same batch on ``device`` (both tensors moved; ``self`` is left as it is)."""
        return Tokens(self.input_ids.to(device), self.attention_mask.to(device))

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])


@dataclass
class TokenBatch:
    """What one micro-step feeds the towers (this rank's share of the global batch).

    ``documents`` holds the ``B`` positives first, then ``B * H`` hard negatives (negative ``j`` of
    query ``i`` at row ``B + i * H + j``). ``document_ids`` (int64 ``(B + B*H,)``) names each document
    row's sentence so that a duplicate of a query's positive elsewhere in the batch is not treated as
    a negative. ``query_originals`` / ``document_originals``, when present, are the texts before
    code-switching, row-aligned with ``queries`` / the first ``B`` ``documents``: the alignment term
    contrasts each original with its switched copy.
    """

    queries: Tokens
    documents: Tokens
    document_ids: torch.Tensor
    query_originals: Tokens | None = None
    document_originals: Tokens | None = None


class BatchBuilder(Protocol):
    """Turns examples into token ids; methods (code-switching on which side, p) live here.

    ``example_ids`` are the indices of ``pairs`` in the training set and ``epoch`` the pass over it:
    code-switching engines draw from them, so a batch depends only on ``(seed, epoch, ids)``.
    """

    def __call__(
        self,
        pairs: Sequence[TrainPair],
        negatives: Sequence[Sequence[str]],
        example_ids: np.ndarray,
        epoch: int,
        step: int,
    ) -> TokenBatch: ...


class TokenEncoder(Protocol):
    """What training needs from an encoder (``xcs.Encoder`` satisfies it)."""

    model: nn.Module
    tokenizer: Any

    def forward_tokens(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor: ...

    def encode(self, texts: Sequence[str], kind: str | None = None, **kwargs: Any) -> np.ndarray: ...

    def save(self, path: str | os.PathLike[str]) -> Any: ...
