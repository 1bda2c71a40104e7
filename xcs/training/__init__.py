"""Contrastive training of a dual encoder (plain PyTorch, torchrun-ready).

- :mod:`xcs.training.batch` — training pairs and the token batches fed to the towers.
- :mod:`xcs.training.config` — :class:`~xcs.training.config.TrainConfig` and the run result.
- :mod:`xcs.training.devices` — devices and torch.distributed set-up.
- :mod:`xcs.training.sampling` — seeded per-epoch batches, seeding, optimizer and LR schedule.
- :mod:`xcs.training.negatives` — paragraph and mined hard negatives.
- :mod:`xcs.training.objective` — the towers and the per-step loss.
- :mod:`xcs.training.adapters` — LoRA adapters (``peft``) trained in place of the weights.
- :mod:`xcs.training.checkpoint` — checkpoints written atomically, validated on resume.
- :mod:`xcs.training.collated` — the loop's batches from a ``CodeSwitchCollator`` (or a recipe).
- :mod:`xcs.training.loop` — :func:`~xcs.training.loop.train`.
- :mod:`xcs.training.cross_encoder` — BCE training of the reranker's cross-encoder.
"""

from __future__ import annotations

from xcs.lazy import attach

# public name -> the module that defines it (imported on first use: importing the package stays cheap)
_EXPORTS = {
    "recipe_batch_builder": "xcs.training.collated",
    "TrainConfig": "xcs.training.config",
    "TrainResult": "xcs.training.config",
    "train_cross_encoder": "xcs.training.cross_encoder",
    "train": "xcs.training.loop",
    "NonFiniteLossError": "xcs.training.optimization",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
