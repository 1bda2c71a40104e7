"""What the stages of the contrastive-loss kernels share: one (BLOCK_M, BLOCK_N) tile of logits, the
pieces built on it, and the arguments every launcher passes.

The tile is ``S[i, j] = (q[i] . d[j]) * inv_tau - margin_scaled * [j == labels[i]]``, computed with
``tl.dot`` over ``BLOCK_K`` slices of the embedding dimension and fp32 accumulation, with ``-inf``
at false negatives (``doc_ids[j] == positive_ids[i]`` and ``j != labels[i]``) and outside the
(B, N) bounds, so that every consumer can apply ``exp`` and reductions without further masking.

The ``@triton.jit`` helpers below are inlined into the kernels that call them (Triton compiles one
function per kernel): the kernels compile to the same PTX as with the helpers' code written out in
each of them. Under ``TRITON_INTERPRET=1`` every call of a helper costs (the interpreter re-patches
``triton.language`` on each), so the helpers are whole steps, not one-liners inside inner loops.
The plain Python helpers at the end build the kernel arguments of all launchers.
"""

from __future__ import annotations

import triton
import triton.language as tl

# ---------------------------------------------------------------------------------------------
# @triton.jit helpers: row targets and the logits tile


@triton.jit
def load_row_targets(labels_ptr, positive_ids_ptr, offs_m, num_queries, HAS_IDS: tl.constexpr):
    """(BLOCK_M,) int32 labels of the rows ``offs_m`` (-1 past num_queries) and the doc ids of their
    positives (the labels again without HAS_IDS, where :func:`logits_tile` does not read them)."""
    row_in = offs_m < num_queries
    labels = tl.load(labels_ptr + offs_m, mask=row_in, other=-1)
    positive_ids = labels
    if HAS_IDS:
        positive_ids = tl.load(positive_ids_ptr + offs_m, mask=row_in, other=0)
    return labels, positive_ids


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


# ---------------------------------------------------------------------------------------------
# @triton.jit helpers: the forward stage (streaming log-sum-exp)


@triton.jit
def online_logsumexp_step(running_max, running_sum, logits):
    """Fold a tile of logits into a streaming log-sum-exp along axis 1: ``running_max`` (R,) and the
    rescaled ``running_sum`` (R,) float32 of the R rows of ``logits`` (R, C); returns both updated."""
    new_max = tl.maximum(running_max, tl.max(logits, axis=1))
    # a row with no finite logit yet keeps max -inf; shifting by 0 then gives exp(-inf) = 0, not nan
    shift = tl.where(new_max == float("-inf"), 0.0, new_max)
    running_sum = running_sum * tl.exp(running_max - shift) + tl.sum(tl.exp(logits - shift[:, None]), axis=1)
    return new_max, running_sum


@triton.jit
def store_logsumexp(lse_ptr, offs, size, running_max, running_sum):
    """Store ``running_max + log(running_sum)`` at the indices ``offs`` below ``size``."""
    valid = offs < size
    # indices past the end have an empty sum; log(1) keeps them quiet (they are not stored)
    tl.store(lse_ptr + offs, running_max + tl.log(tl.where(valid, running_sum, 1.0)), mask=valid)


# ---------------------------------------------------------------------------------------------
# @triton.jit helpers: the backward stage (softmax weights of a recomputed tile)


