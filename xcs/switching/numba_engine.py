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

_CONTINUATION, _PUNCTUATION, _SPECIAL = vocab.CONTINUATION, vocab.PUNCTUATION, vocab.SPECIAL
# unit classes of the walk (csrc/core/codeswitch.cpp): a word, a punctuation unit, a special token
_UNIT_WORD, _UNIT_PUNCT, _UNIT_SPECIAL = 0, 1, 2


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


@dataclass
class PackedLexicons:
    """All lexicons of a switcher in one set of arrays, with ids shifted to be global."""

    key_offsets: np.ndarray  # int64, global positions into key_tokens
    key_tokens: np.ndarray  # int32
    key_units: np.ndarray  # int32
    key_entry: np.ndarray  # int32, global entry ids
    key_hash: np.ndarray  # uint64
    entry_offsets: np.ndarray  # int64, global candidate ids (one array per language, shifted)
    cand_offsets: np.ndarray  # int64
    cand_tokens: np.ndarray  # int32
    table: np.ndarray  # int32, global key ids; language l uses table[table_base[l]:][:table_size[l]]
    table_base: np.ndarray  # int64 (n_lang,)
    table_size: np.ndarray  # int64 (n_lang,)
    unit_lengths: np.ndarray  # int32 (n_lang, max_lengths), distinct key lengths desc, 0-padded

    @classmethod
    def pack(cls, lexicons: Sequence[CompiledLexicon]) -> PackedLexicons:
        key_offsets, key_tokens, key_units, key_entry, hashes = [], [], [], [], []
        entry_offsets, cand_offsets, cand_tokens, tables = [], [], [], []
        table_base, table_size, lengths = [], [], []
        n_keys = n_key_tokens = n_entry_rows = n_cands = n_cand_tokens = n_table = 0
        for lex in lexicons:
            a = lex.arrays
            table, key_hash, duplicate = _build_table(a["key_offsets"], a["key_tokens"], a["key_units"])
            if duplicate:
                raise ValueError(f"CompiledLexicon {lex.src_lang}-{lex.tgt_lang}: key {-1 - duplicate} "
                                 "is a duplicate")
            key_offsets.append(a["key_offsets"][:-1] + n_key_tokens)
            key_tokens.append(a["key_tokens"])
            key_units.append(a["key_units"])
            key_entry.append(a["key_entry"].astype(np.int64) + n_entry_rows)
            hashes.append(key_hash)
            entry_offsets.append(a["entry_offsets"] + n_cands)
            cand_offsets.append(a["cand_offsets"][:-1] + n_cand_tokens)
            cand_tokens.append(a["cand_tokens"])
            tables.append(np.where(table >= 0, table.astype(np.int64) + n_keys, -1))
            table_base.append(n_table)
            table_size.append(table.shape[0])
            lengths.append(sorted(set(a["key_units"].tolist()), reverse=True))
            n_keys += a["key_units"].shape[0]
            n_key_tokens += a["key_tokens"].shape[0]
            n_entry_rows += a["entry_offsets"].shape[0]  # one extra row per language: its end
            n_cands += a["cand_offsets"].shape[0] - 1
            n_cand_tokens += a["cand_tokens"].shape[0]
            n_table += table.shape[0]
        key_offsets.append(np.array([n_key_tokens], dtype=np.int64))
        cand_offsets.append(np.array([n_cand_tokens], dtype=np.int64))
        width = max((len(x) for x in lengths), default=0) or 1
        unit_lengths = np.zeros((len(lexicons), width), dtype=np.int32)
        for lang, values in enumerate(lengths):
            unit_lengths[lang, : len(values)] = values
        return cls(
            key_offsets=np.concatenate(key_offsets).astype(np.int64),
            key_tokens=np.concatenate(key_tokens).astype(np.int32),
            key_units=np.concatenate(key_units).astype(np.int32),
            key_entry=np.concatenate(key_entry).astype(np.int32),
            key_hash=np.concatenate(hashes).astype(np.uint64),
            entry_offsets=np.concatenate(entry_offsets).astype(np.int64),
            cand_offsets=np.concatenate(cand_offsets).astype(np.int64),
            cand_tokens=np.concatenate(cand_tokens).astype(np.int32),
            table=np.concatenate(tables).astype(np.int32),
            table_base=np.asarray(table_base, dtype=np.int64),
            table_size=np.asarray(table_size, dtype=np.int64),
            unit_lengths=unit_lengths,
        )


