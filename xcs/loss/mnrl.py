"""Drop-in for sentence-transformers' ``MultipleNegativesRankingLoss``, backed by ``xcs.contrastive_loss``.

Same defaults (cosine similarity, scale 20 = temperature 0.05) and the same inputs: a list of
feature dicts (anchors, positives, optional hard-negative columns), each embedded by
``model(features)["sentence_embedding"]``. The documents are the positives followed by every
hard-negative column, so anchor i's positive is document i.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from xcs.loss.api import (
    MIN_TEMPERATURE,
    Impl,
    check_flag,
    check_options,
    check_temperature,
    contrastive_loss,
)


def check_scale(scale: object) -> float:
    """``scale`` (an inverse temperature) as a float: a real number (not a bool, a string or a
    tensor), finite, positive, and with ``1 / scale`` a temperature that
    :func:`xcs.loss.api.check_temperature` accepts (``scale <= 1 / MIN_TEMPERATURE``); else a
    TypeError / ValueError naming ``scale``."""
    if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, numbers.Real):
        raise TypeError(f"scale must be a real number, got {type(scale).__name__} {scale!r}")
    value = float(scale)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"scale must be positive and finite, got {scale!r}")
    try:
        check_temperature(1.0 / value)
    except ValueError:
        raise ValueError(f"scale must be positive, finite and <= {1 / MIN_TEMPERATURE:g}, with 1/scale "
                         f"finite (the temperature 1/scale finite and >= {MIN_TEMPERATURE:g}), got "
                         f"{scale!r}") from None
    return value


class MultipleNegativesRankingLoss(nn.Module):
    """InfoNCE over (anchor, positive, negative_1, ..., negative_n) columns, fused (no B x N logits).

    Args:
        model: maps a feature dict to a dict with ``"sentence_embedding"`` (n, dim), as a
            SentenceTransformer does.
        scale: inverse temperature applied to the similarities.
        similarity: "cosine" (embeddings L2-normalised first) or "dot".
        symmetric: add the positive -> anchor direction (sentence-transformers'
            ``directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction"``).
        gather_across_devices: all-gather the documents over torch.distributed ranks.
        impl: forwarded to :func:`xcs.contrastive_loss`.
    """

    def __init__(
        self,
        model: nn.Module,
        scale: float = 20.0,
        similarity: str = "cosine",
        *,
        symmetric: bool = False,
        gather_across_devices: bool = False,
        impl: Impl = "auto",
    ) -> None:
        super().__init__()
        scale = check_scale(scale)  # checked here, not at the first step
        if not isinstance(similarity, str) or similarity not in ("cosine", "dot"):
            raise ValueError(f"similarity must be 'cosine' or 'dot', got {similarity!r}")
        check_flag("gather_across_devices", gather_across_devices)
        check_options(1.0 / scale, symmetric, 0.0, "mean", False, impl)  # symmetric, impl: as the loss's
        self.model, self.scale, self.similarity = model, scale, similarity
        self.symmetric, self.gather_across_devices, self.impl = symmetric, gather_across_devices, impl

    def forward(
        self, sentence_features: Iterable[dict[str, torch.Tensor]], labels: torch.Tensor | None = None
    ):
        """0-dim mean loss; ``labels`` is ignored, as in sentence-transformers (the pairing is positional)."""
        embeddings = [self.model(features)["sentence_embedding"] for features in sentence_features]
        return self.compute_loss_from_embeddings(embeddings, labels)

    def compute_loss_from_embeddings(
        self, embeddings: list[torch.Tensor], labels: torch.Tensor | None = None
    ):
        """Loss from per-column embeddings: anchors (B, dim), positives (B, dim), negatives (B, dim) each."""
        if len(embeddings) < 2:
            raise ValueError(
                f"expected at least 2 embedding columns (anchor, positive), got {len(embeddings)}"
            )
        queries, documents = embeddings[0], torch.cat(embeddings[1:], dim=0)
        if self.similarity == "cosine":
            queries, documents = F.normalize(queries, dim=-1), F.normalize(documents, dim=-1)
        return contrastive_loss(
            queries,
            documents,
            temperature=1.0 / self.scale,
            symmetric=self.symmetric,
            gather=self.gather_across_devices,
            impl=self.impl,
        )
