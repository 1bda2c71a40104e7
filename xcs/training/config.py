"""The hyper-parameters of one training run and what the run returns."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from xcs.loss.options import MIN_TEMPERATURE, Impl
from xcs.schema import STRICT

HardNegatives = Literal["none", "paragraph", "mined", "given"]
Count = Annotated[int, Field(ge=1)]
NonNegative = Annotated[int, Field(ge=0)]


# Fields added after runs and checkpoints were recorded, with the value that reproduces what those
# records did: a record without the field was made with that value.
LEGACY_TRAIN_VALUES: dict[str, Any] = {"freeze_layers": 0, "distill_weight": 0.0, "lora_rank": 0,
                                       "lora_alpha": 16.0}


@pydantic_dataclass(config=STRICT)
class TrainConfig:
    """Hyper-parameters of one training run (all fields are plain values, TOML-friendly).

    ``batch_size`` is per rank and per micro-step; an optimizer step sees
    ``batch_size * grad_accum * world_size`` pairs. ``warmup`` is a fraction of ``steps`` when < 1,
    else a whole number of steps (``1.5`` is neither: an error). ``temperature`` is at least the
    loss's :data:`xcs.loss.options.MIN_TEMPERATURE`. ``mine_every`` re-mines hard negatives every that
    many optimizer steps (``"mined"`` mode only: set with another mode it is an error; 0 = only once,
    before the first step). ``checkpoint_every`` (>= 1) writes a
    checkpoint every that many optimizer steps (and always after the last one). ``hard_negatives``:
    ``"none"``, ``"paragraph"`` (other sentences of the positive's paragraph), ``"mined"`` (the model's
    top wrong answers) or ``"given"`` (each pair's own ``TrainPair.negatives``, exactly
    ``num_hard_negatives`` of them per pair). ``freeze_layers`` keeps the lowest that many transformer
    blocks (and the embeddings) as they are, so fine-tuning moves the upper layers only.
    ``distill_weight`` adds that times a distillation term: the mean cosine distance between the
    trained model's and the untouched starting model's embeddings of the English (unswitched)
    queries and positives, which keeps what the starting model could already do. ``lora_rank`` > 0
    trains LoRA adapters of that rank (``peft``'s default target modules, scaled by
    ``lora_alpha / lora_rank``) instead of the weights, and merges them in when training ends
    (:mod:`xcs.training.adapters`); it excludes ``freeze_layers``.

    Every field is type-checked without coercion (pydantic strict mode: ``"false"``, ``40.5`` or
    ``16.0`` for an int field are errors, an int is accepted for a float field) and range-checked;
    a bad value raises ``pydantic.ValidationError`` (a ``ValueError``) naming the field.
    """

    steps: Count = 200
    batch_size: Count = 16
    grad_accum: Count = 1
    lr: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 2e-5
    weight_decay: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.01
    warmup: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.1
    max_grad_norm: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0
    temperature: Annotated[float, Field(ge=MIN_TEMPERATURE, allow_inf_nan=False)] = 0.05
    symmetric: bool = False
    freeze_embeddings: bool = False
    freeze_layers: NonNegative = 0
    shared_towers: bool = True
    hard_negatives: HardNegatives = "none"
    num_hard_negatives: NonNegative = 1
    mine_every: NonNegative = 0
    align_weight: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    distill_weight: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    lora_rank: NonNegative = 0
    lora_alpha: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 16.0
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    checkpoint_every: Count = 50
    loss_impl: Impl = "auto"

    def __post_init__(self) -> None:
        if self.warmup >= 1 and not float(self.warmup).is_integer():
            raise ValueError(f"warmup is a fraction of the steps (below 1) or a whole number of steps, got "
                             f"{self.warmup!r}")
        if self.mine_every and self.hard_negatives != "mined":
            raise ValueError(f"mine_every = {self.mine_every} re-mines the negatives of hard_negatives = "
                             f"'mined', but hard_negatives is {self.hard_negatives!r}: it would be ignored")
        if self.hard_negatives != "none" and self.num_hard_negatives < 1:
            raise ValueError("num_hard_negatives must be >= 1 when hard negatives are used")
        if self.lora_rank and self.freeze_layers:
            raise ValueError("lora_rank and freeze_layers: LoRA already keeps every weight as it is; "
                             "set one of them")

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
    def needs_originals(self) -> bool:
        """Whether batches must carry the unswitched texts (the alignment or distillation term)."""
        return self.align_weight > 0 or self.distill_weight > 0

    @property
    def hard_negatives_per_query(self) -> int:
        return 0 if self.hard_negatives == "none" else self.num_hard_negatives


@dataclass
class TrainResult:
    """Per optimizer step mean loss (global, averaged over ranks), and where things were written.

    ``wall_s`` is the training time of this invocation; ``total_wall_s`` adds the time the
    checkpointed segments before a resume took (up to their last checkpoint). ``steps_per_s`` is
    ``None`` when this invocation trained no step (resumed from the last one): undefined, and JSON
    (``train_log.json``, ``run.json``) has no NaN.
    """

    losses: list[float]
    out_dir: Path
    wall_s: float
    steps_per_s: float | None
    total_wall_s: float = 0.0
    resumed_from: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
