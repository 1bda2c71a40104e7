"""The Triton kernels on CUDA tensors, compiled for the GPU, against a float64 ground truth.

The criterion is the CPU tests' (``tests/loss_reference.py``): as good as the same-dtype eager
reference plus one ulp, for the loss and the gradients of q, d and the temperature. What the CPU
interpreter cannot check is checked here: the compiled kernels at shapes that cross every edge of
the real tiles (128 x 128 for 16-bit inputs, 64 x 64 for fp32; d stepped by 64 / 32), B != N, a
16k x 16k batch at d = 768, every option of ``contrastive_loss``, outputs written in full (the
CUDA caching allocator is filled with NaN before each run, so a buffer from ``torch.empty`` that a
kernel fails to write shows up as NaN), and the repeatability ``docs/loss.md`` promises.

Skipped without CUDA. With CUDA and ``TRITON_INTERPRET=1`` the kernels would be interpreted rather
than compiled, so the tests skip with that reason (visible in ``-ra``): ``benches/gpu/run.sh`` runs
them without it and fails its phase if anything was skipped.
"""

from __future__ import annotations

import os
import zlib

import pytest
import torch
from loss_reference import DTYPES, OPTIONS, check_extremes, compare_to_ground_truth, embeddings, run_loss

from xcs.loss.api import contrastive_loss

if not torch.cuda.is_available():
    pytest.skip("needs a CUDA GPU", allow_module_level=True)
if os.environ.get("TRITON_INTERPRET") == "1":
    pytest.skip("TRITON_INTERPRET=1 would interpret the kernels: run without it (benches/gpu/run.sh does)",
                allow_module_level=True)

IMPLS = ["triton", "triton_gemm"]
DEVICE = "cuda"
# (B, N, dim): one tile, every tile edge of the 16-bit (128) and fp32 (64) tiles and of the dim
# steps (forward 32, backward 64 / 32), B < N and B > N (labels given), tiny and odd
SHAPES = [
    (13, 29, 19),
    (129, 257, 100),
    (257, 130, 65),
    (64, 64, 64),
    (300, 1000, 384),
]


