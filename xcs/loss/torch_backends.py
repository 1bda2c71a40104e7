"""PyTorch paths of the contrastive (InfoNCE) loss: the eager reference and the chunked CPU backend.

Notation shared with :mod:`xcs.loss.api` and the Triton kernels in :mod:`xcs.kernels`: queries
``q`` (B, dim), documents ``d`` (N, dim), ``labels`` (B,) int64 with query i's positive document
``labels[i]``, inverse temperature ``inv_tau`` and the logit matrix

    S[i, j] = (q[i] . d[j] - margin * [j == labels[i]]) * inv_tau,  S[i, j] = -inf where masked,

masked meaning ``j != labels[i] and doc_ids[j] == doc_ids[labels[i]]`` (a false negative: a
document with the same id as the query's positive). The row loss of query i is
``logsumexp_j S[i, :] - S[i, labels[i]]``; the column loss (symmetric mode) is
``logsumexp_k S[:, labels[i]] - S[i, labels[i]]``.

The eager path materialises S (B, N); the chunked backend keeps O(chunk * N + (B + N) * dim)
memory. When the loss is reduced to a scalar it computes the gradients already in the forward pass,
streaming chunks of queries (full rows of S: 3 GEMMs, 4 with the symmetric term); otherwise it
streams chunks of documents and recomputes each chunk in the backward pass.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: Elements of one (B, chunk) logit block the chunked backend materialises at a time (fp32: 16 MiB).
DEFAULT_CHUNK_ELEMENTS = 1 << 22
#: Elements of one (rows, N) block of the gradients-in-forward pass (fp32: 32 MiB). Measured on the
#: shared 2-core CPU (B = N = 4096, dim 384, 2 threads): 1024 / 2048 / 4096 rows took 0.73 / 0.62 /
#: 0.59 s against eager's 0.83 s, 256 rows 2.7 s; the GEMMs are compute-bound at any of these sizes,
#: so cache-sized blocks buy nothing, while every chunk's handful of multi-threaded ops pays a
#: thread-wake-up latency of ~20 ms when the machine is oversubscribed.
DEFAULT_ROW_CHUNK_ELEMENTS = 1 << 23
#: Fewest query rows per chunk of that pass: below it the dD += W.T @ Q[rows] update is a skinny,
#: memory-bound GEMM over the whole (N, dim) accumulator.
MIN_ROW_CHUNK = 64


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
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """S[:, start:start + len(d_block)] (B, len(d_block)) in the dtype of ``q``, for the B queries
    ``q`` with positives ``labels`` (B,): margin applied, false negatives -inf.

    Built in place on the product, which autograd allows (the eager reference differentiates it,
    a learnable 0-dim ``inv_tau`` included); the margin is a sparse update of the positives that
    fall in the block. ``out``: a (B, len(d_block)) buffer to write S into instead of a new tensor
    (no autograd, ``inv_tau`` a float: it rides on the GEMM's alpha).
    """
    stop = start + d_block.shape[0]
    if out is None:
        logits = torch.mm(q, d_block.T).mul_(inv_tau)
    else:
        logits = torch.addmm(out, q, d_block.T, beta=0.0, alpha=inv_tau, out=out)
    if margin != 0.0:
        rows = torch.nonzero((labels >= start) & (labels < stop)).squeeze(1)
        logits[rows, labels[rows] - start] -= margin * inv_tau
    if doc_ids is not None:
        columns = torch.arange(start, stop, device=q.device)
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
    """Torch matmuls over chunks of S; memory O(chunk * (B or N) + (B + N) * dim).

    Implements the stages :class:`xcs.loss.function.FusedContrastiveFunction` needs: :meth:`logsumexp`
    (forward) and :meth:`softmax_gradients` (backward, recomputing each chunk of documents), and
    :meth:`loss_and_gradients`, forward and complete backward of a scalar loss in one pass over
    chunks of queries. ``chunk_size``: documents per chunk for the first two, query rows per chunk
    for the last (default: ~4M and ~8M logits per chunk).

    :meth:`loss_and_gradients` uses few, large ops per chunk on purpose: on a loaded machine every
    multi-threaded op pays a barrier that can wait for a descheduled worker. The row softmax is one
    fused in-place kernel; the row LSE is read off it as ``S_pos - log(softmax_pos)`` (recomputed
    exactly for the rare rows whose positive probability is near underflow); the scales, the 1/tau
    and the positive pairs' one-hot term ride on the GEMMs' alpha and beta.
    """

    # W stays in the compute dtype (fp32 or fp64): the Function adds the one-hot term exactly
    folds_positive_gradient = False

    def __init__(self, chunk_size: int | None = None) -> None:
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size = chunk_size

    def _chunk(self, num_queries: int) -> int:
        if self.chunk_size is not None:
            return self.chunk_size
        return max(1, DEFAULT_CHUNK_ELEMENTS // max(1, num_queries))

    def _row_chunk(self, num_queries: int, num_docs: int) -> int:
        if self.chunk_size is not None:
            return self.chunk_size
        rows = max(MIN_ROW_CHUNK, DEFAULT_ROW_CHUNK_ELEMENTS // max(1, num_docs))
        return min(num_queries, rows)

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
            logits = logits_block(q_c, d_c[start : start + chunk], labels, doc_ids, start, inv_tau, margin)
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
        positive_grad: torch.Tensor | None = None,
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
            logits = logits_block(q_c, d_c[start:stop], labels, doc_ids, start, inv_tau, margin)
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

    @staticmethod
    def _column_shift(logits, q_c, labels, chunks, block) -> tuple[torch.Tensor, torch.Tensor]:
        """The symmetric term's first pass (one GEMM per chunk of rows): column LSE (N,) and, for the
        columns ``[0, max(labels) + 1)`` (only some query's positive carries a column loss), the
        shift that turns the column part of the gradient weights, ``col_grad[j] * exp(S - col_lse[j])``
        with ``col_grad = count / 2``, into ``exp(S - shift) / 2``; a column without positives gets
        shift +inf (weight 0; a positive column's lse is finite)."""
        col_lse = torch.full((block.shape[1],), float("-inf"), dtype=block.dtype, device=block.device)
        for start, stop in chunks:
            chunk_logits = logits(q_c[start:stop], labels[start:stop], block[: stop - start])
            torch.logaddexp(col_lse, torch.logsumexp(chunk_logits, dim=0), out=col_lse)
        num_positive_columns = int(labels.max()) + 1
        count = torch.bincount(labels, minlength=num_positive_columns).to(block.dtype)
        col_shift = torch.where(count > 0, col_lse[:num_positive_columns] - count.log(), float("inf"))
        return col_lse, col_shift

    def loss_and_gradients(
        self,
        q: torch.Tensor,
        d: torch.Tensor,
        labels: torch.Tensor,
        doc_ids: torch.Tensor | None,
        inv_tau: float,
        margin: float,
        symmetric: bool,
        scale: float,
        temperature_grad: bool,
    ) -> tuple[
        torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None
    ]:
        """The forward and the complete backward of ``scale * sum_i loss_i`` in one pass over chunks
        of query rows: the gradients-in-forward trick of Liger's fused linear cross-entropy (the loss
        is the last op, so its upstream gradient is known up to a factor).

        Returns, in the compute dtype: row LSE (B,), column LSE (N,) or None, the positive logits
        S[i, labels[i]] (B,), dL/dq (B, dim), dL/dd (N, dim) and dL/dtau (0-dim; None unless
        ``temperature_grad``), where ``L = scale * sum_i loss_i``.

        Each chunk of R rows computes S[rows, :] (R, N) once, so its softmax is exact without an
        online merge and is used straight away: dQ[rows] = (W @ d - d[labels]) * scale / tau and
        dD += W.T @ q[rows] * scale / tau, 3 GEMMs in all (eager: 3). The symmetric term needs
        every column's LSE before any weight is known: a first pass of one GEMM per chunk merges
        chunk column LSEs and the second pass recomputes S (4 GEMMs). The temperature gradient
        comes from the finished query gradient, ``dL/dtau = -(1/tau) (sum_i q_i . dQ_i -
        scale * margin / tau * (sum_i W[i, labels[i]] - B))``, with no extra pass over the block.
        Memory: one (R, N) block (two when symmetric) beyond the (B + N, dim) outputs.

        Few, large ops per chunk: see the class docstring.
        """
        dtype = compute_dtype(q.dtype)
        q_c, d_c = q.to(dtype), d.to(dtype)
        num_queries, num_docs = q.shape[0], d.shape[0]
        rows_per_chunk = self._row_chunk(num_queries, num_docs)
        block = torch.empty((min(rows_per_chunk, num_queries), num_docs), dtype=dtype, device=q.device)

        def logits(q_rows: torch.Tensor, row_labels: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
            """S[rows, :] (R, N) into ``out``."""
            return logits_block(q_rows, d_c, row_labels, doc_ids, 0, inv_tau, margin, out=out)

        chunks = [
            (start, min(start + rows_per_chunk, num_queries))
            for start in range(0, num_queries, rows_per_chunk)
        ]
        col_lse = None
        if symmetric:
            col_lse, col_shift = self._column_shift(logits, q_c, labels, chunks, block)
            num_positive_columns = col_shift.shape[0]
            col_block = torch.empty((block.shape[0], num_positive_columns), dtype=dtype, device=q.device)

        # W = weight_scale * (row softmax + column part): 1 without, 1/2 with the symmetric term
        gemm_scale = scale * inv_tau * (0.5 if symmetric else 1.0)
        # below this positive probability log() loses digits (subnormals): recompute the row's LSE
        underflow = torch.finfo(dtype).tiny * 2.0**24
        row_lse = torch.empty(num_queries, dtype=dtype, device=q.device)
        positive = torch.empty(num_queries, dtype=dtype, device=q.device)
        positive_weight = torch.empty(num_queries, dtype=dtype, device=q.device)
        grad_q = torch.empty_like(q_c)
        grad_d = torch.empty_like(d_c)
        for start, stop in chunks:
            local_rows = torch.arange(stop - start, device=q.device)
            chunk_labels = labels[start:stop]
            weights = logits(q_c[start:stop], chunk_labels, block[: stop - start])
            positive[start:stop] = weights[local_rows, chunk_labels]
            if symmetric:
                col_part = col_block[: stop - start]
                torch.sub(weights[:, :num_positive_columns], col_shift, out=col_part).exp_()
            torch._softmax(weights, 1, False, out=weights)  # fused max/exp/sum/normalise, in place
            positive_softmax = weights[local_rows, chunk_labels]
            torch.sub(positive[start:stop], positive_softmax.log(), out=row_lse[start:stop])
            tiny_rows = torch.nonzero(positive_softmax < underflow).squeeze(1)
            if tiny_rows.numel():
                rows = tiny_rows + start
                exact = logits(q_c[rows], labels[rows], q_c.new_empty((rows.numel(), num_docs)))
                row_lse[rows] = torch.logsumexp(exact, dim=1)
            if symmetric:
                weights[:, :num_positive_columns].add_(col_part)
            positive_weight[start:stop] = weights[local_rows, chunk_labels]
            # dQ[rows] = scale / tau * (W @ d - d[labels]): the one-hot term is the GEMM's beta input
            grad_q_rows = grad_q[start:stop]
            torch.addmm(
                d_c[chunk_labels], weights, d_c, beta=-scale * inv_tau, alpha=gemm_scale, out=grad_q_rows
            )
            grad_d.addmm_(weights.T, q_c[start:stop], beta=1.0 if start else 0.0, alpha=gemm_scale)
        grad_d.index_add_(0, labels, q_c, alpha=-scale * inv_tau)
        grad_temperature = None
        if temperature_grad:
            weight_scale = 0.5 if symmetric else 1.0
            grad_temperature = -inv_tau * (
                torch.vdot(q_c.reshape(-1), grad_q.reshape(-1))
                - scale * margin * inv_tau * (weight_scale * positive_weight.sum() - num_queries)
            )
        return row_lse, col_lse, positive, grad_q, grad_d, grad_temperature
