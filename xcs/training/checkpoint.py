"""Training checkpoints: everything a killed run needs to continue bit for bit, written atomically
and checked against the current settings before it is resumed.

A checkpoint holds tensors and plain Python values only (the RNG states of NumPy and ``random`` too,
as tensors), so it is read with ``torch.load(weights_only=True)``: a ``checkpoint.pt`` that carries
a pickled callable is refused without running it."""

from __future__ import annotations

import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from xcs.io.atomic import atomic_path
from xcs.training.config import LEGACY_TRAIN_VALUES


def _numpy_state() -> dict[str, Any]:
    """NumPy's global RNG state as tensors and plain values (a checkpoint holds no pickled objects)."""
    name, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    return {"name": str(name), "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(position),
            "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)}


def _python_state() -> dict[str, Any]:
    """``random.getstate()`` (``(version, 625 ints, gauss_next)``) as a tensor and plain values."""
    version, internal, gauss_next = random.getstate()
    return {"version": int(version), "internal": torch.tensor(internal, dtype=torch.int64),
            "gauss_next": gauss_next}


def _rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state(), "numpy": _numpy_state(), "python": _python_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    # the checkpoint is loaded with map_location=<the model's device>; RNG states must be CPU tensors
    torch.set_rng_state(state["torch"].cpu())
    numpy_state = state["numpy"]
    np.random.set_state((numpy_state["name"], numpy_state["keys"].cpu().numpy().astype(np.uint32),
                         numpy_state["pos"], numpy_state["has_gauss"], numpy_state["cached_gaussian"]))
    python_state = state["python"]
    random.setstate((python_state["version"], tuple(int(x) for x in python_state["internal"].tolist()),
                     python_state["gauss_next"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


CHECKPOINT_NAME = "checkpoint.pt"


def _first_line(exc: BaseException) -> str:
    """The first line of torch's (long) weights-only refusal, which names the refused global."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    named = [line for line in lines if "GLOBAL" in line or "Unsupported" in line]
    return (named or lines or [type(exc).__name__])[0]


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
        # weights_only: tensors and plain Python values only. A pickled callable (anything whose
        # unpickling would import and call a function) is refused, never run: resuming is the default,
        # and the run directory may come from anywhere.
        state = torch.load(path, map_location=device, weights_only=True)
        state["config"], state["trainable"], state["step"]  # noqa: B018  (the keys every checkpoint has)
        state["rng"][0]["numpy"]["keys"]  # noqa: B018  (RNG states as tensors: not an older xcs's pickle)
    except pickle.UnpicklingError as exc:
        raise ValueError(f"{path} was refused: it holds pickled Python objects other than tensors and "
                         "plain values, which could run code when loaded, so it was not loaded "
                         f"({_first_line(exc)}); a checkpoint of an older xcs looks like this too: "
                         "delete it or train with --no-resume (resume=False) to start over") from None
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
