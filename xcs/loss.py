"""Contrastive (InfoNCE) loss with in-batch negatives, fused so that the B x N logits are never stored.

``contrastive_loss(q, d)`` is the cross-entropy of each query against its positive document among
all documents (the positives of the other queries and any hard negatives act as negatives):

    loss_i = logsumexp_j S[i, j] - S[i, labels[i]],   S = (q @ d.T - margin * onehot(labels)) / tau

(the exact definition, including the false-negative mask and the symmetric column term, is in
:mod:`xcs.loss_torch`). The implementations share the API:

- ``"triton"`` (CUDA, or CPU under ``TRITON_INTERPRET=1``): the kernels in :mod:`xcs.kernels`
  stream document tiles with an online log-sum-exp and recompute the tiles in the backward pass
  (``"triton_gemm"``: the same forward, a backward that leaves the gradient products to cuBLAS);
- ``"chunked"`` (any device): the same algorithm with torch matmuls on chunks of documents;
- ``"eager"``: the plain reference that materialises S and lets autograd differentiate it.

Both fused paths go through :class:`FusedContrastiveFunction`: forward keeps only the row (and
column) log-sum-exp, backward asks the backend for the softmax part of the gradient and adds the
sparse positive-pair terms and the temperature gradient in O((B + N) * dim). For a scalar loss
("mean", "sum") the chunked backend instead computes the complete gradients in the forward pass
(no recompute: 3 GEMMs like eager) and the backward only hands them out.
"""

from __future__ import annotations

import os
from typing import Literal, Protocol

import torch
from torch import nn

from xcs.loss_torch import ChunkedBackend, compute_dtype, eager_contrastive_loss

Reduction = Literal["mean", "sum", "none"]
Impl = Literal["auto", "triton", "triton_gemm", "chunked", "eager"]
_REDUCTIONS = ("mean", "sum", "none")
_IMPLS = ("auto", "triton", "triton_gemm", "chunked", "eager")


class LossBackend(Protocol):
    """The two stages a fused implementation provides (see :class:`xcs.loss_torch.ChunkedBackend`):
    ``logsumexp`` -> (row LSE (B,), column LSE (N,) or None) and ``softmax_gradients`` ->
    (W @ d (B, dim), W.T @ q (N, dim), sum(W * S) 0-dim), all in the compute dtype. A backend used
    with ``gradient_scale`` also provides ``loss_and_gradients`` (see ``ChunkedBackend``)."""

    def logsumexp(self, q, d, labels, doc_ids, inv_tau, margin, symmetric): ...

    def softmax_gradients(
        self, q, d, labels, doc_ids, inv_tau, margin, row_lse, col_lse, row_grad, col_grad
    ): ...


