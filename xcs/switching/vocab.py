"""Per-vocabulary token classes (word start / continuation / punctuation / special) and fingerprint.

The code-switching engine finds word boundaries from token IDs alone, through one table per
vocabulary computed once per tokenizer:

* SentencePiece (``▁word``) and byte-level BPE (``Ġword``): a token starting with the marker
  starts a word, any other token continues it.
* WordPiece (``##piece``): a token starting with ``##`` continues a word, any other starts one.
* A token whose text (marker removed) is only Unicode punctuation or symbols (categories P*, S*)
  is a unit of its own, and so is the token right after it ("don't" -> ``▁don`` ``'`` ``t``).
* Special tokens (``<s>``, ``</s>``, ``<pad>``, added special tokens) are never touched.

The fingerprint is a SHA-256 over the token strings and special ids; a lexicon compiled for one
vocabulary refuses to run with another.
"""

from __future__ import annotations

import contextlib
import hashlib
import unicodedata
import weakref
from dataclasses import dataclass

import numpy as np

# Token classes; the values are shared with csrc/core/codeswitch.hpp (TokenClass).
CONTINUATION = 0
WORD_START = 1
PUNCTUATION = 2
SPECIAL = 3

_START_MARKERS = ("▁", "Ġ")  # SentencePiece, byte-level BPE
_CONTINUATION_MARKER = "##"  # WordPiece


@dataclass(frozen=True, eq=False)
class VocabTable:
    """Token classes of one vocabulary.

    ``token_class``: ``np.ndarray`` of ``uint8``, shape ``(vocab_size,)``, values
    ``CONTINUATION | WORD_START | PUNCTUATION | SPECIAL``. ``fingerprint``: hex SHA-256 of the
    vocabulary; ``fingerprint64`` its first 64 bits, the form the C++ core compares.
    """

    token_class: np.ndarray
    fingerprint: str
    scheme: str  # "sentencepiece" | "bytelevel" | "wordpiece"

    @property
    def vocab_size(self) -> int:
        return int(self.token_class.shape[0])

    @property
    def fingerprint64(self) -> int:
        return int(self.fingerprint[:16], 16)

    @classmethod
    def for_tokenizer(cls, tokenizer) -> VocabTable:
        """The (cached) table of a Hugging Face tokenizer; computed once per tokenizer object."""
        try:
            return _CACHE[tokenizer]
        except (KeyError, TypeError):
            pass
        table = cls.from_tokens(
            tokenizer.convert_ids_to_tokens(list(range(len(tokenizer)))),
            special_ids=set(tokenizer.all_special_ids),
        )
        with contextlib.suppress(TypeError):  # not weak-referenceable: computed again next time
            _CACHE[tokenizer] = table
        return table

    @classmethod
    def from_tokens(cls, tokens: list[str | None], special_ids: set[int]) -> VocabTable:
        """Build the table from the token strings in id order (``None`` for unused ids)."""
        if not tokens:
            raise ValueError("the vocabulary is empty")
        texts = ["" if t is None else t for t in tokens]
        if any(t.startswith(_START_MARKERS[0]) for t in texts):
            scheme, marker = "sentencepiece", _START_MARKERS[0]
        elif any(t.startswith(_START_MARKERS[1]) for t in texts):
            scheme, marker = "bytelevel", _START_MARKERS[1]
        elif any(t.startswith(_CONTINUATION_MARKER) for t in texts):
            scheme, marker = "wordpiece", _CONTINUATION_MARKER
        else:
            raise ValueError(
                "cannot find word boundaries in this vocabulary: no token starts with '▁', 'Ġ' or '##'"
            )
        classes = np.empty(len(texts), dtype=np.uint8)
        for token_id, text in enumerate(texts):
            if token_id in special_ids or tokens[token_id] is None:
                classes[token_id] = SPECIAL
                continue
            marked = text.startswith(marker)
            body = text[len(marker):] if marked else text
            if body and all(unicodedata.category(ch)[0] in "PS" for ch in body):
                classes[token_id] = PUNCTUATION
            elif scheme == "wordpiece":
                classes[token_id] = CONTINUATION if marked else WORD_START
            else:
                classes[token_id] = WORD_START if marked else CONTINUATION
        digest = hashlib.sha256()
        digest.update(scheme.encode())
        digest.update("\n".join(texts).encode("utf-8", "surrogatepass"))
        digest.update(repr(sorted(special_ids)).encode())
        return cls(token_class=classes, fingerprint=digest.hexdigest(), scheme=scheme)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def unit_start_mask(token_class: np.ndarray, ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Which tokens start a word unit, for a CSR batch (the engine's boundary rule).

    ``ids``: integer array ``(n_tokens,)``; ``offsets``: ``int64`` ``(batch + 1,)`` with
    non-empty rows. Returns a ``bool`` array ``(n_tokens,)``: a unit starts at a word-start,
    punctuation or special token, right after a punctuation or special token, and at the first
    token of every sequence.
    """
    classes = token_class[np.asarray(ids)]
    starts = classes != CONTINUATION
    starts[1:] |= (classes[:-1] == PUNCTUATION) | (classes[:-1] == SPECIAL)
    starts[np.asarray(offsets[:-1])] = True
    return starts
