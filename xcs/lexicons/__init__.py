"""Bilingual lexicon sources, induction from cross-lingual word embeddings, and lexicon quality.

One concept per module:

- :mod:`xcs.lexicons.wikititles` — parallel Wikipedia titles (linguatools XML) -> phrase lexicon.
- :mod:`xcs.lexicons.cldr` — CLDR entity names (babel) -> phrase lexicon, cleaned as the titles.
- :mod:`xcs.lexicons.pivot` — compose A->B and B->C into A->C.
- :mod:`xcs.lexicons.filters` — identical pairs, target script, diacritics, frequent sources, caps.
- :mod:`xcs.lexicons.vectors` — streaming fastText / MUSE ``.vec`` reader and writer.
- :mod:`xcs.lexicons.procrustes` — orthogonal Procrustes alignment with mutual-NN refinement.
- :mod:`xcs.lexicons.csls` — chunked nearest-neighbour / CSLS retrieval and lexicon induction.
- :mod:`xcs.lexicons.encoder_embeddings` — type-level word vectors from the multilingual encoder.
- :mod:`xcs.lexicons.quality` — coverage of frequent words and P@k against a gold dictionary.
- :mod:`xcs.cli.lexicon` — ``xcs lexicon build|eval``.

Modules are imported explicitly (``from xcs.lexicons.csls import induce_lexicon``) so that importing
the package stays cheap.
"""

from __future__ import annotations

from xcs.lazy import attach

# public name -> the module that defines it (imported on first use: importing the package stays cheap)
_EXPORTS = {
    "induce_encoder_lexicon": "xcs.lexicons.encoder_embeddings",
    "shuffle_translations": "xcs.lexicons.filters",
    "Lexicon": "xcs.lexicons.lexicon",
    "LexiconFormatError": "xcs.lexicons.lexicon",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
