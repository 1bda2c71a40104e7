"""Contrastive training of a dual encoder on (query, positive document) pairs.

The loop is plain PyTorch: AdamW, linear warm-up then linear decay, gradient clipping and
accumulation, optional freezing of the word-embedding matrix (about 80% of multilingual-e5-small's
parameters) or LoRA adapters in place of the weights, in-batch negatives plus optional hard
negatives (another sentence of the same paragraph, or the highest-ranked wrong sentence under the
current model), and an optional alignment term that pulls each text towards its code-switched copy.

Everything a run does is a deterministic function of ``(config, step)``: the batch of step ``s`` is
drawn from a per-epoch permutation seeded by ``(seed, epoch)``, code-switching is counter-based in the
engine, and the RNG states (dropout) travel in the checkpoint, so a killed run resumed from its last
checkpoint reproduces the losses of an uninterrupted one.

Under ``torchrun`` every rank takes its share of the global batch, the towers are wrapped in
``DistributedDataParallel``, and the loss all-gathers documents across ranks (``gather=True``), so two
ranks with batch ``B`` each train exactly like one process with batch ``2B``.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from xcs.data.pairs import TrainPair
from xcs.io.atomic import remove_stale_temporaries, write_json_atomic
from xcs.io.versions import versions
from xcs.training.adapters import add_lora, merge_lora
from xcs.training.batch import BatchBuilder, TokenBatch, TokenEncoder
from xcs.training.checkpoint import CHECKPOINT_NAME, load_checkpoint, rank_rng_states, save_checkpoint
from xcs.training.config import TrainConfig, TrainResult
from xcs.training.devices import world
from xcs.training.negatives import given_negatives, mine_negatives, paragraph_negatives
from xcs.training.objective import DualTowers, step_loss
from xcs.training.optimization import NonFiniteLossError, apply_gradients, freeze, optimizer_and_schedule
from xcs.training.sampling import batch_indices, seed_everything


@dataclass
class _Run:
    """The state one training run carries from step to step (and into its checkpoint)."""

    towers: DualTowers
    model_for_step: nn.Module  # the towers, DDP-wrapped under torch.distributed
    parameters: list[nn.Parameter]  # trainable ones
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    document_encoder: TokenEncoder | None
    losses: list[float]
    mined: list[list[str]] | None = None
    teacher: TokenEncoder | None = None  # the frozen starting model of the distillation term
    start_step: int = 0
    earlier_wall: float = 0.0


def _set_up(encoder: TokenEncoder, config: TrainConfig, device: torch.device, distributed: bool) -> _Run:
    """Towers (a deep copy for the document side unless shared), frozen embeddings, optimizer,
    schedule and, under torch.distributed, the DDP wrapper."""
    document_encoder = None if config.shared_towers else copy.deepcopy(encoder)
    teacher = None
    if config.distill_weight > 0:
        teacher = copy.deepcopy(encoder)
        teacher.model.eval().requires_grad_(False)
    for enc in (encoder, document_encoder):
        if enc is not None:
            freeze(enc.model, config)
            if config.lora_rank:
                enc.model = add_lora(enc.model, config)
    towers = DualTowers(encoder, document_encoder)
    towers.train()
    named = [(n, p) for n, p in towers.named_parameters() if p.requires_grad]
    optimizer, scheduler = optimizer_and_schedule(named, config)
    model_for_step: nn.Module = towers
    if distributed:
        from torch.nn.parallel import DistributedDataParallel

        model_for_step = DistributedDataParallel(
            towers, device_ids=[device.index] if device.type == "cuda" else None)
    return _Run(towers, model_for_step, [p for _, p in named], optimizer, scheduler, document_encoder, [],
                teacher=teacher)


def _resume(run: _Run, path: Path, config: TrainConfig, rank: int, device: torch.device) -> None:
    state = load_checkpoint(path, config=asdict(config), towers=run.towers, optimizer=run.optimizer,
                            scheduler=run.scheduler, rank=rank, device=device)
    run.losses = list(state["losses"])
    run.earlier_wall = float(state.get("train_wall_s", 0.0))
    run.mined = state.get("mined")
    run.start_step = int(state["step"])


def _micro_batch(pairs: Sequence[TrainPair], build_batch: BatchBuilder, run: _Run, config: TrainConfig,
                 step: int, micro_step: int, rank: int, world_size: int, device: torch.device) -> TokenBatch:
    """This rank's share of micro-step ``micro_step``'s global batch, with its hard negatives."""
    ids, epoch = batch_indices(len(pairs), config.batch_size * world_size, micro_step, config.seed)
    ids = ids[rank * config.batch_size:(rank + 1) * config.batch_size]
    if config.hard_negatives == "paragraph":
        negatives = paragraph_negatives(pairs, ids, config.hard_negatives_per_query, config.seed, micro_step)
    elif config.hard_negatives == "mined":
        negatives = [run.mined[int(i)] for i in ids]
    elif config.hard_negatives == "given":
        negatives = given_negatives(pairs, ids, config.hard_negatives_per_query)
    else:
        negatives = [[] for _ in ids]
    batch = build_batch([pairs[int(i)] for i in ids], negatives, ids, epoch, step)
    return TokenBatch(*(x.to(device) if x is not None else None for x in (
        batch.queries, batch.documents, batch.document_ids, batch.query_originals,
        batch.document_originals)))


def _optimizer_step(run: _Run, pairs: Sequence[TrainPair], build_batch: BatchBuilder, config: TrainConfig,
                    step: int, rank: int, world_size: int, device: torch.device) -> tuple[float, bool]:
    """One optimizer step over ``grad_accum`` micro-batches; returns the loss (mean over ranks) and
    whether the step was taken. A non-finite loss or gradient leaves the weights, optimizer and
    schedule as they were (every rank sees the same reduced loss and all-reduced gradients, so all of
    them skip the update alike)."""
    run.optimizer.zero_grad(set_to_none=True)
    step_total = 0.0
    for micro in range(config.grad_accum):
        batch = _micro_batch(pairs, build_batch, run, config, step, step * config.grad_accum + micro, rank,
                             world_size, device)
        loss = step_loss(run.model_for_step, batch, config, gather=world_size > 1,
                         teacher=run.teacher) / config.grad_accum
        loss.backward()
        step_total += loss.detach()
    value = torch.as_tensor(step_total, dtype=torch.float64)
    if world_size > 1:
        dist.all_reduce(value)
        value /= world_size
    stepped = math.isfinite(float(value)) and apply_gradients(run.parameters, run.optimizer, run.scheduler,
                                                              config.max_grad_norm)
    return float(value), stepped


def _diverged(step: int, loss: float, checkpoint: Path, saved_step: int | None) -> NonFiniteLossError:
    kept = (f"the last good checkpoint, {checkpoint} (step {saved_step}), is kept" if saved_step
            else "this run had written no checkpoint yet")
    what = (f"the loss of step {step} is {loss}" if not math.isfinite(loss)
            else f"the gradient of step {step} (loss {loss:.4g}) is")
    return NonFiniteLossError(
        f"training in {checkpoint.parent} diverged: {what} (not a finite number); stopped without "
        f"saving a model ({kept}). Lower the learning rate (lr / --lr) or raise the warm-up")


def _finish(run: _Run, encoder: TokenEncoder, config: TrainConfig, out: Path, wall: float, rank: int,
            world_size: int, save_model: bool) -> TrainResult:
    """The result; on rank 0 also the model directories and ``train_log.json``."""
    trained = config.steps - run.start_step
    result = TrainResult(losses=run.losses, out_dir=out, wall_s=wall, total_wall_s=run.earlier_wall + wall,
                         steps_per_s=trained / wall if trained and wall > 0 else None,
                         resumed_from=run.start_step)
    if rank == 0:
        if save_model:
            encoder.save(out / "model", overwrite=True)
            if run.document_encoder is not None:
                run.document_encoder.save(out / "model-documents", overwrite=True)
        write_json_atomic({"config": asdict(config), "losses": run.losses, "wall_s": wall,
                           "total_wall_s": result.total_wall_s,
                           "steps_per_s": result.steps_per_s, "resumed_from": run.start_step,
                           "world_size": world_size, "environment": versions()}, out / "train_log.json")
    result.extra["document_encoder"] = run.document_encoder
    return result


def train(
    encoder: TokenEncoder,
    pairs: Sequence[TrainPair],
    build_batch: BatchBuilder,
    config: TrainConfig,
    out_dir: str | os.PathLike[str],
    *,
    resume: bool = True,
    progress: bool = True,
    save_model: bool = True,
    on_step: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train ``encoder`` in place on ``pairs``; write ``out_dir/checkpoint.pt`` every
    ``config.checkpoint_every`` steps, then ``out_dir/model`` (and ``out_dir/model-documents`` with
    separate towers) and ``out_dir/train_log.json``.

    With ``resume`` and an existing checkpoint, training continues from it (same losses as an
    uninterrupted run). ``on_step(step, loss)`` is called after every optimizer step (1-based).
    Returns the per-step losses of the whole run (those before the resume point come from the
    checkpoint).

    A step whose loss or gradient is not finite stops the run with :class:`NonFiniteLossError` naming
    the step:
    that step does not update the weights, no checkpoint is written after it (the last one, of the
    last finite step at or before it, stays) and no model or ``train_log.json`` is saved.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rank, world_size = world()
    device = next(encoder.model.parameters()).device
    seed_everything(config.seed + rank)
    run = _set_up(encoder, config, device, world_size > 1)
    checkpoint_path = out / CHECKPOINT_NAME
    if rank == 0:
        remove_stale_temporaries(checkpoint_path)  # a killed run's half-written checkpoint
    saved_step = None  # the step of the checkpoint on disk
    if resume and checkpoint_path.exists():
        _resume(run, checkpoint_path, config, rank, device)
        saved_step = run.start_step
    bar = None
    if progress and rank == 0:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.steps, initial=run.start_step, desc="train", unit="step", dynamic_ncols=True)
    began = time.perf_counter()
    for step in range(run.start_step, config.steps):
        # re-mine at every multiple of mine_every, also right after resuming at one: the checkpoint
        # of step s holds the negatives mined before step s - mine_every
        if config.hard_negatives == "mined" and (
                run.mined is None or (config.mine_every and step % config.mine_every == 0 and step > 0)):
            run.mined = mine_negatives(encoder, pairs, config.hard_negatives_per_query,
                                       document_encoder=run.document_encoder)
        loss, stepped = _optimizer_step(run, pairs, build_batch, config, step, rank, world_size, device)
        if not stepped:
            if bar is not None:
                bar.close()
            raise _diverged(step + 1, loss, checkpoint_path, saved_step)
        run.losses.append(loss)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{run.losses[-1]:.4f}", lr=f"{run.scheduler.get_last_lr()[0]:.2e}")
        done = step + 1
        if done % config.checkpoint_every == 0 or done == config.steps:
            rng_states = rank_rng_states(world_size)  # a collective: every rank takes part
            if rank == 0:
                save_checkpoint(checkpoint_path, step=done, towers=run.towers, optimizer=run.optimizer,
                                scheduler=run.scheduler, rng_states=rng_states, losses=run.losses,
                                mined=run.mined, config=asdict(config),
                                train_wall_s=run.earlier_wall + time.perf_counter() - began)
            saved_step = done
        if on_step is not None:
            on_step(done, run.losses[-1])
    if bar is not None:
        bar.close()
    if config.lora_rank:  # the trained adapters become plain weights before anything is saved
        for enc in (encoder, run.document_encoder):
            if enc is not None:
                enc.model = merge_lora(enc.model)
    return _finish(run, encoder, config, out, time.perf_counter() - began, rank, world_size, save_model)
