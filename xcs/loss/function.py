"""The autograd function of the fused loss, its non-tensor parameters, and the backend protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from xcs.loss.torch_backends import compute_dtype


class LossBackend(Protocol):
    """The two stages a fused implementation provides (see :class:`xcs.loss.torch_backends.ChunkedBackend`):
    ``logsumexp`` -> (row LSE (B,), column LSE (N,) or None) and ``softmax_gradients`` ->
    (W @ d (B, dim), W.T @ q (N, dim), sum(W * S) 0-dim), all in the compute dtype. A backend used
    with ``gradient_scale`` also provides ``loss_and_gradients`` (see ``ChunkedBackend``).

    ``folds_positive_gradient``: the backend takes ``positive_grad`` (B,) and subtracts it at each
    (i, labels[i]) of W itself, so that W is the whole of dL/dS (the Triton kernels, which round W
    to 16 bits, must: see :func:`xcs.kernels.contrastive_tile.softmax_weights`); otherwise the
    Function adds that sparse term in O((B + N) dim)."""

    folds_positive_gradient: bool

    def logsumexp(self, q, d, labels, doc_ids, inv_tau, margin, symmetric): ...

    def softmax_gradients(
        self, q, d, labels, doc_ids, inv_tau, margin, row_lse, col_lse, row_grad, col_grad, positive_grad=None
    ): ...


@dataclass(frozen=True)
class ContrastiveParams:
    """The non-tensor arguments of :class:`FusedContrastiveFunction` (as ml-cross-entropy's
    ``CCEParams``).

    ``margin``: subtracted from each positive logit before scaling; ``symmetric``: add the column
    (document -> query) term; ``backend``: a :class:`LossBackend`; ``gradient_scale``: see
    :class:`FusedContrastiveFunction` (None: the recomputing backward).
    """

    margin: float
    symmetric: bool
    backend: LossBackend
    gradient_scale: float | None = None


class FusedContrastiveFunction(torch.autograd.Function):
    """Per-query loss (B,) float32 (float64 for float64 inputs) with O((B + N) * dim) saved state.

    Inputs: q (B, dim) and d (N, dim) of one floating dtype, ``temperature`` a 0-dim tensor (gets a
    gradient when it requires one), ``labels`` (B,) int64, ``doc_ids`` (N,) int64 or None, and the
    :class:`ContrastiveParams`.

    ``gradient_scale`` (chunked backend, scalar reductions; None otherwise) makes the forward
    compute the complete gradients of ``gradient_scale * sum_i loss_i``
    (``backend.loss_and_gradients``) and save them, O((B + N) * dim); the backward returns them
    when the upstream gradient is ``gradient_scale`` for every query (``mean``: 1/B, ``sum``: 1)
    and rescales them when it is uniform with another value. Any other upstream gradient, and a
    second backward through a retained graph, falls back to the recomputing backward. Double
    backward (``create_graph=True``) is not supported on that path (a clear error).
    """

    @staticmethod
    def forward(ctx, q, d, temperature, labels, doc_ids, params: ContrastiveParams):
        margin, symmetric, backend, gradient_scale = (params.margin, params.symmetric, params.backend,
                                                      params.gradient_scale)
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
                return (*wanted, None, None, None)
        inv_tau, margin = ctx.inv_tau, ctx.margin
        grad_loss = grad_loss.to(row_lse.dtype)
        if ctx.symmetric:
            row_grad = col_grad_per_query = 0.5 * grad_loss
            col_grad = torch.zeros(d.shape[0], dtype=row_lse.dtype, device=d.device)
            col_grad.index_add_(0, labels, col_grad_per_query)
        else:
            row_grad, col_grad_per_query, col_grad = grad_loss, torch.zeros_like(grad_loss), None
        # the -onehot part of the cross-entropy gradient: -(row_grad + col_grad) at each (i, labels[i])
        positive_grad = row_grad + col_grad_per_query
        folds = ctx.backend.folds_positive_gradient
        with torch.autocast(q.device.type, enabled=False):
            grad_q, grad_d, weighted_logits = ctx.backend.softmax_gradients(
                q, d, labels, doc_ids, inv_tau, margin, row_lse, col_lse, row_grad, col_grad,
                positive_grad if folds else None,
            )  # fmt: skip
        if not folds:
            # in place on the compute-dtype buffers: the only (B, dim) temporaries are d[labels] and
            # the scaled q, which keeps the backward's extra memory at O((B + N) * dim)
            grad_q.addcmul_(positive_grad[:, None], d[labels], value=-1.0)
            grad_d.index_add_(0, labels, positive_grad[:, None] * q, alpha=-1.0)
            # the backend summed W * S; G * S adds the one-hot part
            weighted_logits = weighted_logits - (positive_grad * positive).sum()
        grad_q.mul_(inv_tau)
        grad_d.mul_(inv_tau)

        grad_temperature = None
        if ctx.needs_input_grad[2]:
            # S = raw / tau, so dL/dtau = -(1/tau) sum_ij G_ij S_ij with G = dL/dS; the backend sums
            # the products in fp32 from the recomputed tiles
            grad_temperature = (-inv_tau * weighted_logits).to(*ctx.temperature_like)
        return (
            grad_q.to(q.dtype) if ctx.needs_input_grad[0] else None,
            grad_d.to(d.dtype) if ctx.needs_input_grad[1] else None,
            grad_temperature,
            None,
            None,
            None,
        )
