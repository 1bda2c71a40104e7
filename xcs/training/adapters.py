"""LoRA adapters (``peft``) for training a tower: wrapped for the steps, merged back at the end.

With ``TrainConfig.lora_rank = r > 0`` the loop trains, instead of a tower's weights, low-rank
updates ``W + (lora_alpha / r) * B @ A`` of the modules ``peft`` targets by default for the
architecture (the attention's query and value projections for BERT / XLM-R encoders such as
multilingual-e5-small); every other weight stays as it is. When training ends the updates are
merged into the weights, so the saved checkpoint is a plain Hugging Face model that loads and
interpolates like any other.
"""

from __future__ import annotations

from torch import nn

from xcs.training.config import TrainConfig


def add_lora(model: nn.Module, config: TrainConfig) -> nn.Module:
    """``model`` wrapped in a ``peft`` model whose only trainable parameters are rank
    ``config.lora_rank`` adapters (B starts at zero: the wrapped model computes what ``model`` did).

    Raises ValueError naming ``lora_rank`` when ``peft`` has no default target modules for the
    architecture, or when the rank exceeds the smaller dimension of an adapted matrix (see
    :func:`check_lora_rank`)."""
    from peft import LoraConfig, get_peft_model

    check_lora_rank(model, config.lora_rank)
    lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=0.0, bias="none")
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:  # peft: "Please specify `target_modules` in `peft_config`"
        raise ValueError(f"lora_rank = {config.lora_rank}: peft knows no LoRA target modules for "
                         f"{type(model).__name__} ({exc})") from None


def _adapted_shapes(model: nn.Module) -> dict[str, tuple[int, int]]:
    """``{module name: (out_features, in_features)}`` of the linear layers ``peft`` adapts by default
    for ``model``'s architecture (a module matches a target by its last name part, as in ``peft``);
    empty when ``peft`` has no defaults for it (:func:`add_lora` then reports that)."""
    try:
        from peft.utils import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as targets
    except ImportError:  # moved in some peft release: nothing to check against
        return {}
    wanted = set(targets.get(getattr(getattr(model, "config", None), "model_type", None)) or ())
    return {name: (module.out_features, module.in_features) for name, module in model.named_modules()
            if name.rsplit(".", 1)[-1] in wanted and isinstance(module, nn.Linear)}


def check_lora_rank(model: nn.Module, rank: int) -> None:
    """Refuse a LoRA ``rank`` above ``min(in_features, out_features)`` of a matrix it would adapt.

    An update ``B @ A`` of an ``m x n`` matrix has rank at most ``min(m, n)``: a larger rank adds
    parameters (and memory: ``lora_rank = 100000`` on multilingual-e5-small's 384 x 384 projections
    is about 24 GB) and nothing else. Raises ValueError naming ``lora_rank`` / ``--lora-rank`` and
    the limit."""
    shapes = _adapted_shapes(model)
    if not shapes or not rank:
        return
    name, (rows, columns) = min(shapes.items(), key=lambda item: min(item[1]))
    limit = min(rows, columns)
    if rank > limit:
        raise ValueError(f"lora_rank (--lora-rank) = {rank} is larger than {limit}, the smaller dimension of "
                         f"the matrices LoRA adapts in {type(model).__name__} ({name}: {rows} x {columns}); "
                         f"an update of such a matrix has rank <= {limit}: choose lora_rank <= {limit}")


def merge_lora(model: nn.Module) -> nn.Module:
    """The plain model of an :func:`add_lora` wrapper, with the trained adapters merged into its
    weights (the parameter names and shapes of the model before :func:`add_lora`)."""
    return model.merge_and_unload()
