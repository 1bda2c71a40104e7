"""The correctness criterion of the fused loss, shared by the CPU tests (tests/loss/test_loss.py)
and the CUDA tests (tests/loss/test_loss_cuda.py).

An implementation passes where ``|gt - impl| <= |gt - eager| + eps * max|gt|`` elementwise (eps one
ulp of the dtype at the tensor's scale, 2**-17 for fp32: the fused gradient GEMMs take the softmax
weights rounded to the input dtype, as flash-attention does, so single elements may differ from
eager's by that much) and ``max|gt - impl| <= max|gt - eager| + eps / 2 * max|gt|`` over the whole
tensor, with ``gt`` the float64 ground truth and ``eager`` the materialising reference run in the
same dtype, for the loss and the gradients with respect to q, d and a learnable temperature.
"""

from __future__ import annotations

import torch

from xcs.loss.api import contrastive_loss

# slack on top of the eager reference's own error, relative to the largest ground-truth element
SLACK = {torch.float32: 2.0**-17, torch.float16: 2.0**-10, torch.bfloat16: 2.0**-7}
DTYPES = [torch.float32, torch.float16, torch.bfloat16]

# option sets: name -> kwargs-builder(B, N, CPU generator) -> dict of contrastive_loss options
OPTIONS = {
    "plain": lambda b, n, g: {},
    "hard_negatives": lambda b, n, g: {"labels": torch.randperm(n, generator=g)[:b]},
    "symmetric": lambda b, n, g: {"symmetric": True},
    "margin": lambda b, n, g: {"margin": 0.3},
    "false_negatives": lambda b, n, g: {
        "labels": torch.randperm(n, generator=g)[:b],
        "false_negative_ids": torch.randint(0, max(n // 3, 1), (n,), generator=g),
    },
    "everything": lambda b, n, g: {
        "labels": torch.randint(0, n, (b,), generator=g),  # repeated positives too
        "symmetric": True,
        "margin": 0.2,
        "false_negative_ids": torch.randint(0, max(n // 4, 1), (n,), generator=g),
    },
}


def embeddings(num: int, dim: int, generator: torch.Generator, scale: float = 1.0) -> torch.Tensor:
    """(num, dim) float64 rows of norm ``scale``, drawn on the CPU from ``generator``."""
    x = torch.randn(num, dim, generator=generator, dtype=torch.float64)
    return scale * torch.nn.functional.normalize(x, dim=-1)


def run_loss(q, d, tau, impl, reduction, weights, *, tensor_temperature=True, before=None, **options):
    """[loss, grad_q, grad_d, grad_tau] as float64 (grad_tau None for a float temperature), for
    inputs in q's dtype and device; ``before()`` runs just before the loss (poisoning, say)."""
    q = q.detach().clone().requires_grad_()
    d = d.detach().clone().requires_grad_()
    temperature = tau.detach().clone().requires_grad_() if tensor_temperature else float(tau)
    if before is not None:
        before()
    loss = contrastive_loss(q, d, temperature=temperature, impl=impl, reduction=reduction, chunk_size=7,
                            **options)
    (loss * weights if reduction == "none" else loss).sum().backward()
    tau_grad = temperature.grad if tensor_temperature else None
    return [None if t is None else t.detach().double() for t in (loss, q.grad, d.grad, tau_grad)]


def assert_as_good_as_eager(impl_out, eager_out, gt_out, dtype, what):
    """The criterion of the module docstring for each of loss, grad_q, grad_d, grad_tau."""
    for name, impl, eager, gt in zip(
        ("loss", "grad_q", "grad_d", "grad_tau"), impl_out, eager_out, gt_out, strict=True
    ):
        if gt is None:
            assert impl is None, f"{what}: {name} expected no gradient"
            continue
        impl, eager, gt = impl.cpu(), eager.cpu(), gt.cpu()
        assert torch.isfinite(impl).all(), f"{what}: {name} not finite"
        scale = gt.abs().max()
        excess = (gt - impl).abs() - ((gt - eager).abs() + SLACK[dtype] * scale)
        assert excess.max() <= 0, f"{what}: {name} exceeds the eager error by {excess.max().item():.3g}"
        worst, eager_worst = (gt - impl).abs().max(), (gt - eager).abs().max()
        assert worst <= eager_worst + SLACK[dtype] / 2 * scale, (
            f"{what}: {name} max error {worst:.3g} > eager's"
        )


def compare_to_ground_truth(impl, dtype, option, *, reduction="mean", num_queries=13, num_docs=29, dim=19,
                            tau=0.07, seed=0, device="cpu", tensor_temperature=True, before=None):
    """Draw inputs from ``seed``, run ``impl`` and eager in ``dtype`` on ``device`` and float64 eager,
    and assert the criterion."""
    g = torch.Generator().manual_seed(seed)
    options = OPTIONS[option](num_queries, num_docs, g)
    options = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in options.items()}
    q64, d64 = embeddings(num_queries, dim, g).to(device), embeddings(num_docs, dim, g).to(device)
    weights = torch.rand(num_queries, generator=g, dtype=torch.float64).to(device)
    q, d = q64.to(dtype), d64.to(dtype)
    tau32 = torch.tensor(tau, device=device)
    kwargs = {"tensor_temperature": tensor_temperature, **options}
    gt = run_loss(q.double(), d.double(), tau32.double(), "eager", reduction, weights, **kwargs)
    eager = run_loss(q, d, tau32, "eager", reduction, weights.to(dtype), **kwargs)
    out = run_loss(q, d, tau32, impl, reduction, weights.float(), before=before, **kwargs)
    assert_as_good_as_eager(out, eager, gt, dtype, f"{impl} {dtype} {option} {reduction} "
                                                  f"B={num_queries} N={num_docs} dim={dim}")
    return out


def check_extremes(impl, num_queries, num_docs, dim, tau, scale, device="cpu"):
    """fp32 inputs at extreme shapes, temperatures or norms, both directions: finite, and within the
    fp32 rounding of logits of size |S| ~ scale^2 / tau of the float64 ground truth (the relative
    criterion above has no scale where the loss is ~0, as with one query and a dominant positive)."""
    g = torch.Generator().manual_seed(7)
    q64 = embeddings(num_queries, dim, g, scale).to(device)
    d64 = embeddings(num_docs, dim, g, scale).to(device)
    weights = torch.ones(num_queries, dtype=torch.float64, device=device)
    tau64 = torch.tensor(tau, dtype=torch.float64, device=device)
    for symmetric in (False, True):
        gt = run_loss(q64, d64, tau64, "eager", "mean", weights, symmetric=symmetric)
        out = run_loss(q64.float(), d64.float(), tau64.float(), impl, "mean", weights, symmetric=symmetric)
        for name, a, b in zip(("loss", "grad_q", "grad_d", "grad_tau"), out, gt, strict=True):
            assert torch.isfinite(a).all(), name
            tol = 1e-5 * (1 + scale * scale / tau) * (1 + b.abs().max())
            assert (a - b).abs().max() <= tol, (name, (a - b).abs().max().item(), tol)
    if num_queries == num_docs == 1:
        # the softmax over one document is 1: loss 0 up to the rounding of lse - positive
        assert out[0].abs().item() <= 1e-6 and out[1].abs().max().item() <= 1e-6
