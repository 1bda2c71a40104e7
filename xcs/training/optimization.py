"""The optimizer recipe shared by the dual encoder and the cross-encoder: AdamW without weight decay on
biases and LayerNorm weights, linear warm-up then linear decay, gradient clipping."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from xcs.training.config import TrainConfig


class NonFiniteLossError(ValueError):
    """A training step's loss or gradient was NaN or infinite (the run diverged: too high a learning
    rate, say); training stops before that step updates the weights, and no model is saved."""


def warmup_linear_decay(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """LR multiplier: 0 -> 1 linearly over ``warmup_steps``, then 1 -> 0 linearly at ``total_steps``."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return factor


# where Hugging Face encoders keep their transformer blocks, bottom first
_BLOCK_PATHS = ("encoder.layer", "transformer.layer", "layers", "encoder.layers")


def transformer_blocks(model: nn.Module) -> nn.ModuleList:
    """The transformer blocks of a Hugging Face encoder, bottom first (BERT, XLM-R, DistilBERT, ...)."""
    for path in _BLOCK_PATHS:
        module: Any = model
        for part in path.split("."):
            module = getattr(module, part, None)
        if isinstance(module, nn.ModuleList):
            return module
    raise ValueError(f"freeze_layers: no transformer blocks found in {type(model).__name__} "
                     f"(looked at {', '.join(_BLOCK_PATHS)})")


def freeze(model: nn.Module, config: TrainConfig) -> None:
    """Stop the gradients ``config`` keeps out: the word embeddings (``freeze_embeddings``), or the
    whole embedding layer and the lowest ``freeze_layers`` blocks (``freeze_layers``)."""
    if config.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    if config.freeze_layers:
        blocks = transformer_blocks(model)
        if config.freeze_layers > len(blocks):
            raise ValueError(f"freeze_layers = {config.freeze_layers} but the model has {len(blocks)} blocks")
        embeddings = getattr(model, "embeddings", None)
        for module in ([embeddings] if embeddings is not None else []) + list(blocks[: config.freeze_layers]):
            module.requires_grad_(False)
        model.get_input_embeddings().weight.requires_grad_(False)


def make_optimizer(params: list[tuple[str, nn.Parameter]], config: TrainConfig) -> torch.optim.AdamW:
    """AdamW; no weight decay on biases and LayerNorm weights (the usual BERT recipe)."""
    decay = [p for n, p in params if p.ndim >= 2]
    no_decay = [p for n, p in params if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=config.lr)


def optimizer_and_schedule(params: list[tuple[str, nn.Parameter]], config: TrainConfig
                           ) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
    """:func:`make_optimizer` over ``params`` and its warm-up / linear-decay schedule."""
    optimizer = make_optimizer(params, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_linear_decay(config.warmup_steps,
                                                                                 config.steps))
    return optimizer, scheduler


def apply_gradients(parameters: Sequence[nn.Parameter], optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler, max_grad_norm: float) -> bool:
    """Clip the gradients of ``parameters`` to ``max_grad_norm`` (0: no clipping), step the optimizer
    and the schedule; returns True. A NaN or infinite gradient steps nothing (weights, optimizer state
    and schedule stay as they were) and returns False: the caller stops the run."""
    parameters = list(parameters)
    if max_grad_norm > 0:
        norm = torch.nn.utils.clip_grad_norm_(parameters, max_grad_norm)
    else:
        norm = torch.nn.utils.get_total_norm([p.grad for p in parameters if p.grad is not None])
    if not torch.isfinite(norm):
        return False
    optimizer.step()
    scheduler.step()
    return True
