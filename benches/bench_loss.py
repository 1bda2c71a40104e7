"""pytest-benchmark: contrastive loss fwd + bwd (``pytest benches/bench_loss.py --benchmark-enable``).

Eager (materialises the B x N logits) is the baseline of the fused paths in the same run: chunked on
CPU, and Triton when a GPU is present. ``xcs bench loss`` is the full sweep with peak memory.
"""

from __future__ import annotations

import pytest
import torch

from xcs.bench.loss import loss_inputs
from xcs.loss.api import contrastive_loss

SIZE, DIM = 2048, 384


def _step(q, d, impl):
    q.grad = d.grad = None
    loss = contrastive_loss(q, d, temperature=0.05, impl=impl)
    loss.backward()
    if q.is_cuda:
        torch.cuda.synchronize()
    return loss.detach()


@pytest.mark.parametrize("impl", ["eager", "chunked"])
def test_cpu_fwd_bwd_2048(benchmark, impl):
    q, d = loss_inputs(SIZE, DIM, torch.float32, "cpu")
    loss = benchmark(_step, q, d, impl)
    assert torch.isfinite(loss) and q.grad is not None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("impl", ["eager", "triton"])
def test_cuda_fwd_bwd_2048_bf16(benchmark, impl):
    q, d = loss_inputs(SIZE, DIM, torch.bfloat16, "cuda")
    loss = benchmark(_step, q, d, impl)
    assert torch.isfinite(loss) and q.grad is not None
