"""How each built-in strategy runs one (method, seed), and what runs share: the
:class:`RunContext`, the models one row reuses from another, the encoders it evaluates.

The registry (:mod:`xcs.experiment.strategies`) names these functions; the runner calls them
through :meth:`~xcs.experiment.strategies.Strategy.execute`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from xcs.experiment.config import ExperimentConfig
from xcs.experiment.methods import Method, strategy_of
from xcs.experiment.paths import RunPaths, run_paths
from xcs.io.atomic import atomic_path, write_json_atomic


@dataclass
class RunContext:
    """Everything one (method, seed) run reads; ``record`` is its ``run.json`` in the making (a
    strategy adds ``train``), ``trained_at`` the ``time.perf_counter()`` when training ended."""

    config: ExperimentConfig
    method: Method
    seed: int
    paths: RunPaths
    work_dir: Path
    data_dir: Path
    pairs: Sequence[Any]
    progress: bool
    device: Any
    record: dict[str, Any]
    trained_at: float | None = None


def reused_by_others(config: ExperimentConfig, method: Method) -> bool:
    """Whether another row of ``config`` reuses ``method``'s trained model: an interpolation of it,
    or a strategy that needs the baseline's model when ``method`` is the baseline."""
    return any((strategy_of(m).needs_baseline_model and method.name == config.baseline)
               or m.base == method.name for m in config.methods.values())


# ------------------------------------------------------------------------------------------ helpers
def kept_model(work_dir: Path, method: str, seed: int, needed_by: str) -> Path:
    """The saved model of ``method`` at ``seed`` that ``needed_by`` reuses; a FileNotFoundError
    saying which when it is missing."""
    path = run_paths(Path(), work_dir, method, seed).model
    if not path.exists():
        raise FileNotFoundError(f"{needed_by} needs the {method!r} model of seed {seed} at {path} "
                                "(run that method first, with keep_models = true)")
    return path


def evaluation_encoder(encoder: Any, document_encoder: Any | None = None) -> Any:
    """The trained tower(s) in eval mode (dropout off) as one encoder for ``evaluate``: ``encoder``
    itself with shared towers, else a :class:`xcs.models.dual_encoder.DualEncoder`."""
    encoder.model.eval()
    if document_encoder is None:
        return encoder
    from xcs.models.dual_encoder import DualEncoder

    document_encoder.model.eval()
    return DualEncoder(encoder, document_encoder)


def interpolated_encoder(config: ExperimentConfig, method: Method, seed: int, work_dir: Path,
                         device: Any = None) -> Any:
    """The WiSE-FT encoder of the interpolating ``method`` at ``seed``: every tower of its base's
    trained model mixed with the untouched ``config.model`` at ``method.alpha``, in eval mode.

    A base trained with separate towers (``shared_towers = false``) saved ``model-documents/`` beside
    ``model/``: both are interpolated and evaluated as a :class:`~xcs.models.dual_encoder.DualEncoder`,
    as the base itself was, so ``alpha = 1`` reproduces the base exactly and ``alpha = 0`` the
    untouched model (whose two towers are one)."""
    from xcs.models.encoder import Encoder
    from xcs.models.interpolation import interpolate

    needed_by = f"{method.name} (interpolation)"
    base_dir = kept_model(work_dir, method.base, seed, needed_by)
    towers = [base_dir]
    if not config.train_config(config.methods[method.base], seed).shared_towers:
        documents = base_dir.with_name("model-documents")
        if not documents.exists():
            raise FileNotFoundError(f"{needed_by} needs the document tower of the {method.base!r} model of "
                                    f"seed {seed} at {documents} (it was trained with separate towers)")
        towers.append(documents)
    mixed = [interpolate(Encoder(config.model, device=device), Encoder(tower, device=device), method.alpha)
             for tower in towers]
    return evaluation_encoder(*mixed)


