"""Devices and torch.distributed: device names, ``"auto"``, and joining a ``torchrun`` process group."""

from __future__ import annotations

import os
import re

import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` outside torch.distributed."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


_DEVICE_NAME = re.compile(r"auto|cpu|cuda(:\d+)?")


def check_device_name(name: str) -> str:
    """``name`` if it is ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``, else a ValueError."""
    if not isinstance(name, str) or not _DEVICE_NAME.fullmatch(name):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {name!r}")
    return name


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """The torch device a device name means: ``"auto"`` is CUDA when ``torch.cuda.is_available()``,
    else the CPU; asking for CUDA without one is a ValueError."""
    if isinstance(name, torch.device):
        return name
    if check_device_name(name) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but torch.cuda.is_available() is False")
    return device


def init_distributed_from_env(device: str | torch.device = "auto") -> torch.device | None:
    """Join the process group ``torchrun`` describes in the environment; None when not launched so.

    Returns this rank's device: with a CUDA ``device`` the backend is nccl and every rank takes
    ``cuda:LOCAL_RANK``; otherwise gloo on the CPU. Idempotent.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    rank_device = torch.device("cpu")
    if resolve_device(device).type == "cuda":
        rank_device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        if rank_device.type == "cuda":
            torch.cuda.set_device(rank_device)
        dist.init_process_group(backend="nccl" if rank_device.type == "cuda" else "gloo")
    return rank_device
