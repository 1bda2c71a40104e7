"""Forward stage of the fused contrastive loss: row (and column) log-sum-exp of S, never storing S.

``row_lse_kernel``: one program per block of BLOCK_M queries streams all documents in tiles of
BLOCK_N and keeps an online log-sum-exp (running max ``m`` and rescaled sum ``l``) in fp32.
``col_lse_kernel``: the same with the roles swapped, for the symmetric (document -> query) term.
Only O(B + N) floats are written; the backward stage recomputes the tiles from q, d and the LSEs.
"""

from __future__ import annotations

import triton
import triton.language as tl
from xcs.kernels.contrastive_tile import logits_tile


@triton.jit
def row_lse_kernel(
    q_ptr,
    d_ptr,
    labels_ptr,
    positive_ids_ptr,
    doc_ids_ptr,
    row_lse_ptr,
    num_queries,
    num_docs,
    dim,
    stride_q,
    stride_d,
    inv_tau,
    margin_scaled,
    HAS_IDS: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    UPCAST: tl.constexpr,
    PRECISION: tl.constexpr,
):
    """row_lse[i] = logsumexp_j S[i, j] for the BLOCK_M rows of this program (float32)."""
    offs_m = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    row_in = offs_m < num_queries
    labels = tl.load(labels_ptr + offs_m, mask=row_in, other=-1)
    positive_ids = labels
    if HAS_IDS:
        positive_ids = tl.load(positive_ids_ptr + offs_m, mask=row_in, other=0)
    running_max = tl.full((BLOCK_M,), float("-inf"), tl.float32)
    running_sum = tl.zeros((BLOCK_M,), tl.float32)
    for start_n in range(0, num_docs, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        logits = logits_tile(
            q_ptr,
            d_ptr,
            doc_ids_ptr,
            labels,
            positive_ids,
            offs_m,
            offs_n,
            num_queries,
            num_docs,
            dim,
            stride_q,
            stride_d,
            inv_tau,
            margin_scaled,
            HAS_IDS,
            False,
            BLOCK_M,
            BLOCK_N,
            BLOCK_K,
            UPCAST,
            PRECISION,
        )
        new_max = tl.maximum(running_max, tl.max(logits, axis=1))
        # a row with no finite logit yet keeps max -inf; shifting by 0 then gives exp(-inf) = 0, not nan
        shift = tl.where(new_max == float("-inf"), 0.0, new_max)
        running_sum = running_sum * tl.exp(running_max - shift) + tl.sum(
            tl.exp(logits - shift[:, None]), axis=1
        )
        running_max = new_max
    # rows past the end have an empty sum; log(1) keeps them quiet (they are not stored)
    tl.store(row_lse_ptr + offs_m, running_max + tl.log(tl.where(row_in, running_sum, 1.0)), mask=row_in)


@triton.jit
def col_lse_kernel(
    q_ptr,
    d_ptr,
    labels_ptr,
    positive_ids_ptr,
    doc_ids_ptr,
    col_lse_ptr,
    num_queries,
    num_docs,
    dim,
    stride_q,
    stride_d,
    inv_tau,
    margin_scaled,
    HAS_IDS: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    UPCAST: tl.constexpr,
    PRECISION: tl.constexpr,
):
    """col_lse[j] = logsumexp_i S[i, j] for the BLOCK_N columns of this program (float32)."""
    offs_n = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    running_max = tl.full((BLOCK_N,), float("-inf"), tl.float32)
    running_sum = tl.zeros((BLOCK_N,), tl.float32)
    for start_m in range(0, num_queries, BLOCK_M):
        offs_m = start_m + tl.arange(0, BLOCK_M)
        row_in = offs_m < num_queries
        labels = tl.load(labels_ptr + offs_m, mask=row_in, other=-1)
        positive_ids = labels
        if HAS_IDS:
            positive_ids = tl.load(positive_ids_ptr + offs_m, mask=row_in, other=0)
        logits = logits_tile(
            q_ptr,
            d_ptr,
            doc_ids_ptr,
            labels,
            positive_ids,
            offs_m,
            offs_n,
            num_queries,
            num_docs,
            dim,
            stride_q,
            stride_d,
            inv_tau,
            margin_scaled,
            HAS_IDS,
            True,
            BLOCK_M,
            BLOCK_N,
            BLOCK_K,
            UPCAST,
            PRECISION,
        )
        # logits is the (BLOCK_N, BLOCK_M) transpose: reduce along axis 1 as the row kernel does
        new_max = tl.maximum(running_max, tl.max(logits, axis=1))
        shift = tl.where(new_max == float("-inf"), 0.0, new_max)
        running_sum = running_sum * tl.exp(running_max - shift) + tl.sum(
            tl.exp(logits - shift[:, None]), axis=1
        )
        running_max = new_max
    col_in = offs_n < num_docs
    tl.store(col_lse_ptr + offs_n, running_max + tl.log(tl.where(col_in, running_sum, 1.0)), mask=col_in)


def launch_logsumexp(q, d, labels, positive_ids, doc_ids, inv_tau, margin, symmetric, config):
    """Row LSE (B,) and, if ``symmetric``, column LSE (N,) as float32 tensors.

    ``q`` (B, dim) and ``d`` (N, dim) contiguous of one dtype; ``labels`` (B,) int32;
    ``positive_ids`` (B,) and ``doc_ids`` (N,) int32 or both None; ``config`` a
    :class:`xcs.kernels.contrastive.KernelConfig`.
    """
    import torch

    num_queries, dim = q.shape
    num_docs = d.shape[0]
    has_ids = doc_ids is not None
    ids_ptr = doc_ids if has_ids else labels
    positive_ptr = positive_ids if has_ids else labels
    common = dict(
        HAS_IDS=has_ids,
        BLOCK_M=config.block_m,
        BLOCK_N=config.block_n,
        BLOCK_K=config.forward_block_k,
        UPCAST=config.upcast,
        PRECISION=config.precision,
        num_warps=config.num_warps,
        num_stages=config.num_stages,
    )
    args = (num_queries, num_docs, dim, q.stride(0), d.stride(0), inv_tau, margin * inv_tau)
    row_lse = torch.empty(num_queries, dtype=torch.float32, device=q.device)
    grid = (triton.cdiv(num_queries, config.block_m),)
    row_lse_kernel[grid](q, d, labels, positive_ptr, ids_ptr, row_lse, *args, **common)
    col_lse = None
    if symmetric:
        col_lse = torch.empty(num_docs, dtype=torch.float32, device=q.device)
        grid = (triton.cdiv(num_docs, config.block_n),)
        col_lse_kernel[grid](q, d, labels, positive_ptr, ids_ptr, col_lse, *args, **common)
    return row_lse, col_lse
