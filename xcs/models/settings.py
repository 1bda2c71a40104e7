"""What an ``Encoder``'s vectors depend on besides the weights, and where a checkpoint stores it.

The settings are a plain dict with the keys of :data:`STANDARD_SETTINGS`: ``pooling`` (``"mean"``
or ``"cls"``), ``layer`` (``None`` = last hidden layer), ``normalize`` (L2), ``query_prefix``,
``passage_prefix`` and ``max_length`` (tokens per text). The standard values are
multilingual-e5's recipe; they are what the default checkpoint is used with, and what
:class:`~xcs.models.encoder.Encoder` falls back to.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

# Written next to the HF files by Encoder.save so that a saved encoder loads back with the
# pooling / prefixes it was trained with.
SETTINGS_FILE = "xcs_encoder.json"

STANDARD_SETTINGS: Mapping[str, Any] = MappingProxyType({
    "pooling": "mean", "layer": None, "normalize": True,
    "query_prefix": "query: ", "passage_prefix": "passage: ", "max_length": 512,
})
