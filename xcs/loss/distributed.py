"""All-gather with gradient across torch.distributed ranks, for ``contrastive_loss(gather=True)``."""

from __future__ import annotations

import torch
import torch.distributed as dist


class _AllGatherWithGradient(torch.autograd.Function):
    """Concatenate ``x`` (n, ...) from every rank along dim 0; backward sums the gradients over ranks
    and returns this rank's slice (all_reduce, so it runs on gloo too, which has no reduce_scatter)."""

    @staticmethod
    def forward(ctx, x):
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        ctx.rank, ctx.rows = dist.get_rank(), x.shape[0]
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous()
        dist.all_reduce(grad)
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


def all_gather_with_gradient(x: torch.Tensor, name: str) -> torch.Tensor:
    """All-gather with gradient after checking every rank has the same number of rows."""
    sizes = [torch.zeros(1, dtype=torch.int64, device=x.device) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, torch.tensor([x.shape[0]], dtype=torch.int64, device=x.device))
    if len({int(s) for s in sizes}) != 1:
        raise ValueError(
            f"gather=True needs the same number of {name} on every rank, got {[int(s) for s in sizes]}"
        )
    if x.requires_grad:
        return _AllGatherWithGradient.apply(x)
    parts = [torch.empty_like(x) for _ in sizes]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)
