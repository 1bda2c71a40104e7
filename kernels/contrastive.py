"""Triton backend of :class:`xcs.loss.function.FusedContrastiveFunction`: tile configuration and
the two stages."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from xcs.kernels.contrastive_backward import launch_softmax_gradients
from xcs.kernels.contrastive_backward_gemm import launch_softmax_gradients_gemm
from xcs.kernels.contrastive_forward import launch_logsumexp


@dataclass(frozen=True)
class KernelConfig:
    """Tile sizes and launch parameters shared by the forward and backward kernels."""

    block_m: int = 128
    block_n: int = 128
    block_k: int = 64  # slice of dim per step of the logit recompute in the backward kernel
    block_d: int = 32  # slice of dim per gradient GEMM + atomic add in the backward kernel
    forward_block_k: int = 32  # slice of dim per step in the forward (LSE) kernels
    group_m: int = 8
    num_warps: int = 8
    num_stages: int = 3
    upcast: bool = False  # operands to fp32 before tl.dot (needed for bf16 under TRITON_INTERPRET)
    precision: str = "tf32"  # tl.dot input_precision; "ieee" for fp32 inputs

    @classmethod
    def for_inputs(cls, dtype: torch.dtype) -> KernelConfig:
        """The configuration for inputs of ``dtype``; tiny tiles under the CPU interpreter.

        The 16-bit configuration compiles for sm_90 without register spills, except the backward
        kernel with false-negative ids (232 bytes per thread), as
        ``tests/test_loss_kernels_compile.py`` checks; none is tuned on hardware yet.
        """
        if os.environ.get("TRITON_INTERPRET") == "1":
            # the interpreter runs tiles as numpy arrays: 16 keeps several tiles (and their edge
            # masks) in play on test-sized inputs; its tl.dot mis-handles bf16, so compute in fp32
            precision = "ieee" if dtype == torch.float32 else "tf32"
            return cls(
                block_m=16, block_n=16, block_k=16, block_d=16, forward_block_k=16, group_m=2,
                num_warps=1, num_stages=1, upcast=dtype == torch.bfloat16, precision=precision,
            )  # fmt: skip
        if dtype == torch.float32:
            # exact fp32 products (no TF32) run on CUDA cores: smaller tiles, narrower gradient slices
            return cls(
                block_m=64, block_n=64, block_k=32, block_d=16, forward_block_k=32, num_warps=4,
                num_stages=2, precision="ieee",
            )  # fmt: skip
        return cls()


class TritonBackend:
    """Implements the ``logsumexp`` / ``softmax_gradients`` stages with the kernels of this package.

    ``backward="atomic"``: one tile kernel adds both gradient products with fp32 atomics;
    ``backward="gemm"``: a kernel writes the softmax weights for chunks of rows and cuBLAS multiplies.
    """

    # dL/dS is formed whole in the kernels (one-hot term included) before its 16-bit rounding
    folds_positive_gradient = True

    def __init__(self, config: KernelConfig | None = None, backward: str = "atomic") -> None:
        if backward not in ("atomic", "gemm"):
            raise ValueError(f"backward must be 'atomic' or 'gemm', got {backward!r}")
        self.config = config
        self.backward = backward

    def _prepare(self, q, d, labels, doc_ids):
        if q.dtype not in (torch.float32, torch.float16, torch.bfloat16):
            raise ValueError(f"the Triton kernels take float32, float16 or bfloat16 inputs, got {q.dtype}")
        if max(q.shape[0], d.shape[0]) * q.shape[1] >= 2**31:
            raise ValueError(
                "the Triton kernels address rows with int32 offsets: max(B, N) * dim must be < 2**31, "
                f"got B={q.shape[0]}, N={d.shape[0]}, dim={q.shape[1]}"
            )
        config = self.config or KernelConfig.for_inputs(q.dtype)
        positive_ids = None
        if doc_ids is not None:
            # only equality of ids matters: dense int32 ranks keep the kernels' id compares 32-bit
            doc_ids = torch.unique(doc_ids, return_inverse=True)[1].to(torch.int32)
            positive_ids = doc_ids[labels].contiguous()
        labels = labels.to(torch.int32).contiguous()
        return config, q.contiguous(), d.contiguous(), labels, positive_ids, doc_ids

    def logsumexp(self, q, d, labels, doc_ids, inv_tau, margin, symmetric):
        """Row LSE (B,) and column LSE (N,) or None, float32."""
        config, q, d, labels, positive_ids, doc_ids = self._prepare(q, d, labels, doc_ids)
        return launch_logsumexp(q, d, labels, positive_ids, doc_ids, inv_tau, margin, symmetric, config)

    def softmax_gradients(self, q, d, labels, doc_ids, inv_tau, margin, row_lse, col_lse, row_grad, col_grad,
                          positive_grad=None):
        """``G @ d`` (B, dim), ``G.T @ q`` (N, dim) and ``sum_ij G[i, j] * S[i, j]`` (0-dim), float32,
        for G = dL/dS: the softmax weights minus ``positive_grad`` (B,) at each (i, labels[i])."""
        config, q, d, labels, positive_ids, doc_ids = self._prepare(q, d, labels, doc_ids)
        f32 = lambda t: None if t is None else t.to(torch.float32).contiguous()
        launch = launch_softmax_gradients if self.backward == "atomic" else launch_softmax_gradients_gemm
        return launch(
            q,
            d,
            labels,
            positive_ids,
            doc_ids,
            inv_tau,
            margin,
            f32(row_lse),
            f32(col_lse),
            f32(row_grad),
            f32(col_grad),
            f32(positive_grad),
            config,
        )
