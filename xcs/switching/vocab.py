"""Per-vocabulary token classes, token case bits and the vocabulary fingerprint.

The code-switching engine finds word boundaries from token IDs alone, through one table per
vocabulary computed once per tokenizer:

* SentencePiece (``▁word``) and byte-level BPE (``Ġword``): a token starting with the marker
  starts a word, any other token continues it.
* WordPiece (``##piece``): a token starting with ``##`` continues a word, any other starts one.
* A token whose text (marker removed) is only Unicode punctuation or symbols (categories P*, S*)
  is a unit of its own, and the token right after it starts a new unit — with one exception:
  an *attached apostrophe* (``'`` or ``’`` without a word-start marker, SentencePiece and
  byte-level only) between a word token and a continuation token joins the word unit, so
  "don't" (``▁don`` ``'`` ``t``), "I'm", "O'Neill" and "rock'n'roll" are one unit each.
  ("cats' toys": the apostrophe before ``▁toys`` stays its own unit.) WordPiece tokenizers split
  punctuation off without marking spaces, so there an apostrophe is always its own unit.
* Punctuation containing a sentence-final mark (``. ! ? … 。 ！ ？ ؟``) is of class
  ``SENTENCE_END`` (used by ``protect_names``; otherwise it is punctuation).
* Special tokens (``<s>``, ``</s>``, ``<pad>``, added special tokens) are never touched.

``token_case`` gives, per token, four bits over its cased letters (marker removed): whether the
first one is upper (``CASE_FIRST_UPPER``) or lower case (``CASE_FIRST_LOWER``), and whether a
later one is upper (``CASE_LATER_UPPER``) or lower case (``CASE_LATER_LOWER``); the engine folds
them over the tokens of a word unit to find its case pattern (Title, UPPER, lower). It reads both
tables as one byte per token, ``token_info`` (class in bits 0-2, case bits from bit
``CASE_SHIFT``), so that a word's case comes from the cache line its class was read from.

The fingerprint is a SHA-256 over the token strings and special ids; a lexicon compiled for one
vocabulary refuses to run with another.
"""

from __future__ import annotations

import contextlib
import functools
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
APOSTROPHE = 4  # an attached apostrophe: punctuation, but between letters it joins the word unit
SENTENCE_END = 5  # punctuation with a sentence-final mark
PUNCTUATION_CLASSES = (PUNCTUATION, APOSTROPHE, SENTENCE_END)

# Case bits (csrc/core/codeswitch.hpp, CaseBits), stored from bit CASE_SHIFT of token_info.
CASE_SHIFT = 3
CASE_FIRST_UPPER = 1
CASE_FIRST_LOWER = 2
CASE_LATER_UPPER = 4
CASE_LATER_LOWER = 8

_START_MARKERS = ("▁", "Ġ")  # SentencePiece, byte-level BPE
_CONTINUATION_MARKER = "##"  # WordPiece
_APOSTROPHES = frozenset({"'", "\u2019"})
_SENTENCE_MARKS = frozenset(".!?\u2026\u3002\uff01\uff1f\u061f")
# Character codes of the vectorised classification (one ASCII letter per character).
_CODE_UPPER, _CODE_LOWER, _CODE_PUNCT, _CODE_MARK, _CODE_APOSTROPHE, _CODE_OTHER = "ULPMAO"
_PUNCTUATION_CODES = np.frombuffer(b"PMA", dtype=np.uint8)


@dataclass(frozen=True, eq=False)
class VocabTable:
    """Token classes and case bits of one vocabulary.

    ``token_class``: ``np.ndarray`` of ``uint8``, shape ``(vocab_size,)``, values
    ``CONTINUATION | WORD_START | PUNCTUATION | SPECIAL | APOSTROPHE | SENTENCE_END``.
    ``token_case``: ``uint8`` ``(vocab_size,)``, ``CASE_*`` bits. ``fingerprint``: hex SHA-256 of
    the vocabulary; ``fingerprint64`` its first 64 bits, the form the C++ core compares.
    """

    token_class: np.ndarray
    fingerprint: str
    scheme: str  # "sentencepiece" | "bytelevel" | "wordpiece"
    token_case: np.ndarray

    @property
    def vocab_size(self) -> int:
        return int(self.token_class.shape[0])

    @property
    def fingerprint64(self) -> int:
        return int(self.fingerprint[:16], 16)

    @functools.cached_property
    def token_info(self) -> np.ndarray:
        """``uint8`` ``(vocab_size,)``: ``token_class | token_case << CASE_SHIFT``, the engine's table."""
        return (self.token_class | (self.token_case << CASE_SHIFT)).astype(np.uint8)

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
        scheme, marker = _scheme(texts)
        bodies = [t[len(marker):] if t.startswith(marker) else t for t in texts]
        codes, lengths = _character_codes(bodies)
        marked = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) != lengths
        punctuation = np.isin(codes, _PUNCTUATION_CODES)
        punct_only = (lengths > 0) & (_per_token_sum(~punctuation, lengths) == 0)
        has_mark = _per_token_sum(codes == ord(_CODE_MARK), lengths) > 0
        if scheme == "wordpiece":
            classes = np.where(marked, CONTINUATION, WORD_START).astype(np.uint8)
        else:
            classes = np.where(marked, WORD_START, CONTINUATION).astype(np.uint8)
        classes[punct_only] = PUNCTUATION
        classes[punct_only & has_mark] = SENTENCE_END
        if scheme != "wordpiece":  # WordPiece does not mark attachment: no attached apostrophes
            single = np.flatnonzero(lengths == 1)
            apostrophe = single[codes[np.cumsum(lengths)[single] - 1] == ord(_CODE_APOSTROPHE)]
            classes[apostrophe[~marked[apostrophe]]] = APOSTROPHE
        classes[[i for i in special_ids if 0 <= i < len(texts)]] = SPECIAL
        classes[[i for i, t in enumerate(tokens) if t is None]] = SPECIAL
        digest = hashlib.sha256()
        digest.update(scheme.encode())
        digest.update("\n".join(texts).encode("utf-8", "surrogatepass"))
        digest.update(repr(sorted(special_ids)).encode())
        return cls(token_class=classes, fingerprint=digest.hexdigest(), scheme=scheme,
                   token_case=_case_bits(codes, lengths))


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _scheme(texts: list[str]) -> tuple[str, str]:
    """The segmentation scheme of a vocabulary and its marker."""
    if any(t.startswith(_START_MARKERS[0]) for t in texts):
        return "sentencepiece", _START_MARKERS[0]
    if any(t.startswith(_START_MARKERS[1]) for t in texts):
        return "bytelevel", _START_MARKERS[1]
    if any(t.startswith(_CONTINUATION_MARKER) for t in texts):
        return "wordpiece", _CONTINUATION_MARKER
    raise ValueError("cannot find word boundaries in this vocabulary: no token starts with '▁', 'Ġ' or '##'")


