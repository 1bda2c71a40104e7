"""Training checkpoints: everything a killed run needs to continue bit for bit, written atomically
and checked against the current settings before it is resumed."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xcs.io.atomic import atomic_path
from xcs.training.config import LEGACY_TRAIN_VALUES


def _rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    # the checkpoint is loaded with map_location=<the model's device>; RNG states must be CPU tensors
    torch.set_rng_state(state["torch"].cpu())
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


CHECKPOINT_NAME = "checkpoint.pt"


def rank_rng_states(world_size: int) -> list[dict[str, Any]]:
    """The RNG states of every rank (gathered to all under torch.distributed), in rank order."""
    states: list[Any] = [_rng_state()]
    if world_size > 1:
        import torch.distributed as dist

        gathered: list[Any] = [None] * world_size
        dist.all_gather_object(gathered, states[0])
        states = gathered
    return states


def save_checkpoint(path: Path, *, step: int, towers: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    scheduler: Any, rng_states: list[dict[str, Any]], losses: list[float],
                    mined: list[list[str]] | None, config: dict[str, Any], train_wall_s: float) -> None:
    """Write the state after optimizer step ``step`` to ``path`` atomically: the trainable tensors
    (frozen ones come from the model itself), optimizer and scheduler, every rank's RNG states, the
    losses so far, the mined negatives and the config that made them."""
    trainable = {n: p.detach().cpu() for n, p in towers.named_parameters() if p.requires_grad}
    state = {"step": step, "trainable": trainable, "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "rng": rng_states, "losses": losses, "mined": mined,
             "config": config, "train_wall_s": train_wall_s}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path, *, config: dict[str, Any], towers: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, scheduler: Any, rank: int,
                    device: torch.device) -> dict[str, Any]:
    """Restore towers, optimizer, scheduler and this rank's RNG states from ``path``; returns the
    checkpoint (``step``, ``losses``, ``mined``, ``train_wall_s``).

    Raises ValueError naming ``path`` when it was written with other settings (``checkpoint_every``
    aside: it does not change what a run computes) or lacks a trainable tensor.
    """
    try:
        state = torch.load(path, map_location=device, weights_only=False)
        state["config"], state["trainable"], state["step"]  # noqa: B018  (the keys every checkpoint has)
    except Exception as exc:  # a truncated or foreign file fails in many ways inside torch.load
        raise ValueError(f"{path} is not a readable xcs checkpoint ({type(exc).__name__}: {exc}); delete it "
                         "or train with --no-resume (resume=False) to start over") from None
    saved = {k: v for k, v in {**LEGACY_TRAIN_VALUES, **state["config"]}.items() if k != "checkpoint_every"}
    current = {k: v for k, v in config.items() if k != "checkpoint_every"}
    if saved != current:
        changed = sorted(k for k in current if saved.get(k) != current[k])
        raise ValueError(f"{path} was written with other settings ({changed}); "
                         "use another output directory or resume=False")
    trainable = {n for n, p in towers.named_parameters() if p.requires_grad}
    missing = trainable - set(state["trainable"])
    if missing:
        raise ValueError(f"{path}: checkpoint lacks trainable tensors {sorted(missing)[:5]}")
    towers.load_state_dict(state["trainable"], strict=False)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    _set_rng_state(state["rng"][rank] if rank < len(state["rng"]) else state["rng"][0])
    return state
