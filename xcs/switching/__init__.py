"""Code-switching on token ids: the stage between the tokenizer and the encoder.

- :mod:`xcs.switching.vocab` — word units from token ids (token classes per vocabulary).
- :mod:`xcs.switching.rng` — the counter-based draws and their constants (shared with C++ and Numba).
- :mod:`xcs.switching.compiled_lexicon` — a lexicon compiled to CSR token-id arrays for one tokenizer.
- :mod:`xcs.switching.compile_cache` — compiled lexicons cached on disk (lexicon hash x tokenizer).
- :mod:`xcs.switching.native` — the C++ core (``xcs._native``) and its ABI check.
- :mod:`xcs.switching.switcher` — :class:`~xcs.switching.switcher.CodeSwitcher`, the public engine.
- :mod:`xcs.switching.numba_engine` — the Numba backend (fallback and differential oracle).
- :mod:`xcs.switching.draws` — which draw each collated example gets (index column, per-worker counters).
- :mod:`xcs.switching.switching_tokenizer` — texts -> switched, prompted, padded token ids.
- :mod:`xcs.switching.collator` — :class:`~xcs.switching.collator.CodeSwitchCollator`, the one batching
  path of training.
- :mod:`xcs.switching.recipe` — :class:`~xcs.switching.recipe.SwitchingRecipe`: languages, p, sides,
  lexicons and switch-quality options as one object; its lexicons, switchers and collator.
"""

from __future__ import annotations

from xcs.lazy import attach

# public name -> the module that defines it (imported on first use: importing the package stays cheap)
_EXPORTS = {
    "CodeSwitchCollator": "xcs.switching.collator",
    "WrongCollatorError": "xcs.switching.collator",
    "CompiledLexicon": "xcs.switching.compiled_lexicon",
    "TokenizerMismatchError": "xcs.switching.compiled_lexicon",
    "SwitchingRecipe": "xcs.switching.recipe",
    "CodeSwitcher": "xcs.switching.switcher",
    "SwitchingTokenizer": "xcs.switching.switching_tokenizer",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