@triton.jit
def grouped_tile_offsets(
    num_queries, num_docs, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, GROUP_M: tl.constexpr
):
    """Row indices (BLOCK_M,) and column indices (BLOCK_N,) of this program's tile of the
    (num_queries, num_docs) grid of tiles, in grouped order: GROUP_M row blocks sweep the same
    document tiles while they are in L2."""
    pid = tl.program_id(0)
    num_pid_m = tl.cdiv(num_queries, BLOCK_M)
    num_pid_n = tl.cdiv(num_docs, BLOCK_N)
    group_size = GROUP_M * num_pid_n
    first_m = (pid // group_size) * GROUP_M
    group_rows = min(num_pid_m - first_m, GROUP_M)
    pid_m = first_m + (pid % group_size) % group_rows
    pid_n = (pid % group_size) // group_rows
    return pid_m * BLOCK_M + tl.arange(0, BLOCK_M), pid_n * BLOCK_N + tl.arange(0, BLOCK_N)


@triton.jit
def softmax_weights(
    logits,  # (BLOCK_M, BLOCK_N) float32 from logits_tile
    labels,  # (BLOCK_M,) int32 positive column of each row, -1 outside B
    offs_m,
    offs_n,
    num_queries,
    num_docs,
    row_lse_ptr,
    col_lse_ptr,
    row_grad_ptr,
    col_grad_ptr,
    positive_grad_ptr,
    SYMMETRIC: tl.constexpr,
):
    """(BLOCK_M, BLOCK_N) float32 ``G = row_grad * exp(S - row_lse) [+ col_grad * exp(S - col_lse)]
    - positive_grad * onehot(labels)`` (0 where S is -inf), the whole of dL/dS, and the (BLOCK_M,)
    row sums of ``G * S`` for the temperature gradient.

    The one-hot term is subtracted here, in fp32, before the caller rounds G to the input dtype for
    the gradient GEMMs: added afterwards (``W @ d - positive_grad * d[labels]``), a concentrated
    softmax (W[i, labels[i]] near positive_grad) cancels, and the 16-bit rounding of the large weight
    survives as an error several times eager's (seen on CUDA-shaped tests: one query, five documents)."""
    row_in = offs_m < num_queries
    row_lse = tl.load(row_lse_ptr + offs_m, mask=row_in, other=0.0)
    row_grad = tl.load(row_grad_ptr + offs_m, mask=row_in, other=0.0)
    weights = row_grad[:, None] * tl.exp(logits - row_lse[:, None])
    if SYMMETRIC:
        col_in = offs_n < num_docs
        col_lse = tl.load(col_lse_ptr + offs_n, mask=col_in, other=0.0)
        col_grad = tl.load(col_grad_ptr + offs_n, mask=col_in, other=0.0)
        weights += col_grad[None, :] * tl.exp(logits - col_lse[None, :])
    positive_grad = tl.load(positive_grad_ptr + offs_m, mask=row_in, other=0.0)
    weights = tl.where(offs_n[None, :] == labels[:, None], weights - positive_grad[:, None], weights)
    # masked entries have W = 0 and S = -inf; their product must count as 0, not nan
    weighted = weights * tl.where(logits == float("-inf"), 0.0, logits)
    return weights, tl.sum(weighted, axis=1)


@triton.jit
def recompute_softmax_weights(
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
    weighted_logits_ptr,
    offs_m,
    offs_n,
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
    UPCAST: tl.constexpr,
    PRECISION: tl.constexpr,
):
    """The (BLOCK_M, BLOCK_N) float32 gradient G = dL/dS of the tile (``offs_m``, ``offs_n``), softmax
    weights minus the one-hot term (:func:`softmax_weights`), recomputed from q, d and the saved
    LSEs; atomically adds the tile's row sums of ``G * S`` into weighted_logits (num_queries,)
    float32 on the way."""
    labels, positive_ids = load_row_targets(labels_ptr, positive_ids_ptr, offs_m, num_queries, HAS_IDS)
    logits = logits_tile(
        q_ptr, d_ptr, doc_ids_ptr, labels, positive_ids, offs_m, offs_n, num_queries, num_docs, dim,
        stride_q, stride_d, inv_tau, margin_scaled, HAS_IDS, False, BLOCK_M, BLOCK_N, BLOCK_K, UPCAST,
        PRECISION,
    )  # fmt: skip
    weights, weighted_rows = softmax_weights(
        logits, labels, offs_m, offs_n, num_queries, num_docs, row_lse_ptr, col_lse_ptr, row_grad_ptr,
        col_grad_ptr, positive_grad_ptr, SYMMETRIC,
    )  # fmt: skip
    tl.atomic_add(weighted_logits_ptr + offs_m, weighted_rows, mask=offs_m < num_queries)
    return weights


# ---------------------------------------------------------------------------------------------
# launch arguments shared by the launchers


def index_arguments(labels, positive_ids, doc_ids):
    """The ``labels_ptr, positive_ids_ptr, doc_ids_ptr`` kernel arguments: ``labels`` (B,) int32 and
    ``positive_ids`` (B,) / ``doc_ids`` (N,) int32, or both None, where ``labels`` stands in for them
    (a kernel compiled with HAS_IDS=False never reads them)."""
    if doc_ids is None:
        return labels, labels, labels
    return labels, positive_ids, doc_ids


def softmax_arguments(row_lse, col_lse, row_grad, col_grad, positive_grad):
    """The ``row_lse_ptr, col_lse_ptr, row_grad_ptr, col_grad_ptr, positive_grad_ptr`` kernel
    arguments: the column pair None without the symmetric term, where the row pair stands in for it
    (SYMMETRIC=False never reads it)."""
    if col_grad is None:
        return row_lse, row_lse, row_grad, row_grad, positive_grad
    return row_lse, col_lse, row_grad, col_grad, positive_grad


def shape_arguments(q, d, inv_tau, margin):
    """The ``num_queries, num_docs, dim, stride_q, stride_d, inv_tau, margin_scaled`` kernel
    arguments for queries ``q`` (B, dim) and documents ``d`` (N, dim)."""
    return q.shape[0], d.shape[0], q.shape[1], q.stride(0), d.stride(0), inv_tau, margin * inv_tau


def tile_options(config, has_ids, block_k):
    """The constexpr and launch keywords every kernel takes, from a
    :class:`xcs.kernels.contrastive.KernelConfig`; ``block_k`` is the stage's slice of dim."""
    return dict(
        HAS_IDS=has_ids,
        BLOCK_M=config.block_m,
        BLOCK_N=config.block_n,
        BLOCK_K=block_k,
        UPCAST=config.upcast,
        PRECISION=config.precision,
        num_warps=config.num_warps,
        num_stages=config.num_stages,
    )
