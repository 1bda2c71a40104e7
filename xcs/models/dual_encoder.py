"""Two towers (a query encoder and a document encoder) used as one encoder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class DualEncoder:
    """Two trained towers evaluated as one encoder: ``encode(kind="query")`` uses the query tower,
    everything else the document tower (what ``xcs.evaluation.suite.evaluate`` needs from an encoder)."""

    def __init__(self, query_encoder: Any, document_encoder: Any) -> None:
        self.query_encoder = query_encoder
        self.document_encoder = document_encoder
        self.tokenizer = query_encoder.tokenizer
        self.description = f"dual towers ({getattr(query_encoder, 'description', 'encoder')})"

    def encode(self, texts: Sequence[str], kind: str | None = None, **kwargs: Any) -> np.ndarray:
        """Embed ``texts`` with the tower ``kind`` picks; returns float32 ``(n, d)`` (``kwargs`` go to
        that tower's ``encode``)."""
        encoder = self.query_encoder if kind == "query" else self.document_encoder
        return encoder.encode(texts, kind=kind, **kwargs)
