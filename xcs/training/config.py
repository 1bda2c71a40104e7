"""The hyper-parameters of one training run and what the run returns."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

HARD_NEGATIVE_MODES = ("none", "paragraph", "mined", "given")


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (all fields are plain values, TOML-friendly).

    ``batch_size`` is per rank and per micro-step; an optimizer step sees
    ``batch_size * grad_accum * world_size`` pairs. ``warmup`` is a fraction of ``steps`` when < 1,
    else a number of steps. ``mine_every`` re-mines hard negatives every that many optimizer steps
    (``"mined"`` mode; 0 = only once, before the first step). ``checkpoint_every`` (>= 1) writes a
    checkpoint every that many optimizer steps (and always after the last one). ``hard_negatives``:
    ``"none"``, ``"paragraph"`` (other sentences of the positive's paragraph), ``"mined"`` (the model's
    top wrong answers) or ``"given"`` (each pair's own ``TrainPair.negatives``, exactly
    ``num_hard_negatives`` of them per pair).
    """

    steps: int = 200
    batch_size: int = 16
    grad_accum: int = 1
    lr: float = 2e-5
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_grad_norm: float = 1.0
    temperature: float = 0.05
    symmetric: bool = False
    freeze_embeddings: bool = False
    shared_towers: bool = True
    hard_negatives: str = "none"
    num_hard_negatives: int = 1
    mine_every: int = 0
    align_weight: float = 0.0
    seed: int = 0
    checkpoint_every: int = 50
    loss_impl: str = "auto"

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.grad_accum < 1:
            raise ValueError(
                f"steps, batch_size and grad_accum must be >= 1 (got {self.steps}, {self.batch_size}, "
                f"{self.grad_accum})"
            )
        for option, value, least in (("checkpoint_every", self.checkpoint_every, 1),
                                     ("num_hard_negatives", self.num_hard_negatives, 0),
                                     ("mine_every", self.mine_every, 0)):
            if value < least:
                raise ValueError(f"{option} must be >= {least}, got {value}")
        if self.warmup < 0 or self.lr <= 0 or self.weight_decay < 0 or self.max_grad_norm < 0:
            raise ValueError(f"need warmup >= 0, lr > 0, weight_decay >= 0 and max_grad_norm >= 0 (got "
                             f"{self.warmup}, {self.lr}, {self.weight_decay}, {self.max_grad_norm})")
        if self.hard_negatives not in HARD_NEGATIVE_MODES:
            raise ValueError(
                f"hard_negatives must be one of {HARD_NEGATIVE_MODES}, got {self.hard_negatives!r}")
        if self.hard_negatives != "none" and self.num_hard_negatives < 1:
            raise ValueError("num_hard_negatives must be >= 1 when hard negatives are used")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.align_weight < 0:
            raise ValueError(f"align_weight must be >= 0, got {self.align_weight}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a TOML table; unknown keys are an error naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training option(s) {unknown}; known: {sorted(known)}")
        return cls(**values)

    @property
    def warmup_steps(self) -> int:
        return int(round(self.warmup * self.steps)) if self.warmup < 1 else int(self.warmup)

    @property
    def hard_negatives_per_query(self) -> int:
        return 0 if self.hard_negatives == "none" else self.num_hard_negatives


@dataclass
class TrainResult:
    """Per optimizer step mean loss (global, averaged over ranks), and where things were written.

    ``wall_s`` is the training time of this invocation; ``total_wall_s`` adds the time the
    checkpointed segments before a resume took (up to their last checkpoint).
    """

    losses: list[float]
    out_dir: Path
    wall_s: float
    steps_per_s: float
    total_wall_s: float = 0.0
    resumed_from: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