def _character_codes(bodies: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """One code per character of every body, concatenated (``uint8``), and the body lengths."""
    points = np.frombuffer("".join(bodies).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    present = np.flatnonzero(np.bincount(points)) if points.size else np.zeros(0, dtype=np.int64)
    lookup = np.zeros(int(present[-1]) + 1 if present.size else 1, dtype=np.uint8)
    for point in present.tolist():
        lookup[point] = ord(_character_code(chr(point)))
    lengths = np.fromiter(map(len, bodies), dtype=np.int64, count=len(bodies))
    return lookup[points], lengths


def _character_code(ch: str) -> str:
    """The class of one character: upper / lower case letter, punctuation (sentence mark,
    apostrophe, other) or other."""
    category = unicodedata.category(ch)
    if category[0] in "PS":
        if ch in _SENTENCE_MARKS:
            return _CODE_MARK
        return _CODE_APOSTROPHE if ch in _APOSTROPHES else _CODE_PUNCT
    if ch.isupper() or category == "Lt":
        return _CODE_UPPER
    return _CODE_LOWER if ch.islower() else _CODE_OTHER


def _per_token_sum(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Sum of ``values`` (one per character) over each token's characters (0 for empty tokens)."""
    running = np.concatenate([[0], np.cumsum(values, dtype=np.int64)])
    ends = np.cumsum(lengths)
    return running[ends] - running[ends - lengths]


def _case_bits(codes: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``CASE_*`` bits of every token from its character codes."""
    cased = (codes == ord(_CODE_UPPER)) | (codes == ord(_CODE_LOWER))
    upper = codes == ord(_CODE_UPPER)
    token_of = np.repeat(np.arange(lengths.shape[0]), lengths)
    n_cased = _per_token_sum(cased, lengths)
    n_upper = _per_token_sum(upper, lengths)
    first_upper = np.zeros(lengths.shape[0], dtype=bool)
    positions = np.flatnonzero(cased)
    if positions.size:
        owners = token_of[positions]
        first = np.r_[True, owners[1:] != owners[:-1]]  # the first cased letter of each token
        first_upper[owners[first]] = upper[positions[first]]
    has_cased = n_cased > 0
    later_upper = n_upper - first_upper > 0
    later_lower = (n_cased - n_upper) - (has_cased & ~first_upper) > 0
    bits = (np.where(has_cased & first_upper, CASE_FIRST_UPPER, 0)
            | np.where(has_cased & ~first_upper, CASE_FIRST_LOWER, 0)
            | np.where(later_upper, CASE_LATER_UPPER, 0)
            | np.where(later_lower, CASE_LATER_LOWER, 0))
    return bits.astype(np.uint8)


def unit_start_mask(token_class: np.ndarray, ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Which tokens start a word unit, for a CSR batch (the engine's boundary rule).

    ``ids``: integer array ``(n_tokens,)``; ``offsets``: ``int64`` ``(batch + 1,)`` with
    non-empty rows. Returns a ``bool`` array ``(n_tokens,)``: a unit starts at a word-start,
    punctuation or special token, right after a punctuation or special token, and at the first
    token of every sequence — except that an attached apostrophe between a word token and a
    continuation token (in one sequence) joins the word unit, and so does the token after it.
    """
    classes = token_class[np.asarray(ids)]
    row_start = np.zeros(classes.shape[0], dtype=bool)
    row_start[np.asarray(offsets[:-1])] = True
    row_end = np.zeros(classes.shape[0], dtype=bool)
    row_end[np.asarray(offsets[1:]) - 1] = True
    joined = np.zeros(classes.shape[0], dtype=bool)
    joined[1:-1] = ((classes[1:-1] == APOSTROPHE) & (classes[:-2] <= WORD_START)
                    & (classes[2:] == CONTINUATION) & ~row_start[1:-1] & ~row_end[1:-1])
    starts = (classes != CONTINUATION) & ~joined
    starts[1:] |= (classes[:-1] >= PUNCTUATION) & ~joined[:-1]
    starts |= row_start
    return starts
