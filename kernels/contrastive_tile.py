"""Shared Triton stage of the contrastive-loss kernels: one (BLOCK_M, BLOCK_N) tile of logits.

The tile is ``S[i, j] = (q[i] . d[j]) * inv_tau - margin_scaled * [j == labels[i]]``, computed with
``tl.dot`` over ``BLOCK_K`` slices of the embedding dimension and fp32 accumulation, with ``-inf``
at false negatives (``doc_ids[j] == positive_ids[i]`` and ``j != labels[i]``) and outside the
(B, N) bounds, so that every consumer can apply ``exp`` and reductions without further masking.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def logits_tile(
    q_ptr,
    d_ptr,
    doc_ids_ptr,
    labels,  # (BLOCK_M,) int32: positive column of each row of the tile, -1 outside B
    positive_ids,  # (BLOCK_M,) int32: doc id of each row's positive (unused without HAS_IDS)
    offs_m,  # (BLOCK_M,) row (query) indices of the tile
    offs_n,  # (BLOCK_N,) column (document) indices of the tile
    num_queries,
    num_docs,
    dim,
    stride_q,
    stride_d,
    inv_tau,
    margin_scaled,  # margin * inv_tau
    HAS_IDS: tl.constexpr,
    TRANSPOSED: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    UPCAST: tl.constexpr,  # cast operands to fp32 before tl.dot (the interpreter's bf16 dot is wrong)
    PRECISION: tl.constexpr,  # tl.dot input_precision: "ieee" for fp32 inputs, so that no TF32 rounding
):
    """(BLOCK_M, BLOCK_N) float32 logits, -inf where masked or out of bounds; the transpose
    (BLOCK_N, BLOCK_M) with TRANSPOSED, so that column reductions also run along axis 1 (the cheap
    axis of the MMA layout: it keeps the column kernel free of register spills)."""
    # out-of-bounds rows/columns load a valid row (index modulo the size) and are set to -inf by
    # 1-D biases afterwards: cheaper in registers than 2-D load masks and a 2-D bounds mask
    rows = offs_m % num_queries
    cols = offs_n % num_docs
    if TRANSPOSED:
        acc = tl.zeros((BLOCK_N, BLOCK_M), dtype=tl.float32)
    else:
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, dim, BLOCK_K):
        offs_k = k + tl.arange(0, BLOCK_K)
        k_in = offs_k[None, :] < dim
        a = tl.load(q_ptr + rows[:, None] * stride_q + offs_k[None, :], mask=k_in, other=0.0)
        b = tl.load(d_ptr + cols[:, None] * stride_d + offs_k[None, :], mask=k_in, other=0.0)
        if UPCAST:
            a = a.to(tl.float32)
            b = b.to(tl.float32)
        if TRANSPOSED:
            acc = tl.dot(b, tl.trans(a), acc, input_precision=PRECISION)
        else:
            acc = tl.dot(a, tl.trans(b), acc, input_precision=PRECISION)
    row_bias = tl.where(offs_m < num_queries, 0.0, float("-inf"))
    col_bias = tl.where(offs_n < num_docs, 0.0, float("-inf"))
    if TRANSPOSED:
        logits = acc * inv_tau + col_bias[:, None] + row_bias[None, :]
        is_positive = offs_n[:, None] == labels[None, :]
        logits = tl.where(is_positive, logits - margin_scaled, logits)
        if HAS_IDS:
            doc_ids = tl.load(doc_ids_ptr + cols)
            false_negative = (doc_ids[:, None] == positive_ids[None, :]) & (
                offs_n[:, None] != labels[None, :]
            )
            logits = tl.where(false_negative, float("-inf"), logits)
    else:
        logits = acc * inv_tau + row_bias[:, None] + col_bias[None, :]
        is_positive = offs_n[None, :] == labels[:, None]
        logits = tl.where(is_positive, logits - margin_scaled, logits)
        if HAS_IDS:
            doc_ids = tl.load(doc_ids_ptr + cols)
            false_negative = (doc_ids[None, :] == positive_ids[:, None]) & (
                offs_n[None, :] != labels[:, None]
            )
            logits = tl.where(false_negative, float("-inf"), logits)
    return logits


@triton.jit
def softmax_weights(
    logits,  # (BLOCK_M, BLOCK_N) float32 from logits_tile
    offs_m,
    offs_n,
    num_queries,
    num_docs,
    row_lse_ptr,
    col_lse_ptr,
    row_grad_ptr,
    col_grad_ptr,
    SYMMETRIC: tl.constexpr,
):
    """(BLOCK_M, BLOCK_N) float32 ``W = row_grad * exp(S - row_lse) [+ col_grad * exp(S - col_lse)]``
    (0 where S is -inf) and the (BLOCK_M,) row sums of ``W * S`` for the temperature gradient."""
    row_in = offs_m < num_queries
    row_lse = tl.load(row_lse_ptr + offs_m, mask=row_in, other=0.0)
    row_grad = tl.load(row_grad_ptr + offs_m, mask=row_in, other=0.0)
    weights = row_grad[:, None] * tl.exp(logits - row_lse[:, None])
    if SYMMETRIC:
        col_in = offs_n < num_docs
        col_lse = tl.load(col_lse_ptr + offs_n, mask=col_in, other=0.0)
        col_grad = tl.load(col_grad_ptr + offs_n, mask=col_in, other=0.0)
        weights += col_grad[None, :] * tl.exp(logits - col_lse[None, :])
    # masked entries have W = 0 and S = -inf; their product must count as 0, not nan
    weighted = weights * tl.where(logits == float("-inf"), 0.0, logits)
    return weights, tl.sum(weighted, axis=1)