class FusedContrastiveFunction(torch.autograd.Function):
    """Per-query loss (B,) float32 (float64 for float64 inputs) with O((B + N) * dim) saved state.

    Inputs: q (B, dim) and d (N, dim) of one floating dtype, ``labels`` (B,) int64, ``doc_ids`` (N,)
    int64 or None, ``temperature`` a 0-dim tensor (gets a gradient when it requires one).

    ``gradient_scale`` (chunked backend, scalar reductions; None otherwise) makes the forward
    compute the complete gradients of ``gradient_scale * sum_i loss_i``
    (``backend.loss_and_gradients``) and save them, O((B + N) * dim); the backward returns them
    when the upstream gradient is ``gradient_scale`` for every query (``mean``: 1/B, ``sum``: 1)
    and rescales them when it is uniform with another value. Any other upstream gradient, and a
    second backward through a retained graph, falls back to the recomputing backward. Double
    backward (``create_graph=True``) is not supported on that path (a clear error).
    """

    @staticmethod
    def forward(ctx, q, d, temperature, labels, doc_ids, margin, symmetric, backend, gradient_scale):
        inv_tau = 1.0 / float(temperature.detach())
        dtype = compute_dtype(q.dtype)
        precompute = gradient_scale is not None and any(ctx.needs_input_grad[:3])
        # the backends choose their own precisions: an enclosing autocast must not turn their fp32
        # matmuls into bf16 ones
        with torch.autocast(q.device.type, enabled=False):
            if precompute:
                row_lse, col_lse, positive, grad_q, grad_d, grad_temperature = backend.loss_and_gradients(
                    q, d, labels, doc_ids, inv_tau, margin, symmetric, gradient_scale, ctx.needs_input_grad[2]
                )
            else:
                row_lse, col_lse = backend.logsumexp(q, d, labels, doc_ids, inv_tau, margin, symmetric)
                # the positive logit S[i, labels[i]], computed once here in the compute dtype
                positive = ((q.to(dtype) * d[labels].to(dtype)).sum(-1) - margin) * inv_tau
        loss = row_lse - positive
        if symmetric:
            # a column that is every row's false negative has lse -inf; it carries no gradient, and a
            # finite stand-in keeps exp(S - lse) = 0 there instead of nan
            col_lse = col_lse.masked_fill(col_lse == float("-inf"), 0.0)
            loss = 0.5 * (loss + col_lse[labels] - positive)
        ctx.save_for_backward(q, d, labels, doc_ids, row_lse, col_lse, positive)
        ctx.inv_tau, ctx.margin, ctx.symmetric, ctx.backend = inv_tau, margin, symmetric, backend
        ctx.temperature_like = (temperature.device, temperature.dtype)
        ctx.gradients = None
        if precompute:
            if grad_temperature is not None:
                grad_temperature = grad_temperature.to(*ctx.temperature_like)
            ctx.gradients = (grad_q.to(q.dtype), grad_d.to(d.dtype), grad_temperature)
            ctx.gradient_scale = gradient_scale
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        q, d, labels, doc_ids, row_lse, col_lse, positive = ctx.saved_tensors
        if ctx.gradients is not None:
            if torch.is_grad_enabled():
                raise RuntimeError(
                    "contrastive_loss(impl='chunked') with reduction 'mean' or 'sum' computes its gradients "
                    "in the forward pass and does not support double backward (create_graph=True); "
                    "use impl='eager' for higher-order gradients"
                )
            upstream = grad_loss[0]
            if bool((grad_loss == upstream).all()):
                factor = float(upstream) / ctx.gradient_scale
                # hand the buffers over (autograd can then take them as .grad without a copy, and
                # they are not kept alive with the graph); a second backward through a retained
                # graph takes the recomputing path below
                gradients, ctx.gradients = ctx.gradients, None
                gradients = [g if g is None or factor == 1.0 else g * factor for g in gradients]
                wanted = [
                    g if needed else None for g, needed in zip(gradients, ctx.needs_input_grad, strict=False)
                ]
                return (*wanted, None, None, None, None, None, None)
        inv_tau, margin = ctx.inv_tau, ctx.margin
        grad_loss = grad_loss.to(row_lse.dtype)
        if ctx.symmetric:
            row_grad = col_grad_per_query = 0.5 * grad_loss
            col_grad = torch.zeros(d.shape[0], dtype=row_lse.dtype, device=d.device)
            col_grad.index_add_(0, labels, col_grad_per_query)
        else:
            row_grad, col_grad_per_query, col_grad = grad_loss, torch.zeros_like(grad_loss), None
        with torch.autocast(q.device.type, enabled=False):
            grad_q, grad_d, weighted_logits = ctx.backend.softmax_gradients(
                q, d, labels, doc_ids, inv_tau, margin, row_lse, col_lse, row_grad, col_grad
            )
        # the -onehot part of the cross-entropy gradient: -(row_grad + col_grad) at each (i, labels[i])
        positive_grad = row_grad + col_grad_per_query
        # in place on the compute-dtype buffers: the only (B, dim) temporaries are d[labels] and the
        # scaled q, which keeps the backward's extra memory at O((B + N) * dim)
        grad_q.addcmul_(positive_grad[:, None], d[labels], value=-1.0).mul_(inv_tau)
        grad_d.index_add_(0, labels, positive_grad[:, None] * q, alpha=-1.0).mul_(inv_tau)

        grad_temperature = None
        if ctx.needs_input_grad[2]:
            # S = raw / tau, so dL/dtau = -(1/tau) sum_ij G_ij S_ij with G = dL/dS = W - onehot part;
            # the backend sums W * S in fp32 from the recomputed tiles
            grad_temperature = (-inv_tau * (weighted_logits - (positive_grad * positive).sum())).to(
                *ctx.temperature_like
            )
        return (
            grad_q.to(q.dtype) if ctx.needs_input_grad[0] else None,
            grad_d.to(d.dtype) if ctx.needs_input_grad[1] else None,
            grad_temperature,
            None,
            None,
            None,
            None,
            None,
            None,
        )


