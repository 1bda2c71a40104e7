"""The translate-test baseline: texts translated word by word into English, then encoded."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class TranslateTestEncoder:
    """Translate-test baseline: every text is translated word by word into English with the union
    of the ``lang -> en`` lexicons (first candidate), then encoded by ``base``.

    The encoder interface carries no language, so an English text goes through the same lookup:
    words that are frequent English words (``wordfreq`` Zipf >= 4) are kept as they are, which
    protects English texts at the price of leaving e.g. German "die"/"was" untranslated. Languages
    written without spaces (zh, th) are looked up as whole runs, so most of their text stays as is.
    """

    def __init__(self, base: Any, reverse_lexicons: Mapping[str, Any], *, keep_zipf: float = 4.0) -> None:
        from wordfreq import zipf_frequency

        self.base = base
        self.tokenizer = getattr(base, "tokenizer", None)
        self.description = f"translate-test ({getattr(base, 'description', 'encoder')})"
        table: dict[str, str] = {}
        for lex in reverse_lexicons.values():
            for src, targets in lex.entries.items():
                if " " not in src and src not in table and zipf_frequency(src, "en") < keep_zipf:
                    table[src] = targets[0]
        self.table = table

    def translate(self, text: str) -> str:
        words = _WORD.findall(text)
        return " ".join(self.table.get(w.lower(), w) for w in words)

    def encode(self, texts: Sequence[str], kind: str | None = None, **kwargs: Any) -> np.ndarray:
        """Translate each text word by word into English, then embed it with the base encoder;
        returns float32 ``(n, d)`` (``kind`` and ``kwargs`` go to the base encoder)."""
        return self.base.encode([self.translate(t) for t in texts], kind=kind, **kwargs)
