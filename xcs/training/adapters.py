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
    architecture."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=0.0, bias="none")
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:  # peft: "Please specify `target_modules` in `peft_config`"
        raise ValueError(f"lora_rank = {config.lora_rank}: peft knows no LoRA target modules for "
                         f"{type(model).__name__} ({exc})") from None


def merge_lora(model: nn.Module) -> nn.Module:
    """The plain model of an :func:`add_lora` wrapper, with the trained adapters merged into its
    weights (the parameter names and shapes of the model before :func:`add_lora`)."""
    return model.merge_and_unload()