@numba.njit(cache=True)
def _find(ids, begin, end, units, lang, packed_key_offsets, key_tokens, key_units, key_entry, key_hash,
          table, table_base, table_size):
    h = _span_hash(ids, begin, end, units)
    mask = _U(table_size[lang] - 1)
    base = table_base[lang]
    slot = h & mask
    n = end - begin
    while True:
        k = table[base + np.int64(slot)]
        if k < 0:
            return -1
        same_shape = key_units[k] == units and packed_key_offsets[k + 1] - packed_key_offsets[k] == n
        if key_hash[k] == h and same_shape:
            start = packed_key_offsets[k]
            same = True
            for i in range(n):
                if np.int64(key_tokens[start + i]) != np.int64(ids[begin + i]):
                    same = False
                    break
            if same:
                return key_entry[k]
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
def _scan_units(ids, lo, n, token_class, starts, unit_classes):
    """Word units of the sequence ``ids[lo:lo + n]``: their first tokens into ``starts`` (plus the end
    at ``starts[n_units]``) and their classes into ``unit_classes``; returns ``n_units``."""
    n_units = 0
    boundary = True
    for pos in range(n):
        cls = token_class[ids[lo + pos]]
        if cls != _CONTINUATION or boundary:
            starts[n_units] = lo + pos
            unit_classes[n_units] = (_UNIT_SPECIAL if cls == _SPECIAL
                                     else _UNIT_PUNCT if cls == _PUNCTUATION else _UNIT_WORD)
            n_units += 1
        boundary = cls in (_PUNCTUATION, _SPECIAL)
    starts[n_units] = lo + n
    return n_units


@numba.njit(cache=True, inline="always")
def _longest_match(ids, starts, unit_classes, u, body_units, lang, unit_lengths, key_offsets, key_tokens,
                   key_units, key_entry, key_hash, table, table_base, table_size):
    """The longest key of language ``lang`` starting at unit ``u`` (no special token inside):
    ``(entry, units matched)``, or ``(-1, 0)``."""
    max_units = unit_lengths[lang, 0]
    available = 0
    while (available < max_units and u + available < body_units
           and unit_classes[u + available] != _UNIT_SPECIAL):
        available += 1
    for j in range(unit_lengths.shape[1]):
        length = unit_lengths[lang, j]
        if length == 0:
            break
        if length > available:
            continue
        entry = _find(ids, starts[u], starts[u + length], length, lang, key_offsets, key_tokens,
                      key_units, key_entry, key_hash, table, table_base, table_size)
        if entry >= 0:
            return entry, length
    return -1, 0


