"""Backward stage, cuBLAS variant: recompute the gradient W = dL/dS (softmax weights minus the
one-hot term) for a chunk of rows, store it in the input dtype, and leave the two gradient products
to cuBLAS.

``softmax_weights_kernel`` writes ``W[rows, :]`` (R, N) for R = ``rows_per_chunk`` queries (one
recompute GEMM in Triton, no atomics); the launcher then runs ``W @ d`` and ``W.T @ q[rows]`` as
ordinary matmuls with fp32 accumulation. Compared with the atomic tile kernel in
:mod:`xcs.kernels.contrastive_backward` it trades the atomic traffic (2 B N dim / 128 fp32 adds) for
writing and twice reading W (3 B N bytes-per-element of traffic) and a chunk buffer of R x N; it is
deterministic. Which is faster is what ``xcs bench loss --device cuda`` measures (``triton`` vs
``triton_gemm``).
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
def softmax_weights_kernel(
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
    weights_ptr,
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
    GROUP_M: tl.constexpr,
    UPCAST: tl.constexpr,
    PRECISION: tl.constexpr,
):
    """Store this tile of W (num_queries, num_docs) in the dtype of ``weights_ptr`` and atomically add
    its row sums of ``W * S`` into weighted_logits (num_queries,) float32."""
    offs_m, offs_n = grouped_tile_offsets(num_queries, num_docs, BLOCK_M, BLOCK_N, GROUP_M)
    row_in = offs_m < num_queries
    col_in = offs_n < num_docs
    weights = recompute_softmax_weights(
        q_ptr, d_ptr, labels_ptr, positive_ids_ptr, doc_ids_ptr, row_lse_ptr, col_lse_ptr, row_grad_ptr,
        col_grad_ptr, positive_grad_ptr, weighted_logits_ptr, offs_m, offs_n, num_queries, num_docs, dim,
        stride_q, stride_d, inv_tau, margin_scaled, HAS_IDS, SYMMETRIC, BLOCK_M, BLOCK_N, BLOCK_K, UPCAST,
        PRECISION,
    )  # fmt: skip
    tl.store(
        weights_ptr + offs_m[:, None] * num_docs + offs_n[None, :],
        weights.to(weights_ptr.dtype.element_ty),
        mask=row_in[:, None] & col_in[None, :],
    )


def _mm_fp32(a, b):
    """``a @ b`` accumulated and returned in float32 (cuBLAS takes 16-bit inputs directly)."""
    import torch

    if a.dtype == torch.float32:
        return torch.mm(a, b)
    if a.is_cuda:
        return torch.mm(a, b, out_dtype=torch.float32)
    return torch.mm(a.float(), b.float())  # CPU (interpreter tests): exact products of 16-bit values


def rows_per_chunk(num_queries: int, num_docs: int, dim: int, block_m: int) -> int:
    """Rows of W materialised at once: W chunk <= 2 (B + N) dim elements (O((B + N) dim) memory),
    a multiple of ``block_m``, and R * N < 2**31 for the kernel's int32 offsets."""
    rows = max(block_m, 2 * (num_queries + num_docs) * dim // num_docs)
    rows = min(rows, (2**31 - 1) // num_docs, num_queries)
    return max(block_m, rows // block_m * block_m)


def launch_softmax_gradients_gemm(
    q, d, labels, positive_ids, doc_ids, inv_tau, margin, row_lse, col_lse, row_grad, col_grad, positive_grad,
    config,
):
    """Same contract as :func:`xcs.kernels.contrastive_backward.launch_softmax_gradients`."""
    import torch

    num_queries, dim = q.shape
    num_docs = d.shape[0]
    grad_q = torch.empty(num_queries, dim, dtype=torch.float32, device=q.device)
    grad_d = torch.zeros(num_docs, dim, dtype=torch.float32, device=q.device)
    weighted_logits = torch.zeros(num_queries, dtype=torch.float32, device=q.device)
    symmetric = col_grad is not None
    options = tile_options(config, doc_ids is not None, config.block_k)
    labels, positive_ids, doc_ids = index_arguments(labels, positive_ids, doc_ids)
    row_lse, col_lse, row_grad, col_grad, positive_grad = softmax_arguments(
        row_lse, col_lse, row_grad, col_grad, positive_grad
    )
    chunk = rows_per_chunk(num_queries, num_docs, dim, config.block_m)
    weights = torch.empty(chunk, num_docs, dtype=q.dtype, device=q.device)
    for start in range(0, num_queries, chunk):
        stop = min(start + chunk, num_queries)
        rows = stop - start
        grid = (triton.cdiv(rows, config.block_m) * triton.cdiv(num_docs, config.block_n),)
        softmax_weights_kernel[grid](
            q[start:stop], d, labels[start:stop], positive_ids[start:stop], doc_ids, row_lse[start:stop],
            col_lse, row_grad[start:stop], col_grad, positive_grad[start:stop], weights,
            weighted_logits[start:stop],
            *shape_arguments(q[start:stop], d, inv_tau, margin),
            SYMMETRIC=symmetric, GROUP_M=config.group_m, **options,
        )  # fmt: skip
        chunk_weights = weights[:rows]
        grad_q[start:stop] = _mm_fp32(chunk_weights, d)
        grad_d += _mm_fp32(chunk_weights.T, q[start:stop])
    return grad_q, grad_d, weighted_logits.sum()