class _AllGatherWithGradient(torch.autograd.Function):
    """Concatenate ``x`` (n, ...) from every rank along dim 0; backward sums the gradients over ranks
    and returns this rank's slice (all_reduce, so it runs on gloo too, which has no reduce_scatter)."""

    @staticmethod
    def forward(ctx, x):
        import torch.distributed as dist

        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        ctx.rank, ctx.rows = dist.get_rank(), x.shape[0]
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad):
        import torch.distributed as dist

        grad = grad.contiguous()
        dist.all_reduce(grad)
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


def _all_gather(x: torch.Tensor, name: str) -> torch.Tensor:
    """All-gather with gradient after checking every rank has the same number of rows."""
    import torch.distributed as dist

    sizes = [torch.zeros(1, dtype=torch.int64, device=x.device) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, torch.tensor([x.shape[0]], dtype=torch.int64, device=x.device))
    if len({int(s) for s in sizes}) != 1:
        raise ValueError(
            f"gather=True needs the same number of {name} on every rank, got {[int(s) for s in sizes]}"
        )
    if x.requires_grad:
        return _AllGatherWithGradient.apply(x)
    parts = [torch.empty_like(x) for _ in sizes]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


def _triton_backend(backward: str):
    from xcs.kernels.contrastive import TritonBackend

    return TritonBackend(backward=backward)


def _triton_usable(q: torch.Tensor) -> bool:
    return q.is_cuda or os.environ.get("TRITON_INTERPRET") == "1"


