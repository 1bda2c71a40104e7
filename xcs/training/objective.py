"""The training objective: the towers and the loss of one micro-step."""

from __future__ import annotations

import torch
from torch import nn

from xcs.loss.api import contrastive_loss
from xcs.training.batch import TokenBatch, TokenEncoder, Tokens
from xcs.training.config import TrainConfig


class DualTowers(nn.Module):
    """Query and document towers around ``TokenEncoder.forward_tokens``; one module so DDP sees one
    forward per micro-step however many text groups it encodes.

    With shared towers the document tower *is* the query tower (same parameters).
    """

    def __init__(self, query_encoder: TokenEncoder, document_encoder: TokenEncoder | None = None) -> None:
        super().__init__()
        self.query_model = query_encoder.model
        self.document_model = None if document_encoder is None else document_encoder.model
        # plain attributes (not submodules): the encoders own pooling; their models are registered above
        self.__dict__["query_encoder"] = query_encoder
        self.__dict__["document_encoder"] = document_encoder or query_encoder

    def forward(self, queries: list[Tokens], documents: list[Tokens]) -> tuple[list[torch.Tensor], ...]:
        """Embed each group; returns ``(query_embeddings, document_embeddings)``, float ``(n_i, d)``."""
        q = [self.query_encoder.forward_tokens(t.input_ids, t.attention_mask) for t in queries]
        d = [self.document_encoder.forward_tokens(t.input_ids, t.attention_mask) for t in documents]
        return q, d


def _contrastive(q: torch.Tensor, d: torch.Tensor, config: TrainConfig, *, gather: bool,
                 false_negative_ids: torch.Tensor | None = None) -> torch.Tensor:

    labels = torch.arange(q.shape[0], device=q.device)
    return contrastive_loss(q, d, temperature=config.temperature, labels=labels, symmetric=config.symmetric,
                            false_negative_ids=false_negative_ids, gather=gather, impl=config.loss_impl)


def _distance(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean cosine distance of row-aligned embeddings (``(n, d)`` each)."""
    return (1.0 - torch.nn.functional.cosine_similarity(student, teacher.to(student.dtype), dim=-1)).mean()


def step_loss(towers: nn.Module, batch: TokenBatch, config: TrainConfig, *, gather: bool,
              teacher: TokenEncoder | None = None) -> torch.Tensor:
    """InfoNCE of queries against (positives + hard negatives), plus ``align_weight`` times the mean
    of the query and document alignment terms (each text against its code-switched copy), plus
    ``distill_weight`` times the mean cosine distance of the English originals' embeddings to the
    frozen ``teacher``'s (the untouched starting model)."""
    queries = [batch.queries]
    documents = [batch.documents]
    if config.needs_originals and batch.query_originals is None:
        raise ValueError("align_weight / distill_weight > 0 need batches with the unswitched originals "
                         "(a collator with return_originals=True)")
    if config.distill_weight > 0 and teacher is None:
        raise ValueError("distill_weight > 0 needs the teacher (the untouched starting model)")
    align, distill = config.align_weight > 0, config.distill_weight > 0
    if align or distill:
        queries.append(batch.query_originals)
        documents.append(batch.document_originals)
    q, d = towers(queries, documents)
    loss = _contrastive(q[0], d[0], config, gather=gather, false_negative_ids=batch.document_ids)
    if align:
        positives = d[0][: len(batch.queries)]
        align_loss = 0.5 * (_contrastive(q[1], q[0], config, gather=gather)
                            + _contrastive(d[1], positives, config, gather=gather))
        loss = loss + config.align_weight * align_loss
    if distill:
        with torch.no_grad():
            teacher_q, teacher_d = (teacher.forward_tokens(t.input_ids, t.attention_mask)
                                    for t in (batch.query_originals, batch.document_originals))
        loss = loss + config.distill_weight * 0.5 * (_distance(q[1], teacher_q) + _distance(d[1], teacher_d))
    return loss
