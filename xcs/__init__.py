"""xcs: zero-shot cross-lingual retrieval by contrastive training on artificially code-switched data.

Public names are imported lazily so that ``import xcs`` does not pull in torch or transformers.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Lexicon": "xcs.lexicon",
    "CompiledLexicon": "xcs.compiled_lexicon",
    "CodeSwitcher": "xcs.codeswitch",
    "CodeSwitchCollator": "xcs.collator",
    "Encoder": "xcs.encoder",
    "evaluate": "xcs.evaluation",
    "contrastive_loss": "xcs.loss",
    "ContrastiveLoss": "xcs.loss",
    "MultipleNegativesRankingLoss": "xcs.loss_mnrl",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xcs' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