def _check_inputs(q, d, temperature, labels, false_negative_ids, reduction, impl):
    if q.dim() != 2 or d.dim() != 2:
        raise ValueError(
            f"q and d must be 2-D (B, dim) and (N, dim), got shapes {tuple(q.shape)} and {tuple(d.shape)}"
        )
    if q.shape[1] != d.shape[1]:
        raise ValueError(f"q and d must have the same dim, got {q.shape[1]} and {d.shape[1]}")
    if q.shape[0] == 0 or d.shape[0] == 0 or q.shape[1] == 0:
        raise ValueError(f"q and d must be non-empty, got shapes {tuple(q.shape)} and {tuple(d.shape)}")
    if not q.is_floating_point() or q.dtype != d.dtype:
        raise ValueError(f"q and d must share one floating dtype, got {q.dtype} and {d.dtype}")
    if q.device != d.device:
        raise ValueError(f"q and d must be on one device, got {q.device} and {d.device}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if impl not in _IMPLS:
        raise ValueError(f"impl must be one of {_IMPLS}, got {impl!r}")
    tau = float(temperature.detach()) if isinstance(temperature, torch.Tensor) else float(temperature)
    if not tau > 0.0 or tau == float("inf"):
        raise ValueError(f"temperature must be positive and finite, got {tau}")
    integer_labels = labels is None or labels.dtype in (torch.int32, torch.int64)
    if labels is not None and (labels.shape != (q.shape[0],) or not integer_labels):
        raise ValueError(
            f"labels must be an integer tensor of shape ({q.shape[0]},), "
            f"got {labels.dtype} {tuple(labels.shape)}"
        )
    if false_negative_ids is not None and (
        false_negative_ids.shape != (d.shape[0],) or false_negative_ids.is_floating_point()
    ):
        raise ValueError(
            f"false_negative_ids must be an integer tensor of shape ({d.shape[0]},), got "
            f"{false_negative_ids.dtype} {tuple(false_negative_ids.shape)}"
        )


def contrastive_loss(
    q: torch.Tensor,
    d: torch.Tensor,
    *,
    temperature: float | torch.Tensor = 0.05,
    labels: torch.Tensor | None = None,
    symmetric: bool = False,
    margin: float = 0.0,
    false_negative_ids: torch.Tensor | None = None,
    reduction: Reduction = "mean",
    gather: bool = False,
    impl: Impl = "auto",
    chunk_size: int | None = None,
) -> torch.Tensor:
    """InfoNCE loss of queries ``q`` (B, dim) against documents ``d`` (N, dim) with in-batch negatives.

    Args:
        q, d: embeddings of one floating dtype (float32, float16, bfloat16; float64 on the torch paths).
            They are used as given: normalise them first for cosine similarity.
        temperature: float, or a 0-dim tensor that may require a gradient (a learnable temperature).
        labels: (B,) int index of each query's positive document; default ``arange(B)`` (needs N >= B).
        symmetric: also add the document->query loss of each positive pair (the column softmax over
            the B queries) and average the two directions.
        margin: additive margin subtracted from the positive logit before scaling (LaBSE), in both
            directions.
        false_negative_ids: (N,) int id per document; documents sharing the id of a query's positive
            (other than the positive itself) are left out of that query's softmax.
        reduction: "mean" | "sum" over queries, or "none" for the (B,) per-query losses.
        gather: all-gather the documents (and, if symmetric, the queries) of every torch.distributed rank
            with gradient; labels are offset by ``rank * N``. With "mean", each rank's loss is the mean
            over its own queries, so the rank average (what DDP averages gradients to) equals the loss
            on the concatenated batch.
        impl: "auto" (triton on CUDA, chunked elsewhere and for float64), "triton" (Triton forward and
            atomic tile backward), "triton_gemm" (Triton forward, backward through chunks of
            softmax weights and cuBLAS), "chunked", "eager".
        chunk_size: chunk of the chunked path: query rows per chunk with "mean"/"sum" (gradients in
            the forward; default ~8M logits per chunk), documents per chunk with "none" (recomputing
            backward; default ~4M logits per chunk).

    Returns:
        0-dim loss for "mean"/"sum", (B,) for "none"; float32 for 16-bit inputs on the fused paths,
        the input dtype on the eager path.
    """
    _check_inputs(q, d, temperature, labels, false_negative_ids, reduction, impl)
    num_queries, num_docs = q.shape[0], d.shape[0]
    if labels is None:
        if num_docs < num_queries:
            raise ValueError(
                f"labels=None pairs query i with document i, so it needs N >= B; "
                f"got B={num_queries}, N={num_docs}"
            )
        labels = torch.arange(num_queries, device=q.device)
    labels = labels.to(device=q.device, dtype=torch.int64)
    if bool(((labels < 0) | (labels >= num_docs)).any()):
        raise ValueError(
            f"labels must lie in [0, {num_docs}), got values from {int(labels.min())} to {int(labels.max())}"
        )
    doc_ids = (
        None if false_negative_ids is None else false_negative_ids.to(device=q.device, dtype=torch.int64)
    )

    local_queries = slice(0, num_queries)
    if gather:
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()):
            raise ValueError("gather=True needs an initialised torch.distributed process group")
        rank = dist.get_rank()
        labels = labels + rank * num_docs
        d = _all_gather(d, "documents")
        if doc_ids is not None:
            doc_ids = _all_gather(doc_ids, "false_negative_ids")
        if symmetric:
            # the column softmax of a positive runs over the queries of every rank
            local_queries = slice(rank * num_queries, (rank + 1) * num_queries)
            q = _all_gather(q, "queries")
            labels = _all_gather(labels, "labels")

    if impl == "auto":
        impl = "triton" if q.is_cuda and q.dtype != torch.float64 else "chunked"
    if impl == "eager":
        loss = eager_contrastive_loss(
            q, d, labels, temperature, symmetric=symmetric, margin=margin, doc_ids=doc_ids
        )
    else:
        if impl in ("triton", "triton_gemm"):
            if not _triton_usable(q):
                raise ValueError(f"impl={impl!r} needs CUDA tensors (or TRITON_INTERPRET=1 for CPU tensors)")
            if q.dtype == torch.float64:
                raise ValueError(
                    f"impl={impl!r} supports float32, float16 and bfloat16; use impl='chunked' for float64"
                )
            backend = _triton_backend("atomic" if impl == "triton" else "gemm")
        else:
            backend = ChunkedBackend(chunk_size)
        if not isinstance(temperature, torch.Tensor):
            temperature = torch.tensor(float(temperature))
        # gradients in the forward pass when the upstream gradient will be the same for every query
        # (a scalar reduction over every query the Function returns): 1/B (as mean's backward
        # computes it) for "mean", 1 for "sum"; "none" keeps the recomputing backward
        gradient_scale = None
        if impl == "chunked" and reduction != "none" and local_queries == slice(0, q.shape[0]):
            one = torch.ones((), dtype=compute_dtype(q.dtype))
            gradient_scale = float(one / q.shape[0]) if reduction == "mean" else 1.0
        loss = FusedContrastiveFunction.apply(
            q,
            d,
            temperature.reshape(()),
            labels,
            doc_ids,
            float(margin),
            bool(symmetric),
            backend,
            gradient_scale,
        )
    loss = loss[local_queries]
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


