"""Contrastive training of a dual encoder on (query, positive document) pairs.

The loop is plain PyTorch: AdamW, linear warm-up then linear decay, gradient clipping and
accumulation, optional freezing of the word-embedding matrix (about 80% of multilingual-e5-small's
parameters), in-batch negatives plus optional hard negatives (another sentence of the same paragraph,
or the highest-ranked wrong sentence under the current model), and an optional alignment term that
pulls each text towards its code-switched copy.

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
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from xcs.atomic import atomic_path, write_json_atomic

HARD_NEGATIVE_MODES = ("none", "paragraph", "mined")


# --------------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class TrainPair:
    """One training example: a query and the sentence that answers it.

    ``paragraph`` holds every sentence of the positive's paragraph (the positive included); it feeds
    the ``"paragraph"`` hard negatives and may be empty when unknown.
    """

    query: str
    positive: str
    paragraph: tuple[str, ...] = ()


@dataclass
class Tokens:
    """A padded batch of token ids: ``input_ids`` and ``attention_mask``, both int64 ``(n, L)``."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor

    def to(self, device: torch.device | str) -> Tokens:
        """The same batch on ``device`` (both tensors moved; ``self`` is left as it is)."""
        return Tokens(self.input_ids.to(device), self.attention_mask.to(device))

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])


@dataclass
class TokenBatch:
    """What one micro-step feeds the towers (this rank's share of the global batch).

    ``documents`` holds the ``B`` positives first, then ``B * H`` hard negatives (negative ``j`` of
    query ``i`` at row ``B + i * H + j``). ``document_ids`` (int64 ``(B + B*H,)``) names each document
    row's sentence so that a duplicate of a query's positive elsewhere in the batch is not treated as
    a negative. ``query_originals`` / ``document_originals``, when present, are the texts before
    code-switching, row-aligned with ``queries`` / the first ``B`` ``documents``: the alignment term
    contrasts each original with its switched copy.
    """

    queries: Tokens
    documents: Tokens
    document_ids: torch.Tensor
    query_originals: Tokens | None = None
    document_originals: Tokens | None = None


class BatchBuilder(Protocol):
    """Turns examples into token ids; methods (code-switching on which side, p) live here.

    ``example_ids`` are the indices of ``pairs`` in the training set and ``epoch`` the pass over it:
    code-switching engines draw from them, so a batch depends only on ``(seed, epoch, ids)``.
    """

    def __call__(
        self,
        pairs: Sequence[TrainPair],
        negatives: Sequence[Sequence[str]],
        example_ids: np.ndarray,
        epoch: int,
        step: int,
    ) -> TokenBatch: ...


