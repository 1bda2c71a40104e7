"""xcs inside the training scripts people already have.

- :mod:`xcs.integrations.transformers` — ``transformers.Trainer``: the epoch callback and a dual
  encoder whose ``forward`` returns the contrastive loss.
- :mod:`xcs.integrations.sentence_transformers` — ``SentenceTransformerTrainer``: a code-switching
  data collator and an XTREME-R evaluator.

Each module imports its library on import; ``import xcs`` does not.
"""

from __future__ import annotations

from xcs.lazy import attach

# public name -> the module that defines it (imported on first use: importing the package stays cheap)
_EXPORTS = {
    "CodeSwitchDataCollator": "xcs.integrations.sentence_transformers",
    "XtremeREvaluator": "xcs.integrations.sentence_transformers",
    "CodeSwitchEpochCallback": "xcs.integrations.transformers",
    "DualEncoderForContrastiveTraining": "xcs.integrations.transformers",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
