"""Backward stage of the fused contrastive loss: the softmax part of dL/dq and dL/dd from recomputed tiles.

One program per (BLOCK_M, BLOCK_N) tile of S (grouped along rows for L2 reuse of the document tiles)
recomputes its logits from q, d and the saved LSEs, forms

    W[i, j] = row_grad[i] * exp(S[i, j] - row_lse[i]) + col_grad[j] * exp(S[i, j] - col_lse[j])
    G[i, j] = W[i, j] - positive_grad[i] * [j == labels[i]]                  (= dL/dS, in fp32)

and adds ``G @ d_tile`` to grad_q and ``G.T @ q_tile`` to grad_d with fp32 atomics (plus the
row sums of ``G * S`` for the temperature gradient), streaming the
embedding dimension in BLOCK_K slices so that any ``dim`` fits in registers. That is three GEMMs in
total (one recompute, two gradient products); a deterministic two-pass variant (one pass over rows
for grad_q, one over columns for grad_d) needs four and, at dim 384/768, cannot keep a full-width
gradient row block in registers. The 1/tau factor is applied by the caller in O((B + N) * dim).
"""

from __future__ import annotations

import triton
import triton.language as tl
from xcs.kernels.contrastive_tile import (
    grouped_tile_offsets,
    index_arguments,
    recompute_softmax_weights,
    shape_arguments,
    softmax_arguments,
    tile_options,
)


@triton.jit
def softmax_gradient_kernel(
    q_ptr,
    d_ptr,
    labels_ptr,
    positive_ids_ptr,
    doc_ids_ptr,
    row_lse_ptr,
    col_lse_ptr,
    row_grad_ptr,
    col_grad_ptr,
    positive_grad_ptr,
    grad_q_ptr,
    grad_d_ptr,
    weighted_logits_ptr,
    num_queries,
    num_docs,
    dim,
    stride_q,
    stride_d,
    inv_tau,
    margin_scaled,
    HAS_IDS: tl.constexpr,
    SYMMETRIC: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    BLOCK_D: tl.constexpr,  # slice of dim per gradient GEMM + atomic add (bounds the registers it needs)
    GROUP_M: tl.constexpr,
    UPCAST: tl.constexpr,
    PRECISION: tl.constexpr,
):
    """Atomically add this tile's ``W @ d`` into grad_q (B, dim), ``W.T @ q`` into grad_d (N, dim) and
    ``sum_j W[i, j] * S[i, j]`` into weighted_logits (B,) (for the temperature gradient), all fp32."""
    offs_m, offs_n = grouped_tile_offsets(num_queries, num_docs, BLOCK_M, BLOCK_N, GROUP_M)
    row_in = offs_m < num_queries
    col_in = offs_n < num_docs
    weights = recompute_softmax_weights(
        q_ptr, d_ptr, labels_ptr, positive_ids_ptr, doc_ids_ptr, row_lse_ptr, col_lse_ptr, row_grad_ptr,
        col_grad_ptr, positive_grad_ptr, weighted_logits_ptr, offs_m, offs_n, num_queries, num_docs, dim,
        stride_q, stride_d, inv_tau, margin_scaled, HAS_IDS, SYMMETRIC, BLOCK_M, BLOCK_N, BLOCK_K, UPCAST,
        PRECISION,
    )  # fmt: skip
    # the gradient GEMMs run in the input dtype with fp32 accumulation (as flash-attention does)
    weights = weights.to(q_ptr.dtype.element_ty)
    if UPCAST:
        weights = weights.to(tl.float32)

    # out-of-bounds rows/columns have W = 0, so loading a valid row in their place (modulo) is harmless
    rows = offs_m % num_queries
    cols = offs_n % num_docs
    for k in range(0, dim, BLOCK_D):
        offs_k = k + tl.arange(0, BLOCK_D)
        k_in = offs_k < dim
        d_tile = tl.load(d_ptr + cols[:, None] * stride_d + offs_k[None, :], mask=k_in[None, :], other=0.0)
        q_tile = tl.load(q_ptr + rows[:, None] * stride_q + offs_k[None, :], mask=k_in[None, :], other=0.0)
        if UPCAST:
            d_tile = d_tile.to(tl.float32)
            q_tile = q_tile.to(tl.float32)
        grad_q = tl.dot(weights, d_tile, input_precision=PRECISION)
        tl.atomic_add(
            grad_q_ptr + offs_m[:, None] * dim + offs_k[None, :], grad_q, mask=row_in[:, None] & k_in[None, :]
        )
        grad_d = tl.dot(tl.trans(weights), q_tile, input_precision=PRECISION)
        tl.atomic_add(
            grad_d_ptr + offs_n[:, None] * dim + offs_k[None, :], grad_d, mask=col_in[:, None] & k_in[None, :]
        )


def launch_softmax_gradients(
    q, d, labels, positive_ids, doc_ids, inv_tau, margin, row_lse, col_lse, row_grad, col_grad, positive_grad,
    config,
):
    """``G @ d`` (B, dim), ``G.T @ q`` (N, dim) and ``sum_ij G[i, j] * S[i, j]`` (0-dim), float32, for
    G = dL/dS = W - positive_grad * onehot(labels) (the softmax weights W of the module docstring).

    ``row_lse``/``row_grad`` (B,) and ``col_lse``/``col_grad`` (N,) float32 contiguous (the column
    pair None without the symmetric term), ``positive_grad`` (B,) float32 (the one-hot coefficient:
    the summed upstream gradient of query i's row and column losses); other arguments as in
    :func:`xcs.kernels.contrastive_forward.launch_logsumexp`.
    """
    import torch

    num_queries, dim = q.shape
    num_docs = d.shape[0]
    grad_q = torch.zeros(num_queries, dim, dtype=torch.float32, device=q.device)
    grad_d = torch.zeros(num_docs, dim, dtype=torch.float32, device=q.device)
    weighted_logits = torch.zeros(num_queries, dtype=torch.float32, device=q.device)
    grid = (triton.cdiv(num_queries, config.block_m) * triton.cdiv(num_docs, config.block_n),)
    softmax_gradient_kernel[grid](
        q,
        d,
        *index_arguments(labels, positive_ids, doc_ids),
        *softmax_arguments(row_lse, col_lse, row_grad, col_grad, positive_grad),
        grad_q,
        grad_d,
        weighted_logits,
        *shape_arguments(q, d, inv_tau, margin),
        SYMMETRIC=col_grad is not None,
        BLOCK_D=config.block_d,
        GROUP_M=config.group_m,
        **tile_options(config, doc_ids is not None, config.block_k),
    )
    return grad_q, grad_d, weighted_logits.sum()