def _poison_allocator() -> None:
    """Fill the CUDA caching allocator's free memory with NaN: large blocks from one big tensor and
    the small-block pool (<= 1 MiB requests) from many small ones, then hand them back to the cache
    (not to the driver), so the next ``torch.empty`` buffers start as NaN."""
    free, _ = torch.cuda.mem_get_info()
    big = torch.empty(min(free // 4, 8 * 2**30) // 4, dtype=torch.float32, device=DEVICE).fill_(float("nan"))
    small = [torch.full((2**18,), float("nan"), device=DEVICE) for _ in range(64)]  # 1 MiB each
    small += [torch.full((2**12,), float("nan"), device=DEVICE) for _ in range(256)]  # 16 KiB each
    del big, small
    torch.cuda.synchronize()


def _seed(*parts) -> int:
    """A fresh seed per case (crc32 of its parameters: fixed across runs, different across cases)."""
    return zlib.crc32("/".join(map(str, parts)).encode())


# every option set at every shape where it is defined: the default labels (query i -> document i)
# and hard negatives drawn as a permutation need N >= B, so B > N takes the sets with drawn labels
CASES = [
    pytest.param(option, *shape, id=f"{option}-{b}x{n}x{dim}")
    for shape in SHAPES
    for option in OPTIONS
    for b, n, dim in [shape]
    if n >= b or option == "everything"
]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize(("option", "num_queries", "num_docs", "dim"), CASES)
def test_matches_float64_ground_truth_on_cuda(impl, dtype, option, num_queries, num_docs, dim):
    compare_to_ground_truth(
        impl, dtype, option, num_queries=num_queries, num_docs=num_docs, dim=dim, device=DEVICE,
        seed=_seed(impl, dtype, option, num_queries, num_docs, dim), before=_poison_allocator,
    )  # fmt: skip


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(
    ("num_queries", "num_docs", "dim", "tau", "scale"),
    [
        (1, 1, 5, 0.05, 1.0),  # a single pair: loss 0, gradients 0
        (1, 65, 33, 0.05, 1.0),  # one query across an fp32 tile edge
        (17, 17, 3, 1e-3, 1.0),  # logits up to 1000
        (9, 20, 24, 0.05, 30.0),  # large norms: logits up to 18000
    ],
)
def test_extremes_on_cuda(impl, num_queries, num_docs, dim, tau, scale):
    """One query, huge logits: the CPU tests' extreme cases (one-query shapes are here rather than
    in the relative criterion above, which has no scale where a single loss is ~0)."""
    check_extremes(impl, num_queries, num_docs, dim, tau, scale, device=DEVICE)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("tensor_temperature", [True, False], ids=["tensor_tau", "float_tau"])
def test_reductions_and_temperature_kinds(impl, dtype, reduction, tensor_temperature):
    compare_to_ground_truth(
        impl, dtype, "everything", reduction=reduction, num_queries=200, num_docs=333, dim=96,
        tau=0.02, device=DEVICE, tensor_temperature=tensor_temperature,
        seed=_seed(impl, dtype, reduction, tensor_temperature), before=_poison_allocator,
    )  # fmt: skip


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32], ids=str)
def test_large_batch_16k_by_16k_dim_768(impl, dtype):
    compare_to_ground_truth(
        impl, dtype, "plain", num_queries=16384, num_docs=16384, dim=768, tau=0.05, device=DEVICE,
        seed=_seed("large", impl, dtype), before=_poison_allocator,
    )  # fmt: skip


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_gemm_backward_is_bitwise_repeatable(dtype):
    """``triton_gemm`` has no atomics (docs/loss.md: deterministic); the atomic backward is not,
    but the forward of both is (no atomics in the LSE kernels)."""
    g = torch.Generator().manual_seed(_seed("repeat", dtype))
    options = {k: v.to(DEVICE) if isinstance(v, torch.Tensor) else v
               for k, v in OPTIONS["everything"](700, 900, g).items()}
    q, d = embeddings(700, 200, g).to(DEVICE, dtype), embeddings(900, 200, g).to(DEVICE, dtype)
    weights = torch.ones(700, device=DEVICE)
    tau = torch.tensor(0.05, device=DEVICE)
    first = run_loss(q, d, tau, "triton_gemm", "mean", weights, before=_poison_allocator, **options)
    second = run_loss(q, d, tau, "triton_gemm", "mean", weights, before=_poison_allocator, **options)
    for name, a, b in zip(("loss", "grad_q", "grad_d", "grad_tau"), first, second, strict=True):
        assert torch.equal(a, b), f"triton_gemm {name} differs between two runs"
    atomic = [run_loss(q, d, tau, "triton", "none", weights, **options)[0] for _ in range(2)]
    assert torch.equal(*atomic), "the Triton forward (per-query losses) differs between two runs"


@pytest.mark.parametrize("impl", IMPLS)
def test_auto_picks_triton_and_learnable_temperature_trains(impl):
    g = torch.Generator().manual_seed(_seed("auto", impl))
    q = embeddings(64, 32, g).to(DEVICE, torch.bfloat16).requires_grad_()
    d = embeddings(64, 32, g).to(DEVICE, torch.bfloat16).requires_grad_()
    auto = contrastive_loss(q, d, impl="auto")
    explicit = contrastive_loss(q, d, impl="triton")
    assert torch.equal(auto, explicit) and auto.dtype == torch.float32 and auto.is_cuda
    tau = torch.tensor(0.05, device=DEVICE, requires_grad=True)
    contrastive_loss(q, d, temperature=tau, impl=impl, symmetric=True).backward()
    assert tau.grad is not None and torch.isfinite(tau.grad) and q.grad.dtype == torch.bfloat16
