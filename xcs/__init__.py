"""xcs: zero-shot cross-lingual retrieval by contrastive training on artificially code-switched data.

Public names are imported lazily so that ``import xcs`` does not pull in torch or transformers.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Lexicon": "xcs.lexicons.lexicon",
    "CompiledLexicon": "xcs.switching.compiled_lexicon",
    "CodeSwitcher": "xcs.switching.switcher",
    "CodeSwitchCollator": "xcs.switching.collator",
    "Encoder": "xcs.models.encoder",
    "evaluate": "xcs.evaluation.suite",
    "contrastive_loss": "xcs.loss.api",
    "ContrastiveLoss": "xcs.loss.api",
    "MultipleNegativesRankingLoss": "xcs.loss.mnrl",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xcs' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