# ------------------------------------------------------------------------------------------ the runs
def train_run(ctx: RunContext) -> Any:
    """Fine-tune a dual encoder (English only, or code-switching into the method's languages)."""
    from xcs.models.encoder import Encoder
    from xcs.training.collated import recipe_batch_builder
    from xcs.training.loop import train

    config, method = ctx.config, ctx.method
    train_config = config.train_config(method, ctx.seed)
    encoder = Encoder(config.model, device=ctx.device)
    recipe = method.switching
    builder = recipe_batch_builder(
        encoder.tokenizer, recipe, lexicons=recipe.load_lexicons(ctx.data_dir) if recipe else None,
        seed=ctx.seed, total_steps=train_config.steps, query_prefix=encoder.query_prefix,
        passage_prefix=encoder.passage_prefix, max_query_length=config.data.max_query_length,
        max_document_length=config.data.max_document_length, align=train_config.needs_originals)
    result = train(encoder, ctx.pairs, builder, train_config, ctx.paths.work, progress=ctx.progress,
                   save_model=config.keep_models or reused_by_others(config, method))
    ctx.record["train"] = {"config": asdict(train_config), "wall_s": result.total_wall_s,
                           "steps_per_s": result.steps_per_s, "resumed_from": result.resumed_from,
                           "first_loss": result.losses[0], "last_loss": result.losses[-1],
                           "losses": result.losses, "train_pairs": len(ctx.pairs)}
    ctx.trained_at = time.perf_counter()
    return evaluation_encoder(encoder, result.extra.get("document_encoder"))


def translate_test_run(ctx: RunContext) -> Any:
    """The baseline's model of the same seed on texts translated word by word into English."""
    from xcs.models.encoder import Encoder
    from xcs.models.translate_test import TranslateTestEncoder

    base_dir = kept_model(ctx.work_dir, ctx.config.baseline, ctx.seed, "translate-test")
    recipe = ctx.method.recipe
    reverse = recipe.load_lexicons(ctx.data_dir, recipe.languages, reverse=True)
    return TranslateTestEncoder(Encoder(base_dir, device=ctx.device), reverse)


def interpolate_run(ctx: RunContext) -> Any:
    return interpolated_encoder(ctx.config, ctx.method, ctx.seed, ctx.work_dir, ctx.device)


def off_the_shelf_run(ctx: RunContext) -> Any:
    from xcs.models.encoder import Encoder

    return Encoder(ctx.config.model, device=ctx.device)


def rerank_run(ctx: RunContext) -> None:
    """Train the cross-encoder (code-switching on both sides) and rerank the baseline model's top-k
    on the config's pairs (same XQuAD-R subsample as the evaluation); writes ``rerank.json``."""
    from xcs.data.xquadr import load_xquadr_dir, subsample_sets
    from xcs.evaluation.rerank import rerank_xquadr
    from xcs.models.cross_encoder import CrossEncoder
    from xcs.models.encoder import Encoder
    from xcs.training.collated import recipe_batch_builder
    from xcs.training.cross_encoder import train_cross_encoder

    config, method = ctx.config, ctx.method
    base_dir = kept_model(ctx.work_dir, config.baseline, ctx.seed, "rerank")
    train_config = config.train_config(method, ctx.seed)
    cross = CrossEncoder(config.model, device=ctx.device, seed=ctx.seed)
    recipe = method.recipe
    builder = recipe_batch_builder(cross.tokenizer, recipe, lexicons=recipe.load_lexicons(ctx.data_dir),
                                   seed=ctx.seed, total_steps=train_config.steps,
                                   max_query_length=config.data.max_query_length,
                                   max_document_length=config.data.max_document_length)
    losses = train_cross_encoder(cross, ctx.pairs, builder, train_config, progress=ctx.progress)
    ctx.record["train"] = {"config": asdict(train_config), "losses": losses, "first_loss": losses[0],
                           "last_loss": losses[-1]}
    ctx.trained_at = time.perf_counter()
    languages = sorted({lang for pair in config.pairs for lang in pair.split("-")})
    sets = load_xquadr_dir(ctx.data_dir / "xquad-r", languages)
    if config.eval.subsample:  # the evaluation's questions (same subsample and seed)
        sets = subsample_sets(sets, config.eval.subsample, config.eval.seed)
    metrics, scores = rerank_xquadr(Encoder(base_dir, device=ctx.device), cross, sets, config.pairs,
                                    k=method.rerank_k)
    with atomic_path(ctx.paths.work / "rerank_per_query.npz") as tmp:
        np.savez_compressed(tmp, **scores)
    write_json_atomic({**metrics, "environment": ctx.record["environment"]},
                      ctx.paths.results / "rerank.json")
    ctx.record["description"] = "cross-encoder reranker"