class ContrastiveLoss(nn.Module):
    """``nn.Module`` wrapper of :func:`contrastive_loss`; ``learnable_temperature=True`` learns tau.

    The temperature is stored as its logarithm so that it stays positive during training.
    """

    def __init__(
        self,
        temperature: float = 0.05,
        *,
        learnable_temperature: bool = False,
        symmetric: bool = False,
        margin: float = 0.0,
        reduction: Reduction = "mean",
        gather: bool = False,
        impl: Impl = "auto",
    ) -> None:
        super().__init__()
        if not temperature > 0.0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        log_tau = torch.tensor(float(temperature)).log()
        if learnable_temperature:
            self.log_temperature = nn.Parameter(log_tau)
        else:
            self.register_buffer("log_temperature", log_tau)
        self.symmetric, self.margin, self.reduction = symmetric, margin, reduction
        self.gather, self.impl = gather, impl

    @property
    def temperature(self) -> torch.Tensor:
        """0-dim float32 tensor tau = exp(log_temperature)."""
        return self.log_temperature.exp()

    def forward(
        self,
        q: torch.Tensor,
        d: torch.Tensor,
        labels: torch.Tensor | None = None,
        false_negative_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Loss of q (B, dim) against d (N, dim); see :func:`contrastive_loss`."""
        return contrastive_loss(
            q,
            d,
            temperature=self.temperature,
            labels=labels,
            symmetric=self.symmetric,
            margin=self.margin,
            false_negative_ids=false_negative_ids,
            reduction=self.reduction,
            gather=self.gather,
            impl=self.impl,
        )

    def extra_repr(self) -> str:
        return (
            f"temperature={float(self.temperature.detach()):.4g}, symmetric={self.symmetric}, "
            f"margin={self.margin}, "
            f"reduction={self.reduction!r}, gather={self.gather}, impl={self.impl!r}"
        )
