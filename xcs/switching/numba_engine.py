"""Numba implementation of the code-switching engine: portable fallback and differential oracle.

The same algorithm as ``csrc/core/codeswitch.cpp`` with the same uint64 arithmetic (every
constant and operand is ``np.uint64``; mixing in a signed integer would make Numba use floats),
so both backends give identical outputs for the same seed. It runs serially.

Several lexicons are packed into one set of arrays (:class:`PackedLexicons`) because Numba
functions take a fixed number of arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from xcs.switching import rng, vocab
from xcs.switching.compiled_lexicon import CompiledLexicon
from xcs.switching.rng import probability_threshold

_U = np.uint64
_GOLDEN = _U(rng.GOLDEN)
_GOLDEN2 = _U(rng.GOLDEN2)
_M1 = _U(rng.MIX_MULTIPLIER_1)
_M2 = _U(rng.MIX_MULTIPLIER_2)
_STREAM_COIN, _STREAM_LANGUAGE, _STREAM_CANDIDATE = rng.STREAM_COIN, rng.STREAM_LANGUAGE, rng.STREAM_CANDIDATE
_FNV_OFFSET = _U(0xCBF29CE484222325)
_FNV_PRIME = _U(0x100000001B3)
_MASK32 = _U(0xFFFFFFFF)

_CONTINUATION, _WORD_START, _SPECIAL = vocab.CONTINUATION, vocab.WORD_START, vocab.SPECIAL
_APOSTROPHE, _SENTENCE_END, _PUNCTUATION = vocab.APOSTROPHE, vocab.SENTENCE_END, vocab.PUNCTUATION
_FIRST_UPPER, _FIRST_LOWER = vocab.CASE_FIRST_UPPER, vocab.CASE_FIRST_LOWER
_LATER_UPPER, _LATER_LOWER = vocab.CASE_LATER_UPPER, vocab.CASE_LATER_LOWER
# unit classes of the walk (csrc/core/codeswitch.cpp): word, punctuation, special, sentence end
_UNIT_WORD, _UNIT_PUNCT, _UNIT_SPECIAL, _UNIT_SENTENCE_END = 0, 1, 2, 3
_CLASS_MASK = 7  # token_info bits of the token class (csrc kClassMask)
# unit case patterns (csrc/core/codeswitch.cpp UnitCase) and translation variants (CaseVariant)
_NO_CASE, _LOWER, _CAPITAL, _UPPER, _LETTER = 0, 1, 2, 3, 4
_AS_WRITTEN, _CAPITALISED, _TITLED, _UPPERCASED = 0, 1, 2, 3


@numba.njit(cache=True, inline="always")
def _mix64(z):
    z = z ^ (z >> _U(30))
    z = z * _M1
    z = z ^ (z >> _U(27))
    z = z * _M2
    return z ^ (z >> _U(31))


@numba.njit(cache=True, inline="always")
def _draw(key, unit, stream):
    return _mix64(key + (_U(unit) * _U(4) + _U(stream) + _U(1)) * _GOLDEN)


@numba.njit(cache=True)
def _span_hash(tokens, begin, end, units):
    h = _FNV_OFFSET
    for i in range(begin, end):
        h = (h ^ (_U(tokens[i]) & _MASK32)) * _FNV_PRIME
    return _mix64(h + _U(units))


@numba.njit(cache=True)
def _build_table(key_offsets, key_tokens, key_units):
    """Open-addressing table (slot -> key or -1) and key hashes; returns -1-k on a duplicate key k."""
    n_keys = key_units.shape[0]
    size = 16
    while size < 2 * n_keys:
        size *= 2
    table = np.full(size, -1, dtype=np.int32)
    hashes = np.empty(n_keys, dtype=np.uint64)
    mask = _U(size - 1)
    for k in range(n_keys):
        h = _span_hash(key_tokens, key_offsets[k], key_offsets[k + 1], key_units[k])
        hashes[k] = h
        slot = h & mask
        while table[slot] >= 0:
            other = table[slot]
            if (hashes[other] == h and key_units[other] == key_units[k]
                    and key_offsets[other + 1] - key_offsets[other] == key_offsets[k + 1] - key_offsets[k]):
                same = True
                for i in range(key_offsets[k + 1] - key_offsets[k]):
                    if key_tokens[key_offsets[other] + i] != key_tokens[key_offsets[k] + i]:
                        same = False
                        break
                if same:
                    return table, hashes, -1 - k
            slot = (slot + _U(1)) & mask
        table[slot] = k
    return table, hashes, 0


class PackedArrays(NamedTuple):
    """The arrays of :class:`PackedLexicons`, as one argument of the Numba functions."""

    key_offsets: np.ndarray  # int64, global positions into key_tokens
    key_tokens: np.ndarray  # int32
    key_units: np.ndarray  # int32
    key_entry: np.ndarray  # int32, global entry ids
    key_hash: np.ndarray  # uint64
    entry_first: np.ndarray  # int64, global candidate row of each entry's first candidate
    entry_count: np.ndarray  # int64, candidates of each entry
    variants: np.ndarray  # int64 (n_lang,), candidate rows per candidate (1 or 4)
    cand_offsets: np.ndarray  # int64, global positions into cand_tokens, one per row (+ end)
    cand_tokens: np.ndarray  # int32
    table: np.ndarray  # int32, global key ids; language l uses table[table_base[l]:][:table_size[l]]
    table_base: np.ndarray  # int64 (n_lang,)
    table_size: np.ndarray  # int64 (n_lang,)
    unit_lengths: np.ndarray  # int32 (n_lang, max_lengths), distinct key lengths desc, 0-padded


@dataclass
class PackedLexicons:
    """All lexicons of a switcher in one set of arrays, with ids shifted to be global; the stopword
    set, when given, is packed last, as language ``stopword_language``."""

    arrays: PackedArrays
    stopword_language: int  # -1: no stopword set

    @classmethod
    def pack(cls, lexicons: Sequence[CompiledLexicon],
             stopwords: CompiledLexicon | None = None) -> PackedLexicons:
        parts: dict[str, list] = {name: [] for name in PackedArrays._fields if name != "unit_lengths"}
        n_keys = n_key_tokens = n_entries = n_rows = n_cand_tokens = n_table = 0
        lengths = []
        for lex in [*lexicons, *([stopwords] if stopwords is not None else [])]:
            a = lex.arrays
            table, key_hash, duplicate = _build_table(a["key_offsets"], a["key_tokens"], a["key_units"])
            if duplicate:
                raise ValueError(f"CompiledLexicon {lex.src_lang}-{lex.tgt_lang}: key {-1 - duplicate} "
                                 "is a duplicate")
            entry_offsets = a["entry_offsets"]
            parts["key_offsets"].append(a["key_offsets"][:-1] + n_key_tokens)
            parts["key_tokens"].append(a["key_tokens"])
            parts["key_units"].append(a["key_units"])
            parts["key_entry"].append(a["key_entry"].astype(np.int64) + n_entries)
            parts["key_hash"].append(key_hash)
            parts["entry_first"].append(entry_offsets[:-1] * lex.case_variants + n_rows)
            parts["entry_count"].append(np.diff(entry_offsets))
            parts["variants"].append([lex.case_variants])
            parts["cand_offsets"].append(a["cand_offsets"][:-1] + n_cand_tokens)
            parts["cand_tokens"].append(a["cand_tokens"])
            parts["table"].append(np.where(table >= 0, table.astype(np.int64) + n_keys, -1))
            parts["table_base"].append([n_table])
            parts["table_size"].append([table.shape[0]])
            lengths.append(sorted(set(a["key_units"].tolist()), reverse=True))
            n_keys += a["key_units"].shape[0]
            n_key_tokens += a["key_tokens"].shape[0]
            n_entries += entry_offsets.shape[0] - 1
            n_rows += a["cand_offsets"].shape[0] - 1
            n_cand_tokens += a["cand_tokens"].shape[0]
            n_table += table.shape[0]
        parts["key_offsets"].append([n_key_tokens])
        parts["cand_offsets"].append([n_cand_tokens])
        width = max((len(x) for x in lengths), default=0) or 1
        unit_lengths = np.zeros((len(lengths), width), dtype=np.int32)
        for lang, values in enumerate(lengths):
            unit_lengths[lang, : len(values)] = values
        dtypes = {"key_tokens": np.int32, "key_units": np.int32, "key_entry": np.int32, "key_hash": np.uint64,
                  "cand_tokens": np.int32, "table": np.int32}
        arrays = {name: np.concatenate(values).astype(dtypes.get(name, np.int64))
                  for name, values in parts.items()}
        return cls(arrays=PackedArrays(**arrays, unit_lengths=unit_lengths),
                   stopword_language=len(lexicons) if stopwords is not None else -1)


@numba.njit(cache=True, inline="always")
def _find(ids, begin, end, units, lang, lex):
    """Entry of the key of language ``lang`` equal to ``ids[begin:end]`` spanning ``units`` units, or -1."""
    h = _span_hash(ids, begin, end, units)
    mask = _U(lex.table_size[lang] - 1)
    base = lex.table_base[lang]
    slot = h & mask
    n = end - begin
    while True:
        k = lex.table[base + np.int64(slot)]
        if k < 0:
            return -1
        same_shape = lex.key_units[k] == units and lex.key_offsets[k + 1] - lex.key_offsets[k] == n
        if lex.key_hash[k] == h and same_shape:
            start = lex.key_offsets[k]
            same = True
            for i in range(n):
                if np.int64(lex.key_tokens[start + i]) != np.int64(ids[begin + i]):
                    same = False
                    break
            if same:
                return lex.key_entry[k]
        slot = (slot + _U(1)) & mask


@numba.njit(cache=True)
def _grow(array, needed):
    if needed <= array.shape[0]:
        return array
    size = max(needed, 2 * array.shape[0])
    out = np.empty(size, dtype=array.dtype)
    out[: array.shape[0]] = array
    return out


@numba.njit(cache=True, inline="always")
def _append(buffers, size, source, begin, count, unit, lang, flag, provenance):
    """Append ``source[begin:begin + count]`` (and its provenance) at ``size``; returns the buffers."""
    out, word, language, switched = buffers
    out = _grow(out, size + count)
    for i in range(count):
        out[size + i] = source[begin + i]
    if provenance:
        word = _grow(word, size + count)
        language = _grow(language, size + count)
        switched = _grow(switched, size + count)
        for i in range(count):
            word[size + i] = unit
            language[size + i] = lang
            switched[size + i] = flag
    return out, word, language, switched


@numba.njit(cache=True, inline="always")
def _unit_class_of(cls):
    if cls <= _WORD_START:
        return _UNIT_WORD
    if cls == _SPECIAL:
        return _UNIT_SPECIAL
    return _UNIT_SENTENCE_END if cls == _SENTENCE_END else _UNIT_PUNCT


@numba.njit(cache=True, inline="always")
def _scan_units(ids, lo, n, token_class, starts, unit_classes):
    """Word units of the sequence ``ids[lo:lo + n]`` (an attached apostrophe between a word token and
    a continuation token joins the word unit): their first tokens into ``starts`` (plus the end at
    ``starts[n_units]``) and their classes into ``unit_classes``; returns ``n_units``."""
    n_units = 0
    boundary = True
    for pos in range(n):
        cls = token_class[ids[lo + pos]]
        if (cls == _APOSTROPHE and not boundary and pos + 1 < n
                and token_class[ids[lo + pos + 1]] == _CONTINUATION):
            continue
        if cls != _CONTINUATION or boundary:
            starts[n_units] = lo + pos
            unit_classes[n_units] = _unit_class_of(cls)
            n_units += 1
        boundary = cls >= _PUNCTUATION
    starts[n_units] = lo + n
    return n_units


@numba.njit(cache=True, inline="always")
def _unit_case(ids, begin, end, token_case):
    """Case pattern of the unit ``ids[begin:end]`` (``_NO_CASE`` .. ``_LETTER``, see the C++ UnitCase)."""
    seen = False
    first_upper = later_upper = later_lower = False
    for i in range(begin, end):
        bits = token_case[ids[i]]
        if seen:
            later_upper |= (bits & (_FIRST_UPPER | _LATER_UPPER)) != 0
            later_lower |= (bits & (_FIRST_LOWER | _LATER_LOWER)) != 0
        elif bits & (_FIRST_UPPER | _FIRST_LOWER):
            seen = True
            first_upper = (bits & _FIRST_UPPER) != 0
            later_upper = (bits & _LATER_UPPER) != 0
            later_lower = (bits & _LATER_LOWER) != 0
    if not seen:
        return _NO_CASE
    if not first_upper:
        return _LOWER
    if later_lower:
        return _CAPITAL
    return _UPPER if later_upper else _LETTER


@numba.njit(cache=True, inline="always")
def _case_variant(ids, starts, u, units, token_case):
    """The translation variant of a switched span of ``units`` units at ``u`` (C++ case_variant)."""
    cased = 0
    first_upper = False
    all_start_upper = all_upper = True
    any_upper = False
    for v in range(u, u + units):
        c = _unit_case(ids, starts[v], starts[v + 1], token_case)
        if c == _NO_CASE:
            continue
        if cased == 0:
            first_upper = c != _LOWER
        cased += 1
        all_start_upper &= c != _LOWER
        all_upper &= c in (_UPPER, _LETTER)
        any_upper |= c == _UPPER
    if cased == 0 or not first_upper:
        return _AS_WRITTEN
    if all_upper and any_upper:
        return _UPPERCASED
    return _TITLED if cased >= 2 and all_start_upper else _CAPITALISED


@numba.njit(cache=True, inline="always")
def _starts_sentence(ids, starts, unit_classes, u, token_case):
    """Whether unit ``u`` starts a sentence (C++ starts_sentence)."""
    for v in range(u - 1, -1, -1):
        cls = unit_classes[v]
        if cls == _UNIT_WORD:
            return False
        if cls == _UNIT_SPECIAL:
            return True
        if cls == _UNIT_SENTENCE_END:
            return (v == 0 or unit_classes[v - 1] != _UNIT_WORD
                    or _unit_case(ids, starts[v - 1], starts[v], token_case) != _LETTER)
    return True


@numba.njit(cache=True, inline="always")
def _phrase_only(ids, starts, unit_classes, u, token_case, protect_names, stop_lang, lex):
    """Whether unit ``u`` may only start a phrase: a stopword, or (protect_names) a protected name."""
    if stop_lang >= 0 and _find(ids, starts[u], starts[u + 1], 1, stop_lang, lex) >= 0:
        return True
    if not protect_names:
        return False
    c = _unit_case(ids, starts[u], starts[u + 1], token_case)
    return c != _NO_CASE and c != _LOWER and not _starts_sentence(ids, starts, unit_classes, u, token_case)


@numba.njit(cache=True, inline="always")
def _longest_match(ids, starts, unit_classes, u, body_units, lang, lex):
    """The longest key of language ``lang`` starting at unit ``u`` (no special token inside):
    ``(entry, units matched)``, or ``(-1, 0)``."""
    max_units = lex.unit_lengths[lang, 0]
    available = 0
    while (available < max_units and u + available < body_units
           and unit_classes[u + available] != _UNIT_SPECIAL):
        available += 1
    for j in range(lex.unit_lengths.shape[1]):
        length = lex.unit_lengths[lang, j]
        if length == 0:  # 0-padded
            break
        if length > available:
            continue
        entry = _find(ids, starts[u], starts[u + length], length, lang, lex)
        if entry >= 0:
            return entry, length
    return -1, 0


@numba.njit(cache=True, inline="always")
def _switch_example(ids, lo, n, key, token_class, token_case, threshold, cumulative, max_length, provenance,
                    keep_case, protect_names, stop_lang, lex, starts, unit_classes, buffers, size):
    """Switch the sequence ``ids[lo:lo + n]`` into ``buffers`` from ``size`` on; returns
    ``(buffers, new size)``."""
    n_lang = cumulative.shape[0]
    restricted = protect_names or stop_lang >= 0
    n_units = _scan_units(ids, lo, n, token_class, starts, unit_classes)
    keep_closing = max_length > 0 and token_class[ids[lo + n - 1]] == _SPECIAL
    body_units = n_units - 1 if keep_closing else n_units
    limit = np.int64(2**62) if max_length <= 0 else (max_length - 1 if keep_closing else max_length)
    begin_out = size
    u = 0
    while u < body_units and size - begin_out < limit:
        entry = -1
        matched = 0
        lang = 0
        if unit_classes[u] == _UNIT_WORD and (_draw(key, u, _STREAM_COIN) >> _U(11)) < threshold:
            if n_lang > 1:
                d = _draw(key, u, _STREAM_LANGUAGE) >> _U(11)
                while d >= cumulative[lang]:
                    lang += 1
            entry, matched = _longest_match(ids, starts, unit_classes, u, body_units, lang, lex)
            # a stopword or a protected name switches only as the start of a phrase
            if entry >= 0 and matched == 1 and restricted and _phrase_only(
                    ids, starts, unit_classes, u, token_case, protect_names, stop_lang, lex):
                entry = -1
        if entry < 0:
            begin = starts[u]
            buffers = _append(buffers, size, ids, begin, starts[u + 1] - begin, u, -1, 0, provenance)
            size += starts[u + 1] - begin
            u += 1
            continue
        d = _draw(key, u, _STREAM_CANDIDATE)
        cand = np.int64(((d >> _U(32)) * _U(lex.entry_count[entry])) >> _U(32))
        variants = lex.variants[lang]
        variant = _case_variant(ids, starts, u, matched, token_case) if keep_case and variants > 1 else 0
        row = lex.entry_first[entry] + cand * variants + variant
        begin = lex.cand_offsets[row]
        count = lex.cand_offsets[row + 1] - begin
        buffers = _append(buffers, size, lex.cand_tokens, begin, count, u, lang, 1, provenance)
        size += count
        u += matched
    if size - begin_out > limit:
        size = begin_out + limit
    if keep_closing:
        buffers = _append(buffers, size, ids, lo + n - 1, 1, n_units - 1, -1, 0, provenance)
        size += 1
    return buffers, size


@numba.njit(cache=True)
def _switch_batch(ids, offsets, example_index, token_class, token_case, threshold, seed, epoch, cumulative,
                  max_length, provenance, keep_case, protect_names, stop_lang, lex):
    batch = offsets.shape[0] - 1
    cap_prov = ids.shape[0] + 16 if provenance else 1
    buffers = (np.empty(ids.shape[0] + 16, dtype=np.int32), np.empty(cap_prov, dtype=np.int32),
               np.empty(cap_prov, dtype=np.int8), np.empty(cap_prov, dtype=np.uint8))
    out_offsets = np.zeros(batch + 1, dtype=np.int64)
    starts = np.empty(ids.shape[0] + 1, dtype=np.int64)
    unit_classes = np.empty(ids.shape[0] + 1, dtype=np.uint8)
    size = 0
    inner = _mix64(_mix64(_U(seed) + _GOLDEN) + _U(epoch) * _GOLDEN2)
    for b in range(batch):
        key = _mix64(inner + _U(example_index[b]) * _GOLDEN)
        buffers, size = _switch_example(
            ids, offsets[b], offsets[b + 1] - offsets[b], key, token_class, token_case, threshold,
            cumulative, max_length, provenance, keep_case, protect_names, stop_lang, lex, starts,
            unit_classes, buffers, size)
        out_offsets[b + 1] = size
    out, word, lang, switched = buffers
    return out[:size].copy(), out_offsets, word[:size].copy(), lang[:size].copy(), switched[:size].copy()


def switch_batch(ids: np.ndarray, offsets: np.ndarray, example_index: np.ndarray, token_info: np.ndarray,
                 packed: PackedLexicons, *, p: float, seed: int, epoch: int,
                 language_cumulative: Sequence[int], max_length: int, provenance: bool,
                 keep_case: bool = False, protect_names: bool = False) -> dict[str, np.ndarray]:
    """Code-switch a validated CSR batch; same contract and output as ``xcs._native.switch_batch``.

    ``ids``: int32/int64 ``(n_tokens,)``; ``offsets``: int64 ``(batch + 1,)``; ``example_index``:
    int64 ``(batch,)``; ``token_info``: uint8 ``(vocab_size,)``, token class in bits 0-2 and case
    bits from bit ``CASE_SHIFT`` (:attr:`VocabTable.token_info <xcs.switching.vocab.VocabTable.token_info>`);
    the stopword set is the one ``packed`` holds. Returns ``ids`` int32, ``offsets`` int64, and
    with ``provenance`` ``word_index`` int32, ``language`` int8, ``switched`` uint8, each ``(n_out,)``.
    """
    token_class = token_info & np.uint8(_CLASS_MASK)
    token_case = token_info >> np.uint8(vocab.CASE_SHIFT)
    out, out_offsets, word, lang, switched = _switch_batch(
        ids, offsets, example_index, token_class, token_case, _U(probability_threshold(p)), _U(seed),
        _U(epoch), np.asarray(language_cumulative, dtype=np.uint64), np.int64(max_length), bool(provenance),
        bool(keep_case), bool(protect_names), np.int64(packed.stopword_language), packed.arrays,
    )
    result = {"ids": out, "offsets": out_offsets}
    if provenance:
        result.update(word_index=word, language=lang, switched=switched)
    return result
