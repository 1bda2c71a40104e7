"""PyTorch paths of the contrastive (InfoNCE) loss: the eager reference and the chunked CPU backend.

Notation shared with :mod:`xcs.loss` and the Triton kernels in :mod:`xcs.kernels`: queries
``q`` (B, dim), documents ``d`` (N, dim), ``labels`` (B,) int64 with query i's positive document
``labels[i]``, inverse temperature ``inv_tau`` and the logit matrix

    S[i, j] = (q[i] . d[j] - margin * [j == labels[i]]) * inv_tau,  S[i, j] = -inf where masked,

masked meaning ``j != labels[i] and doc_ids[j] == doc_ids[labels[i]]`` (a false negative: a
document with the same id as the query's positive). The row loss of query i is
``logsumexp_j S[i, :] - S[i, labels[i]]``; the column loss (symmetric mode) is
``logsumexp_k S[:, labels[i]] - S[i, labels[i]]``.

The eager path materialises S (B, N); the chunked backend streams chunks of documents and keeps
only O((B + N) * dim) memory, recomputing each chunk in the backward pass.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: Elements of one (B, chunk) logit block the chunked backend materialises at a time (fp32: 16 MiB).
DEFAULT_CHUNK_ELEMENTS = 1 << 22


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the torch paths accumulate in: float64 stays float64, everything else becomes float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def false_negative_mask(
    labels: torch.Tensor, doc_ids: torch.Tensor | None, columns: torch.Tensor
) -> torch.Tensor | None:
    """Bool (B, len(columns)) mask of false negatives among ``columns`` (int64 document indices), or None."""
    if doc_ids is None:
        return None
    positive_ids = doc_ids[labels]
    return (doc_ids[columns][None, :] == positive_ids[:, None]) & (columns[None, :] != labels[:, None])


def logits_block(
    q: torch.Tensor,
    d_block: torch.Tensor,
    labels: torch.Tensor,
    doc_ids: torch.Tensor | None,
    start: int,
    inv_tau: torch.Tensor | float,
    margin: float,
) -> torch.Tensor:
    """S[:, start:start + len(d_block)] (B, chunk) in the dtype of ``q``; margin applied, false negs -inf."""
    columns = torch.arange(start, start + d_block.shape[0], device=q.device)
    raw = q @ d_block.T
    if margin != 0.0:
        is_positive = columns[None, :] == labels[:, None]
        raw = raw - margin * is_positive.to(raw.dtype)
    logits = raw * inv_tau
    mask = false_negative_mask(labels, doc_ids, columns)
    if mask is not None:
        logits = logits.masked_fill(mask, float("-inf"))
    return logits


def _chunk_logits(
    q: torch.Tensor,
    d_chunk: torch.Tensor,
    labels: torch.Tensor,
    doc_ids: torch.Tensor | None,
    start: int,
    inv_tau: float,
    margin: float,
) -> torch.Tensor:
    """:func:`logits_block` for the chunked backend (no autograd): in place, margin as a sparse update."""
    logits = torch.mm(q, d_chunk.T).mul_(inv_tau)
    if margin != 0.0:
        rows = torch.nonzero((labels >= start) & (labels < start + d_chunk.shape[0])).squeeze(1)
        logits[rows, labels[rows] - start] -= margin * inv_tau
    if doc_ids is not None:
        columns = torch.arange(start, start + d_chunk.shape[0], device=q.device)
        logits.masked_fill_(false_negative_mask(labels, doc_ids, columns), float("-inf"))
    return logits


def eager_contrastive_loss(
    q: torch.Tensor,
    d: torch.Tensor,
    labels: torch.Tensor,
    temperature: torch.Tensor | float,
    *,
    symmetric: bool,
    margin: float,
    doc_ids: torch.Tensor | None,
) -> torch.Tensor:
    """Per-query loss (B,) in the dtype of ``q``: materialises S (B, N), autograd differentiates it.

    This is the reference the fused paths are tested against; its memory is O(B * N).
    """
    logits = logits_block(q, d, labels, doc_ids, 0, 1.0 / temperature, margin)
    rows = torch.arange(q.shape[0], device=q.device)
    loss = F.cross_entropy(logits, labels, reduction="none")
    if symmetric:
        # column labels[i] of S, over all B queries, with query i as its target
        column_loss = F.cross_entropy(logits[:, labels].T, rows, reduction="none")
        loss = 0.5 * (loss + column_loss)
    return loss


class ChunkedBackend:
    """Streams chunks of documents through torch matmuls; memory O(B * chunk + (B + N) * dim).

    Implements the two stages :class:`xcs.loss.FusedContrastiveFunction` needs:
    :meth:`logsumexp` (forward) and :meth:`softmax_gradients` (backward, recomputing each chunk).
    """

    def __init__(self, chunk_size: int | None = None) -> None:
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size = chunk_size

    def _chunk(self, num_queries: int) -> int:
        if self.chunk_size is not None:
            return self.chunk_size
        return max(1, DEFAULT_CHUNK_ELEMENTS // max(1, num_queries))

    def logsumexp(
        self,
        q: torch.Tensor,
        d: torch.Tensor,
        labels: torch.Tensor,
        doc_ids: torch.Tensor | None,
        inv_tau: float,
        margin: float,
        symmetric: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Row log-sum-exp (B,) and, if ``symmetric``, column log-sum-exp (N,) of S, in the compute dtype."""
        dtype = compute_dtype(q.dtype)
        q_c, d_c = q.to(dtype), d.to(dtype)
        row_lse = torch.full((q.shape[0],), float("-inf"), dtype=dtype, device=q.device)
        col_lse = torch.empty(d.shape[0], dtype=dtype, device=q.device) if symmetric else None
        chunk = self._chunk(q.shape[0])
        for start in range(0, d.shape[0], chunk):
            logits = _chunk_logits(q_c, d_c[start : start + chunk], labels, doc_ids, start, inv_tau, margin)
            row_lse = torch.logaddexp(row_lse, torch.logsumexp(logits, dim=1))
            if col_lse is not None:
                col_lse[start : start + chunk] = torch.logsumexp(logits, dim=0)
        return row_lse, col_lse

    def softmax_gradients(
        self,
        q: torch.Tensor,
        d: torch.Tensor,
        labels: torch.Tensor,
        doc_ids: torch.Tensor | None,
        inv_tau: float,
        margin: float,
        row_lse: torch.Tensor,
        col_lse: torch.Tensor | None,
        row_grad: torch.Tensor,
        col_grad: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``W @ d`` (B, dim), ``W.T @ q`` (N, dim) and ``sum_ij W[i, j] * S[i, j]`` (0-dim, for the
        temperature gradient) in the compute dtype, for the softmax part of dL/dS

            W[i, j] = row_grad[i] * exp(S[i, j] - row_lse[i]) + col_grad[j] * exp(S[i, j] - col_lse[j]),

        ``row_grad`` (B,) the upstream gradient of each row loss, ``col_grad`` (N,) the summed upstream
        gradient of the column losses anchored at each document (None without the symmetric term).
        """
        dtype = compute_dtype(q.dtype)
        q_c, d_c = q.to(dtype), d.to(dtype)
        grad_q = torch.zeros_like(q_c)
        grad_d = torch.empty_like(d_c)
        weighted_logits = torch.zeros((), dtype=dtype, device=q.device)
        chunk = self._chunk(q.shape[0])
        for start in range(0, d.shape[0], chunk):
            stop = min(start + chunk, d.shape[0])
            logits = _chunk_logits(q_c, d_c[start:stop], labels, doc_ids, start, inv_tau, margin)
            weights = torch.sub(logits, row_lse[:, None]).exp_().mul_(row_grad[:, None])
            if col_grad is not None and col_lse is not None:
                col_part = (
                    torch.sub(logits, col_lse[None, start:stop]).exp_().mul_(col_grad[None, start:stop])
                )
                weights.add_(col_part)
                del col_part
            if doc_ids is not None:
                # masked entries have W = 0 and S = -inf; their product counts as 0
                logits.nan_to_num_(neginf=0.0)
            weighted_logits += torch.dot(weights.view(-1), logits.view(-1))
            grad_q.addmm_(weights, d_c[start:stop])
            torch.mm(weights.T, q_c, out=grad_d[start:stop])
        return grad_q, grad_d, weighted_logits
