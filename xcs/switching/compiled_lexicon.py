"""A lexicon compiled for one tokenizer: flat CSR token-ID arrays, owned by the C++ core.

Compilation tokenizes every source entry and every translation once. Lookup is on token-ID
spans, so case is handled at compile time: each source entry is keyed as written, lowercased,
capitalised, for phrases title-cased and (with ``case_variants``) upper-cased when it has at least
:data:`UPPER_KEY_MIN_LETTERS` letters ("paris", "Paris", "PARIS"; "USA", "usa", "Usa"; "new york
city", "New york city", "New York City", "NEW YORK CITY"); an entry written exactly so wins over
another entry's variant. Shorter words are not upper-cased: "US", "IT", "WHO" are acronyms far more
often than shouted "us", "it", "who". Other spellings ("pARIS") are not found.

With ``case_variants`` (the default) every translation is also tokenized in three case variants,
so that the engine can give it the case pattern of the switched words (``CodeSwitcher(...,
keep_case=True)``): as written (0), capitalised — first letter upper case (1), every word
capitalised (2), upper case (3) (``CASE_VARIANTS``, csrc/core/codeswitch.hpp ``CaseVariant``). A
variant whose tokenization is empty or holds a special token falls back to the written form; a
lexicon none of whose translations changes under case (Arabic, Chinese) keeps one row per candidate.

Arrays (``int64`` offsets, ``int32`` tokens/indices):

* key ``k``: tokens ``key_tokens[key_offsets[k]:key_offsets[k+1]]`` spanning ``key_units[k]``
  word units, translating to entry ``key_entry[k]``;
* entry ``e``: candidates ``entry_offsets[e] .. entry_offsets[e+1] - 1``;
* candidate ``c``: ``case_variants`` (1 or 4) rows ``r = c * case_variants + variant``, row ``r``
  the tokens ``cand_tokens[cand_offsets[r]:cand_offsets[r+1]]``.

With the native extension the arrays live in a ``xcs._native.CompiledLexicon`` (numpy views);
without it, in numpy. Pickling ships the arrays (DataLoader workers rebuild the native object).
:meth:`CompiledLexicon.compile` keeps its result in an on-disk cache (:mod:`xcs.switching.compile_cache`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from xcs.ragged import offsets_valid, row_offsets
from xcs.switching import compile_cache
from xcs.switching.native import native_module
from xcs.switching.vocab import PUNCTUATION_CLASSES, SPECIAL, VocabTable, unit_start_mask

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
CASE_VARIANTS = 4  # rows per candidate of a lexicon compiled with case variants
UPPER_KEY_MIN_LETTERS = 4  # a source is also keyed upper-cased when it has at least this many letters


class TokenizerMismatchError(ValueError):
    """A compiled lexicon is used with a tokenizer whose vocabulary differs from its own."""


class CompiledLexicon:
    """Token-ID form of a :class:`~xcs.lexicons.lexicon.Lexicon` for one vocabulary (see module doc)."""

    def __init__(self, arrays: dict[str, np.ndarray], *, src_lang: str, tgt_lang: str,
                 vocab_size: int, fingerprint: str, case_variants: int = 1):
        missing = set(ARRAY_DTYPES) - set(arrays)
        if missing:
            raise ValueError(f"CompiledLexicon: missing arrays {sorted(missing)}")
        self.src_lang = src_lang
        self.tgt_lang = tgt_lang
        self.vocab_size = int(vocab_size)
        self.fingerprint = fingerprint
        self.case_variants = int(case_variants)
        native = native_module()
        checked = {name: np.ascontiguousarray(arrays[name], dtype=dt) for name, dt in ARRAY_DTYPES.items()}
        if native is not None:
            # The C++ object validates every array and owns the data; keep numpy views of it.
            self.native = native.CompiledLexicon(**checked, vocab_size=self.vocab_size,
                                                 fingerprint=int(fingerprint[:16], 16),
                                                 case_variants=self.case_variants)
            self.arrays = self.native.arrays()
        else:
            self.native = None
            self.arrays = checked
            _validate_arrays(checked, self.vocab_size, self.case_variants)
        units = self.arrays["key_units"]
        self.max_units = int(units.max()) if units.size else 0

    # ------------------------------------------------------------------ compilation
    @classmethod
    def compile(cls, lexicon: Lexicon, tokenizer: PreTrainedTokenizerBase, *, case_variants: bool = True,
                cache: bool | str | os.PathLike[str] = True) -> CompiledLexicon:
        """Tokenize every key variant and translation once (see the module doc for case handling).

        ``case_variants``: also key sources upper-cased and tokenize the case variants of the
        translations (what ``keep_case`` needs). ``cache``: True (default) keeps the result in
        :func:`compile_cache.default_directory <xcs.switching.compile_cache.default_directory>`
        (``$XCS_CACHE_DIR/lexicons``), a path keeps it there, False compiles without a cache.
        """
        if not isinstance(case_variants, (bool, np.bool_)):
            raise TypeError(f"case_variants must be True or False, got {case_variants!r}")
        directory = compile_cache.resolve_directory(cache)
        if directory is None:
            return cls._build(lexicon, tokenizer, VocabTable.for_tokenizer(tokenizer), bool(case_variants))
        key = compile_cache.cache_key(lexicon, tokenizer, {"case_variants": bool(case_variants)})
        path = compile_cache.cache_file(directory, lexicon, key)
        compiled = cls._from_cache(path, key, lexicon)
        if compiled is None:
            table = VocabTable.for_tokenizer(tokenizer)
            compiled = cls._build(lexicon, tokenizer, table, bool(case_variants))
            compile_cache.write(path, compiled.__getstate__()["arrays"], {
                "key": key, "case_variants": compiled.case_variants, "vocab_size": compiled.vocab_size,
                "fingerprint": compiled.fingerprint})
        return compiled

    @classmethod
    def _from_cache(cls, path: os.PathLike[str], key: str, lexicon: Lexicon) -> CompiledLexicon | None:
        """The lexicon cached at ``path`` under ``key``, or None (a bad file warns, see compile_cache)."""
        cached = compile_cache.read(path, key)
        if cached is None:
            return None
        arrays, meta = cached
        try:
            return cls(arrays, src_lang=lexicon.src_lang, tgt_lang=lexicon.tgt_lang,
                       vocab_size=int(meta["vocab_size"]), fingerprint=str(meta["fingerprint"]),
                       case_variants=int(meta["case_variants"]))
        except (ValueError, TypeError, KeyError) as exc:  # arrays or metadata that fail validation
            compile_cache.warn_ignored(path, exc)
            return None

    @classmethod
    def _build(cls, lexicon: Lexicon, tokenizer: PreTrainedTokenizerBase, table: VocabTable,
               case_variants: bool) -> CompiledLexicon:
        """Compile without the cache."""
        sources = list(lexicon.entries)
        entry_offsets, cand_rows, entry_remap, variants = _candidate_rows(
            lexicon, sources, tokenizer, table, case_variants)
        arrays = _key_arrays(sources, tokenizer, table, entry_remap, case_variants)
        arrays.update(
            entry_offsets=np.asarray(entry_offsets, dtype=np.int64),
            cand_offsets=row_offsets([len(r) for r in cand_rows]),
            cand_tokens=_flatten(cand_rows),
        )
        return cls(arrays, src_lang=lexicon.src_lang, tgt_lang=lexicon.tgt_lang,
                   vocab_size=table.vocab_size, fingerprint=table.fingerprint, case_variants=variants)

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
                f"case_variants={self.case_variants}, native={self.native is not None})")

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        return {
            "arrays": {name: np.array(a) for name, a in self.arrays.items()},
            "src_lang": self.src_lang,
            "tgt_lang": self.tgt_lang,
            "vocab_size": self.vocab_size,
            "fingerprint": self.fingerprint,
            "case_variants": self.case_variants,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["arrays"], src_lang=state["src_lang"], tgt_lang=state["tgt_lang"],
                      vocab_size=state["vocab_size"], fingerprint=state["fingerprint"],
                      case_variants=state.get("case_variants", 1))


def stopword_set(words: Iterable[str], tokenizer: PreTrainedTokenizerBase, src_lang: str) -> CompiledLexicon:
    """A set of stopwords in the engine's form: a compiled lexicon whose keys are the words in the
    variants of lexicon keys (the engine only asks whether a word unit is one of them; each
    word's "translation" is itself and is never used)."""
    from xcs.lexicons.lexicon import Lexicon

    lexicon = Lexicon.from_pairs(((w, w) for w in words), src_lang, src_lang)
    return CompiledLexicon.compile(lexicon, tokenizer, cache=False)


def _capitalise(text: str) -> str:
    lower = text.lower()
    return lower[:1].upper() + lower[1:]


def _title(text: str) -> str:
    return " ".join(_capitalise(word) for word in text.split(" "))


def _upper_first(text: str) -> str:
    """``text`` with its first cased letter upper-cased, the rest as written."""
    for i, ch in enumerate(text):
        if ch.isupper() or ch.islower():
            return text[:i] + ch.upper() + text[i + 1:]
    return text


def _upper_words(text: str) -> str:
    """Every space-separated word of ``text`` through :func:`_upper_first`."""
    return " ".join(_upper_first(word) for word in text.split(" "))


# Translation variants in row order (CASE_VARIANTS rows per candidate; row 0 as written).
_TRANSLATION_VARIANTS: tuple[Callable[[str], str], ...] = (_upper_first, _upper_words, str.upper)


def _letters(text: str) -> int:
    return sum(ch.isupper() or ch.islower() for ch in text)


def _candidate_rows(
    lexicon: Lexicon, sources: list[str], tokenizer: PreTrainedTokenizerBase, table: VocabTable,
    case_variants: bool,
) -> tuple[list[int], list[list[int]], np.ndarray, int]:
    """``(entry_offsets, candidate rows, entry_remap, rows per candidate)``: the translations of
    every entry that keeps one (``entry_remap[e]``: its new index, -1 when dropped). A translation
    whose written form tokenizes to nothing or holds a special token (e.g. <unk>) is dropped."""
    translations = list(dict.fromkeys(t for source in sources for t in lexicon.entries[source]))
    strings = list(translations)
    if case_variants:
        strings += [variant(t) for variant in _TRANSLATION_VARIANTS for t in translations]
    ids = _tokenize_unique(tokenizer, strings)
    special = set(np.flatnonzero(table.token_class == SPECIAL).tolist())
    valid = {s: bool(t) and special.isdisjoint(t) for s, t in ids.items()}
    entry_offsets = [0]
    rows: list[list[int]] = []
    entry_remap = np.full(len(sources), -1, dtype=np.int64)
    for entry, source in enumerate(sources):
        kept = [t for t in lexicon.entries[source] if valid[t]]
        if not kept:
            continue
        entry_remap[entry] = len(entry_offsets) - 1
        for t in kept:
            rows.append(ids[t])
            if case_variants:
                rows.extend(ids[v] if valid[v] else ids[t] for v in (f(t) for f in _TRANSLATION_VARIANTS))
        entry_offsets.append(entry_offsets[-1] + len(kept))
    variants = CASE_VARIANTS if case_variants else 1
    if variants > 1 and all(r == rows[i - i % variants] for i, r in enumerate(rows)):
        variants, rows = 1, rows[::variants]  # no translation changes under case: one row each
    return entry_offsets, rows, entry_remap, variants


def _key_arrays(sources: list[str], tokenizer: PreTrainedTokenizerBase, table: VocabTable,
                entry_remap: np.ndarray, case_variants: bool) -> dict[str, np.ndarray]:
    """The key arrays: every source in its case variants (priority order: as written, lowercased,
    capitalised, title-cased, upper-cased), first occurrence of a token sequence winning. A key
    must start with a word token, hold no special token and point at an entry that kept candidates;
    its units follow the engine's rule."""
    key_strings: list[str] = []
    key_entry_of_string: list[int] = []
    for variant in (str, str.lower, _capitalise, _title, str.upper):
        upper = variant is str.upper
        if upper and not case_variants:
            continue
        for entry, source in enumerate(sources):
            if entry_remap[entry] >= 0 and (not upper or _letters(source) >= UPPER_KEY_MIN_LETTERS):
                key_strings.append(variant(source))
                key_entry_of_string.append(entry)
    key_ids = _tokenize_unique(tokenizer, key_strings)
    seen: set[tuple[int, ...]] = set()
    key_lists: list[list[int]] = []
    key_entry: list[int] = []
    for string, entry in zip(key_strings, key_entry_of_string, strict=True):
        ids = key_ids[string]
        signature = tuple(ids)
        if not ids or signature in seen:
            continue
        seen.add(signature)
        key_lists.append(ids)
        key_entry.append(int(entry_remap[entry]))
    key_offsets = row_offsets([len(r) for r in key_lists])
    key_tokens = _flatten(key_lists)
    classes = table.token_class[key_tokens]
    if key_lists:
        units = np.add.reduceat(unit_start_mask(table.token_class, key_tokens, key_offsets).astype(np.int32),
                                key_offsets[:-1])
        has_special = np.add.reduceat((classes == SPECIAL).astype(np.int32), key_offsets[:-1]) > 0
        keep = ~has_special & ~np.isin(classes[key_offsets[:-1]], PUNCTUATION_CLASSES)
    else:
        units = np.zeros(0, dtype=np.int32)
        keep = np.zeros(0, dtype=bool)
    key_lists = [k for k, ok in zip(key_lists, keep, strict=True) if ok]
    return {
        "key_offsets": row_offsets([len(r) for r in key_lists]),
        "key_tokens": _flatten(key_lists),
        "key_units": units[keep],
        "key_entry": np.asarray(key_entry, dtype=np.int32)[keep],
    }


def _tokenize_unique(tokenizer: PreTrainedTokenizerBase, texts: list[str]) -> dict[str, list[int]]:
    """Token ids of each distinct text (one batch call)."""
    unique = list(dict.fromkeys(texts))
    return dict(zip(unique, _tokenize(tokenizer, unique), strict=True))


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


def _validate_arrays(arrays: dict[str, np.ndarray], vocab_size: int, case_variants: int) -> None:
    """The checks the C++ constructor makes, for the pure-numpy (Numba) backend."""
    if case_variants not in (1, CASE_VARIANTS):
        raise ValueError(f"CompiledLexicon: case_variants must be 1 or {CASE_VARIANTS}, got {case_variants}")
    n_keys = arrays["key_units"].size
    n_rows = arrays["cand_offsets"].size - 1
    problems = []
    key_offsets, key_entry = arrays["key_offsets"], arrays["key_entry"]
    n_entries = arrays["entry_offsets"].size - 1
    if key_offsets.size != n_keys + 1 or not offsets_valid(key_offsets, arrays["key_tokens"].size):
        problems.append("key_offsets")
    if key_entry.size != n_keys or ((key_entry < 0) | (key_entry >= n_entries)).any():
        problems.append("key_entry")
    if n_rows % case_variants:
        problems.append(f"cand_offsets ({n_rows} rows, not a multiple of case_variants = {case_variants})")
    elif not offsets_valid(arrays["entry_offsets"], n_rows // case_variants):
        problems.append("entry_offsets")
    if not offsets_valid(arrays["cand_offsets"], arrays["cand_tokens"].size):
        problems.append("cand_offsets")
    for name in ("key_tokens", "cand_tokens"):
        if arrays[name].size and (arrays[name].min() < 0 or arrays[name].max() >= vocab_size):
            problems.append(f"{name} (ids outside the vocabulary [0, {vocab_size}))")
    if n_keys and not problems:
        lengths = np.diff(arrays["key_offsets"])
        if ((arrays["key_units"] < 1) | (arrays["key_units"] > lengths)).any():
            problems.append("key_units")
    if problems:
        raise ValueError(f"CompiledLexicon: invalid arrays: {', '.join(problems)}")
