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
    labels,  # (BLOCK_M,) int64: positive column of each row of the tile, -1 outside B
    positive_ids,  # (BLOCK_M,) int64: doc id of each row's positive (unused without HAS_IDS)
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
    BLOCK_K: tl.constexpr,
    UPCAST: tl.constexpr,  # cast operands to fp32 before tl.dot (the interpreter's bf16 dot is wrong)
    PRECISION: tl.constexpr,  # tl.dot input_precision: "ieee" for fp32 inputs, so that no TF32 rounding
):
    """(BLOCK_M, BLOCK_N) float32 logits, -inf where masked or out of bounds."""
    row_in = offs_m < num_queries
    col_in = offs_n < num_docs
    acc = tl.zeros((offs_m.shape[0], offs_n.shape[0]), dtype=tl.float32)
    for k in range(0, dim, BLOCK_K):
        offs_k = k + tl.arange(0, BLOCK_K)
        k_in = offs_k < dim
        a = tl.load(
            q_ptr + offs_m[:, None] * stride_q + offs_k[None, :],
            mask=row_in[:, None] & k_in[None, :],
            other=0.0,
        )
        b = tl.load(
            d_ptr + offs_n[:, None] * stride_d + offs_k[None, :],
            mask=col_in[:, None] & k_in[None, :],
            other=0.0,
        )
        if UPCAST:
            a = a.to(tl.float32)
            b = b.to(tl.float32)
        acc = tl.dot(a, tl.trans(b), acc, input_precision=PRECISION)
    is_positive = offs_n[None, :] == labels[:, None]
    logits = acc * inv_tau
    logits = tl.where(is_positive, logits - margin_scaled, logits)
    keep = row_in[:, None] & col_in[None, :]
    if HAS_IDS:
        doc_ids = tl.load(doc_ids_ptr + offs_n, mask=col_in, other=0)
        keep = keep & ((doc_ids[None, :] != positive_ids[:, None]) | is_positive)
    return tl.where(keep, logits, float("-inf"))
