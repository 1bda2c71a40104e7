"""xcs: zero-shot cross-lingual retrieval by contrastive training on artificially code-switched data.

Public names are imported lazily (:mod:`xcs.lazy`) so that ``import xcs`` does not pull in torch or
transformers. Each stage's subpackage exports its own public names the same way
(``from xcs.loss import contrastive_loss``); the top level adds the most used ones.
"""

from __future__ import annotations

from xcs.lazy import attach

__version__ = "0.1.0"  # the one place: pyproject.toml reads it (scikit-build-core's regex provider)

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Lexicon": "xcs.lexicons.lexicon",
    "CompiledLexicon": "xcs.switching.compiled_lexicon",
    "CodeSwitcher": "xcs.switching.switcher",
    "CodeSwitchCollator": "xcs.switching.collator",
    "SwitchingRecipe": "xcs.switching.recipe",
    "Encoder": "xcs.models.encoder",
    "evaluate": "xcs.evaluation.suite",
    "contrastive_loss": "xcs.loss.api",
    "ContrastiveLoss": "xcs.loss.api",
    "MultipleNegativesRankingLoss": "xcs.loss.mnrl",
    "train": "xcs.training.loop",
    "TrainConfig": "xcs.training.config",
    "load_config": "xcs.experiment.config",
    "run_experiment": "xcs.experiment.runner",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
