"""A lexicon compiled for one tokenizer: flat CSR token-ID arrays, owned by the C++ core.

Compilation tokenizes every source entry and every translation once. Lookup is on token-ID
spans, so case is handled at compile time: each source entry is keyed as written, lowercased,
capitalised and, for phrases, title-cased ("paris", "Paris"; "USA", "usa", "Usa"; "new york city",
"New york city", "New York City"); an entry written exactly so wins over another entry's variant.
Other spellings ("pARIS") are not found. Translations are used as written.

Arrays (``int64`` offsets, ``int32`` tokens/indices):

* key ``k``: tokens ``key_tokens[key_offsets[k]:key_offsets[k+1]]`` spanning ``key_units[k]``
  word units, translating to entry ``key_entry[k]``;
* entry ``e``: candidates ``entry_offsets[e] .. entry_offsets[e+1] - 1``;
* candidate ``c``: tokens ``cand_tokens[cand_offsets[c]:cand_offsets[c+1]]``.

With the native extension the arrays live in a ``xcs._native.CompiledLexicon`` (numpy views);
without it, in numpy. Pickling ships the arrays (DataLoader workers rebuild the native object).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from xcs.ragged import offsets_valid, row_offsets
from xcs.switching.native import native_module
from xcs.switching.vocab import PUNCTUATION, SPECIAL, VocabTable, unit_start_mask

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from xcs.lexicons.lexicon import Lexicon

ARRAY_DTYPES: dict[str, type] = {
    "key_offsets": np.int64,
    "key_tokens": np.int32,
    "key_units": np.int32,
    "key_entry": np.int32,
    "entry_offsets": np.int64,
    "cand_offsets": np.int64,
    "cand_tokens": np.int32,
}


class TokenizerMismatchError(ValueError):
    """A compiled lexicon is used with a tokenizer whose vocabulary differs from its own."""


class CompiledLexicon:
    """Token-ID form of a :class:`~xcs.lexicons.lexicon.Lexicon` for one vocabulary (see module doc)."""

    def __init__(self, arrays: dict[str, np.ndarray], *, src_lang: str, tgt_lang: str,
                 vocab_size: int, fingerprint: str):
        missing = set(ARRAY_DTYPES) - set(arrays)
        if missing:
            raise ValueError(f"CompiledLexicon: missing arrays {sorted(missing)}")
        self.src_lang = src_lang
        self.tgt_lang = tgt_lang
        self.vocab_size = int(vocab_size)
        self.fingerprint = fingerprint
        native = native_module()
        checked = {name: np.ascontiguousarray(arrays[name], dtype=dt) for name, dt in ARRAY_DTYPES.items()}
        if native is not None:
            # The C++ object validates every array and owns the data; keep numpy views of it.
            self.native = native.CompiledLexicon(**checked, vocab_size=self.vocab_size,
                                                 fingerprint=int(fingerprint[:16], 16))
            self.arrays = self.native.arrays()
        else:
            self.native = None
            self.arrays = checked
            _validate_arrays(checked, self.vocab_size)
        units = self.arrays["key_units"]
        self.max_units = int(units.max()) if units.size else 0

    # ------------------------------------------------------------------ compilation
    @classmethod
    def compile(cls, lexicon: Lexicon, tokenizer: PreTrainedTokenizerBase) -> CompiledLexicon:
        """Tokenize every key variant and translation once (see the module doc for case handling)."""
        table = VocabTable.for_tokenizer(tokenizer)
        sources = list(lexicon.entries)
        # Key strings in priority order: as written, lowercased, capitalised, title-cased.
        key_strings: list[str] = []
        key_entry_of_string: list[int] = []
        for variant in (str, str.lower, _capitalise, _title):
            for entry, source in enumerate(sources):
                key_strings.append(variant(source))
                key_entry_of_string.append(entry)
        unique_keys = list(dict.fromkeys(key_strings))
        key_ids = dict(zip(unique_keys, _tokenize(tokenizer, unique_keys), strict=True))

        translations = [t for source in sources for t in lexicon.entries[source]]
        unique_translations = list(dict.fromkeys(translations))
        translation_ids = dict(
            zip(unique_translations, _tokenize(tokenizer, unique_translations), strict=True)
        )

        # Candidates: drop empty tokenizations and those containing special tokens (e.g. <unk>).
        entry_offsets = [0]
        cand_lists: list[list[int]] = []
        entry_remap = np.full(len(sources), -1, dtype=np.int64)
        for entry, source in enumerate(sources):
            cands = [translation_ids[t] for t in lexicon.entries[source]]
            cands = [c for c in cands if c and not (table.token_class[c] == SPECIAL).any()]
            if not cands:
                continue
            entry_remap[entry] = len(entry_offsets) - 1
            cand_lists.extend(cands)
            entry_offsets.append(len(cand_lists))

        # Keys: units by the engine's rule; a key must start with a word token, contain no
        # special token, and point at an entry that kept candidates. First occurrence wins.
        seen: dict[tuple[int, ...], None] = {}
        key_lists: list[list[int]] = []
        key_entry: list[int] = []
        for string, entry in zip(key_strings, key_entry_of_string, strict=True):
            ids = key_ids[string]
            target = entry_remap[entry]
            if not ids or target < 0:
                continue
            signature = tuple(ids)
            if signature in seen:
                continue
            seen[signature] = None
            key_lists.append(ids)
            key_entry.append(int(target))
        key_offsets = row_offsets([len(r) for r in key_lists])
        key_tokens = _flatten(key_lists)
        classes = table.token_class[key_tokens]
        starts = unit_start_mask(table.token_class, key_tokens, key_offsets)
        if key_lists:
            units = np.add.reduceat(starts.astype(np.int32), key_offsets[:-1])
            has_special = np.add.reduceat((classes == SPECIAL).astype(np.int32), key_offsets[:-1]) > 0
            starts_with_punct = classes[key_offsets[:-1]] == PUNCTUATION
            keep = ~has_special & ~starts_with_punct
        else:
            units = np.zeros(0, dtype=np.int32)
            keep = np.zeros(0, dtype=bool)
        key_lists = [k for k, ok in zip(key_lists, keep, strict=True) if ok]
        arrays = {
            "key_offsets": row_offsets([len(r) for r in key_lists]),
            "key_tokens": _flatten(key_lists),
            "key_units": units[keep],
            "key_entry": np.asarray(key_entry, dtype=np.int32)[keep],
            "entry_offsets": np.asarray(entry_offsets, dtype=np.int64),
            "cand_offsets": row_offsets([len(r) for r in cand_lists]),
            "cand_tokens": _flatten(cand_lists),
        }
        return cls(arrays, src_lang=lexicon.src_lang, tgt_lang=lexicon.tgt_lang,
                   vocab_size=table.vocab_size, fingerprint=table.fingerprint)

    # ------------------------------------------------------------------ checks / views
    def check_tokenizer(self, table: VocabTable) -> None:
        """Raise :class:`TokenizerMismatchError` unless compiled for the vocabulary of ``table``."""
        if table.fingerprint != self.fingerprint or table.vocab_size != self.vocab_size:
            raise TokenizerMismatchError(
                f"lexicon {self.src_lang}-{self.tgt_lang} was compiled for another tokenizer "
                f"(vocabulary {self.fingerprint[:12]}, size {self.vocab_size}; this tokenizer: "
                f"{table.fingerprint[:12]}, size {table.vocab_size}); compile it again"
            )

    @property
    def num_keys(self) -> int:
        return int(self.arrays["key_units"].shape[0])

    @property
    def num_entries(self) -> int:
        return int(self.arrays["entry_offsets"].shape[0]) - 1

    def __len__(self) -> int:
        return self.num_entries

    def __repr__(self) -> str:
        return (f"CompiledLexicon({self.src_lang}-{self.tgt_lang}, keys={self.num_keys}, "
                f"entries={self.num_entries}, max_units={self.max_units}, "
                f"native={self.native is not None})")

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        return {
            "arrays": {name: np.array(a) for name, a in self.arrays.items()},
            "src_lang": self.src_lang,
            "tgt_lang": self.tgt_lang,
            "vocab_size": self.vocab_size,
            "fingerprint": self.fingerprint,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["arrays"], src_lang=state["src_lang"], tgt_lang=state["tgt_lang"],
                      vocab_size=state["vocab_size"], fingerprint=state["fingerprint"])


def _capitalise(text: str) -> str:
    lower = text.lower()
    return lower[:1].upper() + lower[1:]


def _title(text: str) -> str:
    return " ".join(_capitalise(word) for word in text.split(" "))


def _tokenize(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> list[list[int]]:
    """Token ids of each text without special tokens (the fast backend directly when present)."""
    if not texts:
        return []
    backend = getattr(tokenizer, "backend_tokenizer", None)
    # A backend may keep padding/truncation state from an earlier call: then go through HF.
    if backend is None or backend.padding is not None or backend.truncation is not None:
        return tokenizer(texts, add_special_tokens=False)["input_ids"]
    encode = getattr(backend, "encode_batch_fast", backend.encode_batch)  # _fast skips offsets
    return [encoding.ids for encoding in encode(texts, add_special_tokens=False)]


def _flatten(rows: list[list[int]]) -> np.ndarray:
    total = sum(len(r) for r in rows)
    return np.fromiter((t for r in rows for t in r), dtype=np.int32, count=total)


def _validate_arrays(arrays: dict[str, np.ndarray], vocab_size: int) -> None:
    """The checks the C++ constructor makes, for the pure-numpy (Numba) backend."""
    n_keys = arrays["key_units"].size
    n_entries = arrays["entry_offsets"].size - 1
    n_cands = arrays["cand_offsets"].size - 1
    problems = []
    key_offsets, key_entry = arrays["key_offsets"], arrays["key_entry"]
    if key_offsets.size != n_keys + 1 or not offsets_valid(key_offsets, arrays["key_tokens"].size):
        problems.append("key_offsets")
    if key_entry.size != n_keys or ((key_entry < 0) | (key_entry >= n_entries)).any():
        problems.append("key_entry")
    if not offsets_valid(arrays["entry_offsets"], n_cands):
        problems.append("entry_offsets")
    if not offsets_valid(arrays["cand_offsets"], arrays["cand_tokens"].size):
        problems.append("cand_offsets")
    for name in ("key_tokens", "cand_tokens"):
        if arrays[name].size and (arrays[name].min() < 0 or arrays[name].max() >= vocab_size):
            problems.append(f"{name} (ids outside [0, {vocab_size}))")
    if n_keys and not problems:
        lengths = np.diff(arrays["key_offsets"])
        if ((arrays["key_units"] < 1) | (arrays["key_units"] > lengths)).any():
            problems.append("key_units")
    if problems:
        raise ValueError(f"CompiledLexicon: invalid arrays: {', '.join(problems)}")
