"""Reproducible order: seeding and the per-epoch batch permutation."""

from __future__ import annotations

import random

import numpy as np
import torch


def batch_indices(num_examples: int, global_batch: int, step: int, seed: int) -> tuple[np.ndarray, int]:
    """Indices (int64 ``(global_batch,)``) of the examples of ``step`` and its epoch.

    Each epoch is a fresh permutation seeded by ``(seed, epoch)``; the last incomplete batch of an
    epoch is dropped, so every batch has the same size.
    """
    if num_examples < global_batch:
        raise ValueError(f"{num_examples} training examples cannot fill a global batch of {global_batch}")
    per_epoch = num_examples // global_batch
    epoch, within = divmod(step, per_epoch)
    order = np.random.default_rng([seed, epoch]).permutation(num_examples)
    return order[within * global_batch:(within + 1) * global_batch], epoch


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's global and torch's (CPU and CUDA) generators with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