@numba.njit(cache=True)
def _switch_batch(ids, offsets, example_index, token_class, threshold, seed, epoch, cumulative, max_length,
                  provenance, key_offsets, key_tokens, key_units, key_entry, key_hash, entry_offsets,
                  cand_offsets, cand_tokens, table, table_base, table_size, unit_lengths):
    batch = offsets.shape[0] - 1
    n_lang = cumulative.shape[0]
    out = np.empty(ids.shape[0] + 16, dtype=np.int32)
    cap_prov = ids.shape[0] + 16 if provenance else 1
    out_word = np.empty(cap_prov, dtype=np.int32)
    out_lang = np.empty(cap_prov, dtype=np.int8)
    out_switched = np.empty(cap_prov, dtype=np.uint8)
    out_offsets = np.zeros(batch + 1, dtype=np.int64)
    starts = np.empty(ids.shape[0] + 1, dtype=np.int64)
    unit_classes = np.empty(ids.shape[0] + 1, dtype=np.uint8)
    size = 0
    for b in range(batch):
        lo = offsets[b]
        n = offsets[b + 1] - lo
        inner = _mix64(_mix64(_U(seed) + _GOLDEN) + _U(epoch) * _GOLDEN2)
        key = _mix64(inner + _U(example_index[b]) * _GOLDEN)
        n_units = _scan_units(ids, lo, n, token_class, starts, unit_classes)
        keep_closing = max_length > 0 and token_class[ids[lo + n - 1]] == _SPECIAL
        body_units = n_units - 1 if keep_closing else n_units
        if max_length <= 0:
            limit = np.int64(2**62)
        elif keep_closing:
            limit = max_length - 1
        else:
            limit = max_length
        begin_out = size
        u = 0
        while u < body_units and size - begin_out < limit:
            switched_entry = -1
            matched = 0
            lang = 0
            if unit_classes[u] == _UNIT_WORD and (_draw(key, u, _STREAM_COIN) >> _U(11)) < threshold:
                if n_lang > 1:
                    d = _draw(key, u, _STREAM_LANGUAGE) >> _U(11)
                    while d >= cumulative[lang]:
                        lang += 1
                switched_entry, matched = _longest_match(
                    ids, starts, unit_classes, u, body_units, lang, unit_lengths, key_offsets, key_tokens,
                    key_units, key_entry, key_hash, table, table_base, table_size)
            if switched_entry < 0:
                begin = starts[u]
                count = starts[u + 1] - begin
                out = _grow(out, size + count + 1)
                for i in range(count):
                    out[size + i] = ids[begin + i]
                src_lang = -1
                flag = 0
                step = 1
            else:
                first = entry_offsets[switched_entry]
                n_cands = entry_offsets[switched_entry + 1] - first
                d = _draw(key, u, _STREAM_CANDIDATE)
                cand = first + np.int64(((d >> _U(32)) * _U(n_cands)) >> _U(32))
                begin = cand_offsets[cand]
                count = cand_offsets[cand + 1] - begin
                out = _grow(out, size + count + 1)
                for i in range(count):
                    out[size + i] = cand_tokens[begin + i]
                src_lang = lang
                flag = 1
                step = matched
            if provenance:
                out_word = _grow(out_word, size + count + 1)
                out_lang = _grow(out_lang, size + count + 1)
                out_switched = _grow(out_switched, size + count + 1)
                for i in range(count):
                    out_word[size + i] = u
                    out_lang[size + i] = src_lang
                    out_switched[size + i] = flag
            size += count
            u += step
        if size - begin_out > limit:
            size = begin_out + limit
        if keep_closing:
            out = _grow(out, size + 1)
            out[size] = ids[lo + n - 1]
            if provenance:
                out_word = _grow(out_word, size + 1)
                out_lang = _grow(out_lang, size + 1)
                out_switched = _grow(out_switched, size + 1)
                out_word[size] = n_units - 1
                out_lang[size] = -1
                out_switched[size] = 0
            size += 1
        out_offsets[b + 1] = size
    return out[:size].copy(), out_offsets, out_word[:size].copy(), out_lang[:size].copy(), \
        out_switched[:size].copy()


def switch_batch(ids: np.ndarray, offsets: np.ndarray, example_index: np.ndarray, token_class: np.ndarray,
                 packed: PackedLexicons, *, p: float, seed: int, epoch: int,
                 language_cumulative: Sequence[int], max_length: int,
                 provenance: bool) -> dict[str, np.ndarray]:
    """Code-switch a validated CSR batch; same contract and output as ``xcs._native.switch_batch``.

    ``ids``: int32/int64 ``(n_tokens,)``; ``offsets``: int64 ``(batch + 1,)``; ``example_index``:
    int64 ``(batch,)``. Returns ``ids`` int32, ``offsets`` int64, and with ``provenance``
    ``word_index`` int32, ``language`` int8, ``switched`` uint8, each ``(n_out,)``.
    """
    out, out_offsets, word, lang, switched = _switch_batch(
        ids, offsets, example_index, token_class, _U(probability_threshold(p)), _U(seed), _U(epoch),
        np.asarray(language_cumulative, dtype=np.uint64), np.int64(max_length), bool(provenance),
        packed.key_offsets, packed.key_tokens, packed.key_units, packed.key_entry, packed.key_hash,
        packed.entry_offsets, packed.cand_offsets, packed.cand_tokens, packed.table, packed.table_base,
        packed.table_size, packed.unit_lengths,
    )
    result = {"ids": out, "offsets": out_offsets}
    if provenance:
        result.update(word_index=word, language=lang, switched=switched)
    return result
