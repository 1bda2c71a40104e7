"""Contrastive (InfoNCE) loss with in-batch negatives, fused so that the B x N logits are never stored.

``contrastive_loss(q, d)`` is the cross-entropy of each query against its positive document among
all documents (the positives of the other queries and any hard negatives act as negatives):

    loss_i = logsumexp_j S[i, j] - S[i, labels[i]],   S = (q @ d.T - margin * onehot(labels)) / tau

(the exact definition, including the false-negative mask and the symmetric column term, is in
:mod:`xcs.loss.torch_backends`). The implementations share the API:

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

import math
import numbers
import os

import numpy as np
import torch
from torch import nn

from xcs.loss.function import ContrastiveParams, FusedContrastiveFunction
from xcs.loss.options import IMPLS, MIN_TEMPERATURE, REDUCTIONS, Impl, Reduction
from xcs.loss.torch_backends import ChunkedBackend, compute_dtype, eager_contrastive_loss


def _triton_backend(backward: str):
    from xcs.kernels.contrastive import TritonBackend

    return TritonBackend(backward=backward)


def _triton_usable(q: torch.Tensor) -> bool:
    return q.is_cuda or os.environ.get("TRITON_INTERPRET") == "1"




def check_temperature(temperature: object) -> float:
    """``temperature`` as a float: a real number (not a bool, not a string) or a 0-dim floating
    tensor, finite and >= :data:`MIN_TEMPERATURE`; else a TypeError / ValueError naming it."""
    if isinstance(temperature, torch.Tensor):
        if temperature.dim() != 0 or not temperature.is_floating_point():
            raise TypeError(f"temperature must be a real number or a 0-dim floating tensor, got a tensor of "
                            f"dtype {temperature.dtype} and shape {tuple(temperature.shape)}")
        tau = float(temperature.detach())
    elif isinstance(temperature, (bool, np.bool_)) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"temperature must be a real number or a 0-dim floating tensor, got "
                        f"{type(temperature).__name__} {temperature!r}")
    else:
        tau = float(temperature)
    if not (math.isfinite(tau) and tau >= MIN_TEMPERATURE):
        raise ValueError(f"temperature must be positive, finite and >= {MIN_TEMPERATURE:g} (so that 1/tau "
                         f"and the logits stay finite in float32), got {tau!r}")
    return tau


# The largest margin magnitude accepted: margin / tau <= 1e9 keeps the logits finite in float32
# (a margin is a similarity offset, LaBSE's is 0.3).
MAX_MARGIN = 1e3


def check_margin(margin: object) -> float:
    """``margin`` as a float: a real number (not a bool or a string), finite, ``|margin| <= MAX_MARGIN``."""
    if isinstance(margin, (bool, np.bool_)) or not isinstance(margin, numbers.Real):
        raise TypeError(f"margin must be a real number, got {type(margin).__name__} {margin!r}")
    if not (math.isfinite(float(margin)) and abs(float(margin)) <= MAX_MARGIN):
        raise ValueError(f"margin must be finite and in [-{MAX_MARGIN:g}, {MAX_MARGIN:g}], got {margin!r}")
    return float(margin)


def check_flag(name: str, value: object) -> bool:
    """``value`` as a bool if it is one (Python or numpy); else a TypeError naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _check_tensor(name: str, value: object, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not isinstance(value, torch.Tensor):
        kind = "a torch.Tensor or None" if optional else "a torch.Tensor"
        raise TypeError(f"{name} must be {kind}, got {type(value).__name__} "
                        "(convert it with torch.as_tensor)")


def check_options(temperature, symmetric, margin, reduction, gather, impl) -> None:
    """The non-tensor arguments shared by :func:`contrastive_loss` and :class:`ContrastiveLoss`."""
    check_temperature(temperature)
    check_flag("symmetric", symmetric)
    check_margin(margin)
    _check_choice("reduction", reduction, REDUCTIONS)
    check_flag("gather", gather)
    _check_choice("impl", impl, IMPLS)


def _check_inputs(q, d, labels, false_negative_ids, chunk_size):
    _check_tensor("q", q)
    _check_tensor("d", d)
    _check_tensor("labels", labels, optional=True)
    _check_tensor("false_negative_ids", false_negative_ids, optional=True)
    if chunk_size is not None and (isinstance(chunk_size, (bool, np.bool_))
                                   or not isinstance(chunk_size, numbers.Integral)):
        raise TypeError(f"chunk_size must be an integer or None, got {type(chunk_size).__name__} "
                        f"{chunk_size!r}")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
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
    if labels is not None:
        # any integer dtype indexes a document (widened to int64 later); bool and float do not
        if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
            raise ValueError(f"labels must have an integer dtype (document indices), got {labels.dtype}")
        if labels.shape != (q.shape[0],):
            raise ValueError(f"labels must have shape ({q.shape[0]},) (one document index per query), "
                             f"got {tuple(labels.shape)}")
    if false_negative_ids is not None and (
        false_negative_ids.shape != (d.shape[0],) or false_negative_ids.is_floating_point()
        or false_negative_ids.is_complex() or false_negative_ids.dtype == torch.bool
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
        temperature: a real number, or a 0-dim floating tensor that may require a gradient (a learnable
            temperature); finite and >= ``MIN_TEMPERATURE`` (1e-6). A bool or a string is a TypeError
            (never coerced), as are ``margin="0.1"`` and non-tensor ``q``, ``d``, ``labels``.
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
    check_options(temperature, symmetric, margin, reduction, gather, impl)
    _check_inputs(q, d, labels, false_negative_ids, chunk_size)
    if not isinstance(temperature, torch.Tensor):
        temperature = float(temperature)  # a numpy scalar must not change the dtype of the logits
    margin, symmetric = float(margin), bool(symmetric)
    labels = _resolve_labels(labels, q.shape[0], d.shape[0], q.device)
    doc_ids = (
        None if false_negative_ids is None else false_negative_ids.to(device=q.device, dtype=torch.int64)
    )
    local_queries = slice(0, q.shape[0])
    if gather:
        q, d, labels, doc_ids, local_queries = _gather_ranks(q, d, labels, doc_ids, symmetric)
    if impl == "auto":
        impl = "triton" if q.is_cuda and q.dtype != torch.float64 else "chunked"
    if impl == "eager":
        loss = eager_contrastive_loss(
            q, d, labels, temperature, symmetric=symmetric, margin=margin, doc_ids=doc_ids
        )
    else:
        loss = _fused_loss(q, d, temperature, labels, doc_ids, margin=margin, symmetric=symmetric,
                           impl=impl, chunk_size=chunk_size, reduction=reduction,
                           all_queries_local=local_queries == slice(0, q.shape[0]))
    loss = loss[local_queries]
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _resolve_labels(labels: torch.Tensor | None, num_queries: int, num_docs: int,
                    device: torch.device) -> torch.Tensor:
    """``labels`` as int64 on ``device`` (default ``arange(B)``), checked to index a document."""
    if labels is None:
        if num_docs < num_queries:
            raise ValueError(
                f"labels=None pairs query i with document i, so it needs N >= B; "
                f"got B={num_queries} (rows of q), N={num_docs} (rows of d)"
            )
        labels = torch.arange(num_queries, device=device)
    labels = labels.to(device=device, dtype=torch.int64)
    if bool(((labels < 0) | (labels >= num_docs)).any()):
        raise ValueError(
            f"labels must lie in [0, {num_docs}), got values from {int(labels.min())} to {int(labels.max())}"
        )
    return labels


def _gather_ranks(q: torch.Tensor, d: torch.Tensor, labels: torch.Tensor, doc_ids: torch.Tensor | None,
                  symmetric: bool) -> tuple:
    """Every rank's documents (and, if symmetric, queries) with gradient; labels offset to the
    gathered documents; returns ``(q, d, labels, doc_ids, this rank's query rows)``."""
    import torch.distributed as dist

    from xcs.loss.distributed import all_gather_with_gradient

    if not (dist.is_available() and dist.is_initialized()):
        raise ValueError("gather=True needs an initialised torch.distributed process group")
    rank, num_queries = dist.get_rank(), q.shape[0]
    labels = labels + rank * d.shape[0]
    d = all_gather_with_gradient(d, "documents")
    if doc_ids is not None:
        doc_ids = all_gather_with_gradient(doc_ids, "false_negative_ids")
    local_queries = slice(0, num_queries)
    if symmetric:
        # the column softmax of a positive runs over the queries of every rank
        local_queries = slice(rank * num_queries, (rank + 1) * num_queries)
        q = all_gather_with_gradient(q, "queries")
        labels = all_gather_with_gradient(labels, "labels")
    return q, d, labels, doc_ids, local_queries


def _fused_loss(q: torch.Tensor, d: torch.Tensor, temperature: float | torch.Tensor, labels: torch.Tensor,
                doc_ids: torch.Tensor | None, *, margin: float, symmetric: bool, impl: str,
                chunk_size: int | None, reduction: str, all_queries_local: bool) -> torch.Tensor:
    """Per-query losses (B,) through :class:`FusedContrastiveFunction` with the Triton or chunked
    backend."""
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
        # float64 holds a Python float exactly: float64 inputs keep their precision (~1e-16)
        temperature = torch.tensor(float(temperature), dtype=torch.float64)
    # gradients in the forward pass when the upstream gradient will be the same for every query
    # (a scalar reduction over every query the Function returns): 1/B (as mean's backward
    # computes it) for "mean", 1 for "sum"; "none" keeps the recomputing backward
    gradient_scale = None
    if impl == "chunked" and reduction != "none" and all_queries_local:
        one = torch.ones((), dtype=compute_dtype(q.dtype))
        gradient_scale = float(one / q.shape[0]) if reduction == "mean" else 1.0
    params = ContrastiveParams(float(margin), bool(symmetric), backend, gradient_scale)
    return FusedContrastiveFunction.apply(q, d, temperature.reshape(()), labels, doc_ids, params)


class ContrastiveLoss(nn.Module):
    """``nn.Module`` wrapper of :func:`contrastive_loss`; ``learnable_temperature=True`` learns tau.

    The temperature is stored as its logarithm so that it stays positive during training, in float64
    so that float64 inputs lose no precision (a 0-dim tensor does not change the dtype of the logits).
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
        # checked here, not at the first forward (the same rules as contrastive_loss's)
        check_options(temperature, symmetric, margin, reduction, gather, impl)
        log_tau = torch.tensor(check_temperature(temperature), dtype=torch.float64).log()
        if check_flag("learnable_temperature", learnable_temperature):
            self.log_temperature = nn.Parameter(log_tau)
        else:
            self.register_buffer("log_temperature", log_tau)
        self.symmetric, self.margin, self.reduction = symmetric, margin, reduction
        self.gather, self.impl = gather, impl

    @property
    def temperature(self) -> torch.Tensor:
        """0-dim float64 tensor tau = exp(log_temperature)."""
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
