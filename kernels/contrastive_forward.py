"""Forward stage of the fused contrastive loss: row (and column) log-sum-exp of S, never storing S.

``row_lse_kernel``: one program per block of BLOCK_M queries streams all documents in tiles of
BLOCK_N and keeps an online log-sum-exp (running max ``m`` and rescaled sum ``l``) in fp32.
``col_lse_kernel``: the same with the roles swapped, for the symmetric (document -> query) term.
Only O(B + N) floats are written; the backward stage recomputes the tiles from q, d and the LSEs.
"""

from __future__ import annotations

import triton
import triton.language as tl
from xcs.kernels.contrastive_tile import (
    index_arguments,
    load_row_targets,
    logits_tile,
    online_logsumexp_step,
    shape_arguments,
    store_logsumexp,
    tile_options,
)


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
    labels, positive_ids = load_row_targets(labels_ptr, positive_ids_ptr, offs_m, num_queries, HAS_IDS)
    running_max = tl.full((BLOCK_M,), float("-inf"), tl.float32)
    running_sum = tl.zeros((BLOCK_M,), tl.float32)
    for start_n in range(0, num_docs, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        logits = logits_tile(
            q_ptr, d_ptr, doc_ids_ptr, labels, positive_ids, offs_m, offs_n, num_queries, num_docs, dim,
            stride_q, stride_d, inv_tau, margin_scaled, HAS_IDS, False, BLOCK_M, BLOCK_N, BLOCK_K, UPCAST,
            PRECISION,
        )  # fmt: skip
        running_max, running_sum = online_logsumexp_step(running_max, running_sum, logits)
    store_logsumexp(row_lse_ptr, offs_m, num_queries, running_max, running_sum)


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
        labels, positive_ids = load_row_targets(labels_ptr, positive_ids_ptr, offs_m, num_queries, HAS_IDS)
        # the (BLOCK_N, BLOCK_M) transpose, so that the column reduction also runs along axis 1
        logits = logits_tile(
            q_ptr, d_ptr, doc_ids_ptr, labels, positive_ids, offs_m, offs_n, num_queries, num_docs, dim,
            stride_q, stride_d, inv_tau, margin_scaled, HAS_IDS, True, BLOCK_M, BLOCK_N, BLOCK_K, UPCAST,
            PRECISION,
        )  # fmt: skip
        running_max, running_sum = online_logsumexp_step(running_max, running_sum, logits)
    store_logsumexp(col_lse_ptr, offs_n, num_docs, running_max, running_sum)


def launch_logsumexp(q, d, labels, positive_ids, doc_ids, inv_tau, margin, symmetric, config):
    """Row LSE (B,) and, if ``symmetric``, column LSE (N,) as float32 tensors.

    ``q`` (B, dim) and ``d`` (N, dim) contiguous of one dtype; ``labels`` (B,) int32;
    ``positive_ids`` (B,) and ``doc_ids`` (N,) int32 or both None; ``config`` a
    :class:`xcs.kernels.contrastive.KernelConfig`.
    """
    import torch

    indices = index_arguments(labels, positive_ids, doc_ids)
    shapes = shape_arguments(q, d, inv_tau, margin)
    options = tile_options(config, doc_ids is not None, config.forward_block_k)
    num_queries, num_docs = q.shape[0], d.shape[0]
    row_lse = torch.empty(num_queries, dtype=torch.float32, device=q.device)
    grid = (triton.cdiv(num_queries, config.block_m),)
    row_lse_kernel[grid](q, d, *indices, row_lse, *shapes, **options)
    col_lse = None
    if symmetric:
        col_lse = torch.empty(num_docs, dtype=torch.float32, device=q.device)
        grid = (triton.cdiv(num_docs, config.block_n),)
        col_lse_kernel[grid](q, d, *indices, col_lse, *shapes, **options)
    return row_lse, col_lse