class TokenEncoder(Protocol):
    """What training needs from an encoder (``xcs.Encoder`` satisfies it)."""

    model: nn.Module
    tokenizer: Any

    def forward_tokens(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor: ...

    def encode(self, texts: Sequence[str], kind: str | None = None, **kwargs: Any) -> np.ndarray: ...

    def save(self, path: str | os.PathLike[str]) -> Any: ...


# ------------------------------------------------------------------------------------------- config
@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (all fields are plain values, TOML-friendly).

    ``batch_size`` is per rank and per micro-step; an optimizer step sees
    ``batch_size * grad_accum * world_size`` pairs. ``warmup`` is a fraction of ``steps`` when < 1,
    else a number of steps. ``mine_every`` re-mines hard negatives every that many optimizer steps
    (``"mined"`` mode; 0 = only once, before the first step). ``checkpoint_every`` (>= 1) writes a
    checkpoint every that many optimizer steps (and always after the last one).
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


# ------------------------------------------------------------------------------------ distributed
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


# ----------------------------------------------------------------------------------------- towers
class DualTowers(nn.Module):
    """Query and document towers around ``TokenEncoder.forward_tokens``; one module so DDP sees one
    forward per micro-step however many text groups it encodes.

    With shared towers the document tower *is* the query tower (same parameters).
    """

    def __init__(self, query_encoder: TokenEncoder, document_encoder: TokenEncoder | None = None) -> None:
        super().__init__()
        self.query_model = query_encoder.model
        self.document_model = None if document_encoder is None else document_encoder.model
        # plain attributes (not submodules): the encoders own pooling; their models are registered above
        self.__dict__["query_encoder"] = query_encoder
        self.__dict__["document_encoder"] = document_encoder or query_encoder

    def forward(self, queries: list[Tokens], documents: list[Tokens]) -> tuple[list[torch.Tensor], ...]:
        """Embed each group; returns ``(query_embeddings, document_embeddings)``, float ``(n_i, d)``."""
        q = [self.query_encoder.forward_tokens(t.input_ids, t.attention_mask) for t in queries]
        d = [self.document_encoder.forward_tokens(t.input_ids, t.attention_mask) for t in documents]
        return q, d


class DualEncoder:
    """Two trained towers evaluated as one encoder: ``encode(kind="query")`` uses the query tower,
    everything else the document tower (what ``xcs.evaluation.evaluate`` needs from an encoder)."""

    def __init__(self, query_encoder: Any, document_encoder: Any) -> None:
        self.query_encoder = query_encoder
        self.document_encoder = document_encoder
        self.tokenizer = query_encoder.tokenizer
        self.description = f"dual towers ({getattr(query_encoder, 'description', 'encoder')})"

    def encode(self, texts: Sequence[str], kind: str | None = None, **kwargs: Any) -> np.ndarray:
        """Embed ``texts`` with the tower ``kind`` picks; returns float32 ``(n, d)`` (``kwargs`` go to
        that tower's ``encode``)."""
        encoder = self.query_encoder if kind == "query" else self.document_encoder
        return encoder.encode(texts, kind=kind, **kwargs)


# -------------------------------------------------------------------------------------- schedule
def warmup_linear_decay(warmup_steps: int, total_steps: int) -> Callable[[int], float]:
    """LR multiplier: 0 -> 1 linearly over ``warmup_steps``, then 1 -> 0 linearly at ``total_steps``."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return factor


def _optimizer(params: list[tuple[str, nn.Parameter]], config: TrainConfig) -> torch.optim.AdamW:
    """AdamW; no weight decay on biases and LayerNorm weights (the usual BERT recipe)."""
    decay = [p for n, p in params if p.ndim >= 2]
    no_decay = [p for n, p in params if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=config.lr)


# -------------------------------------------------------------------------------------- sampling
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


def paragraph_negatives(pairs: Sequence[TrainPair], ids: np.ndarray, k: int, seed: int, step: int
                        ) -> list[list[str]]:
    """``k`` other sentences of each example's paragraph, drawn with a ``(seed, step, id)`` RNG.

    Paragraphs with fewer than ``k`` other sentences are topped up by repetition; an example without
    any gets its own positive back, which the loss then masks as a duplicate (no signal, no harm).
    """
    out = []
    for i in ids:
        pair = pairs[int(i)]
        others = [s for s in pair.paragraph if s != pair.positive]
        if not others:
            out.append([pair.positive] * k)
            continue
        rng = np.random.default_rng([seed, step, int(i), 7])
        picks = rng.choice(len(others), size=k, replace=len(others) < k)
        out.append([others[j] for j in picks])
    return out


@torch.no_grad()
def mine_negatives(encoder: TokenEncoder, pairs: Sequence[TrainPair], k: int, batch_size: int = 64,
                   document_encoder: TokenEncoder | None = None) -> list[list[str]]:
    """For every pair, the ``k`` highest-ranked sentences under the model that are not its positive.

    The pool is every distinct positive sentence of the training set (at least two are needed);
    queries are embedded by ``encoder``, the pool by ``document_encoder`` (separate towers; default
    ``encoder``), both in eval mode (their train/eval modes are restored afterwards). Returns, per
    pair, ``k`` strings. Costs one pass of the towers over queries and pool.
    """
    pool = sorted({p.positive for p in pairs})
    if len(pool) < 2:
        raise ValueError(f"mining hard negatives needs at least 2 distinct positive sentences, got "
                         f"{len(pool)}; use hard_negatives = 'paragraph' or 'none' for this data")
    index = {s: i for i, s in enumerate(pool)}
    towers = [encoder] if document_encoder is None else [encoder, document_encoder]
    was_training = [tower.model.training for tower in towers]
    for tower in towers:
        tower.model.eval()
    try:
        q = torch.from_numpy(np.asarray(encoder.encode([p.query for p in pairs], kind="query",
                                                       batch_size=batch_size, show_progress=False)))
        d = torch.from_numpy(np.asarray(towers[-1].encode(pool, kind="passage", batch_size=batch_size,
                                                          show_progress=False)))
    finally:
        for tower, mode in zip(towers, was_training, strict=True):
            tower.model.train(mode)
    positive = torch.tensor([index[p.positive] for p in pairs])
    out: list[list[str]] = []
    for start in range(0, len(pairs), 1024):  # bounded memory: 1024 x |pool| scores at a time
        scores = q[start:start + 1024] @ d.T
        rows = torch.arange(scores.shape[0])
        scores[rows, positive[start:start + 1024]] = -math.inf
        top = scores.topk(min(k, len(pool) - 1), dim=1).indices
        out.extend([[pool[j] for j in row] + [pool[row[0]]] * (k - len(row)) for row in top.tolist()])
    return out


# -------------------------------------------------------------------------------------- the loss
def _contrastive(q: torch.Tensor, d: torch.Tensor, config: TrainConfig, *, gather: bool,
                 false_negative_ids: torch.Tensor | None = None) -> torch.Tensor:
    from xcs.loss import contrastive_loss

    labels = torch.arange(q.shape[0], device=q.device)
    return contrastive_loss(q, d, temperature=config.temperature, labels=labels, symmetric=config.symmetric,
                            false_negative_ids=false_negative_ids, gather=gather, impl=config.loss_impl)


def step_loss(towers: nn.Module, batch: TokenBatch, config: TrainConfig, *, gather: bool) -> torch.Tensor:
    """InfoNCE of queries against (positives + hard negatives), plus ``align_weight`` times the mean
    of the query and document alignment terms (each text against its code-switched copy)."""
    queries = [batch.queries]
    documents = [batch.documents]
    align = config.align_weight > 0 and batch.query_originals is not None
    if align:
        queries.append(batch.query_originals)
        documents.append(batch.document_originals)
    q, d = towers(queries, documents)
    loss = _contrastive(q[0], d[0], config, gather=gather, false_negative_ids=batch.document_ids)
    if align:
        positives = d[0][: len(batch.queries)]
        align_loss = 0.5 * (_contrastive(q[1], q[0], config, gather=gather)
                            + _contrastive(d[1], positives, config, gather=gather))
        loss = loss + config.align_weight * align_loss
    return loss


# --------------------------------------------------------------------------------- checkpointing
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


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's global and torch's (CPU and CUDA) generators with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


CHECKPOINT_NAME = "checkpoint.pt"


# ------------------------------------------------------------------------------------- the loop
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
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rank, world_size = world()
    distributed = world_size > 1
    device = next(encoder.model.parameters()).device
    seed_everything(config.seed + rank)

    document_encoder = None if config.shared_towers else copy.deepcopy(encoder)
    if config.freeze_embeddings:
        for enc in (encoder, document_encoder):
            if enc is not None:
                enc.model.get_input_embeddings().weight.requires_grad_(False)
    towers = DualTowers(encoder, document_encoder)
    towers.train()
    named = [(n, p) for n, p in towers.named_parameters() if p.requires_grad]
    optimizer = _optimizer(named, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_linear_decay(config.warmup_steps, config.steps))
    model_for_step: nn.Module = towers
    if distributed:
        from torch.nn.parallel import DistributedDataParallel

        model_for_step = DistributedDataParallel(
            towers, device_ids=[device.index] if device.type == "cuda" else None)

    losses: list[float] = []
    mined: list[list[str]] | None = None
    start_step = 0
    earlier_wall = 0.0
    checkpoint_path = out / CHECKPOINT_NAME
    if resume and checkpoint_path.exists():
        state = torch.load(checkpoint_path, map_location=device, weights_only=False)
        # a checkpoint only continues the run that wrote it (checkpoint_every may change)
        saved = {k: v for k, v in state["config"].items() if k != "checkpoint_every"}
        current = {k: v for k, v in asdict(config).items() if k != "checkpoint_every"}
        if saved != current:
            changed = sorted(k for k in current if saved.get(k) != current[k])
            raise ValueError(f"{checkpoint_path} was written with other settings ({changed}); "
                             "use another output directory or resume=False")
        trainable = {n for n, _ in named}
        missing = trainable - set(state["trainable"])
        if missing:
            raise ValueError(f"{checkpoint_path}: checkpoint lacks trainable tensors {sorted(missing)[:5]}")
        towers.load_state_dict(state["trainable"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        _set_rng_state(state["rng"][rank] if rank < len(state["rng"]) else state["rng"][0])
        losses = list(state["losses"])
        earlier_wall = float(state.get("train_wall_s", 0.0))
        mined = state.get("mined")
        start_step = int(state["step"])

    def save_checkpoint(step: int) -> None:
        rng_states: list[Any] = [_rng_state()]
        if distributed:
            gathered: list[Any] = [None] * world_size
            dist.all_gather_object(gathered, rng_states[0])
            rng_states = gathered
        if rank == 0:
            trainable = {n: p.detach().cpu() for n, p in towers.named_parameters() if p.requires_grad}
            checkpoint = {"step": step, "trainable": trainable, "optimizer": optimizer.state_dict(),
                          "scheduler": scheduler.state_dict(), "rng": rng_states, "losses": losses,
                          "mined": mined, "config": asdict(config),
                          "train_wall_s": earlier_wall + time.perf_counter() - began}
            with atomic_path(checkpoint_path) as tmp:
                torch.save(checkpoint, tmp)

    global_batch = config.batch_size * world_size
    k = config.hard_negatives_per_query
    bar = None
    if progress and rank == 0:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.steps, initial=start_step, desc="train", unit="step", dynamic_ncols=True)
    began = time.perf_counter()
    for step in range(start_step, config.steps):
        # re-mine at every multiple of mine_every, also right after resuming at one: the checkpoint
        # of step s holds the negatives mined before step s - mine_every
        if config.hard_negatives == "mined" and (
                mined is None or (config.mine_every and step % config.mine_every == 0 and step > 0)):
            mined = mine_negatives(encoder, pairs, k, document_encoder=document_encoder)
        optimizer.zero_grad(set_to_none=True)
        step_total = 0.0
        for micro in range(config.grad_accum):
            micro_step = step * config.grad_accum + micro
            ids, epoch = batch_indices(len(pairs), global_batch, micro_step, config.seed)
            ids = ids[rank * config.batch_size:(rank + 1) * config.batch_size]
            if config.hard_negatives == "paragraph":
                negatives = paragraph_negatives(pairs, ids, k, config.seed, micro_step)
            elif config.hard_negatives == "mined":
                negatives = [mined[int(i)] for i in ids]
            else:
                negatives = [[] for _ in ids]
            batch = build_batch([pairs[int(i)] for i in ids], negatives, ids, epoch, step)
            batch = TokenBatch(*(x.to(device) if x is not None else None for x in (
                batch.queries, batch.documents, batch.document_ids, batch.query_originals,
                batch.document_originals)))
            loss = step_loss(model_for_step, batch, config, gather=distributed) / config.grad_accum
            loss.backward()
            step_total += loss.detach()
        if config.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_([p for _, p in named], config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        value = torch.as_tensor(step_total, dtype=torch.float64)
        if distributed:
            dist.all_reduce(value)
            value /= world_size
        losses.append(float(value))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
        done = step + 1
        if done % config.checkpoint_every == 0 or done == config.steps:
            save_checkpoint(done)
        if on_step is not None:
            on_step(done, losses[-1])
    if bar is not None:
        bar.close()
    wall = time.perf_counter() - began
    trained = config.steps - start_step
    result = TrainResult(losses=losses, out_dir=out, wall_s=wall, total_wall_s=earlier_wall + wall,
                         steps_per_s=trained / wall if trained and wall > 0 else float("nan"),
                         resumed_from=start_step)
    if rank == 0:
        if save_model:
            encoder.save(out / "model", overwrite=True)
            if document_encoder is not None:
                document_encoder.save(out / "model-documents", overwrite=True)
        write_json_atomic({"config": asdict(config), "losses": losses, "wall_s": wall,
                           "total_wall_s": result.total_wall_s,
                           "steps_per_s": result.steps_per_s, "resumed_from": start_step,
                           "world_size": world_size}, out / "train_log.json")
    result.extra["document_encoder"] = document_encoder
    return result
