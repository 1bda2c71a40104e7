"""Ragged batches of token ids in the forms the engine and the encoders use, and their checks
(a foundation module below every stage: switching, models and experiment use it).

A batch is either a list of token-id lists, a padded 2-D array ``(batch, seq)`` with an attention
mask, or CSR form: flat ids ``(n_tokens,)`` with int64 ``offsets`` ``(batch + 1,)`` (row ``i`` is
``ids[offsets[i]:offsets[i + 1]]``). This module converts between them (:func:`flatten_lists`,
:func:`flatten_padded`, :func:`pad_flat`, :func:`pad_rows`: the one padding routine of the package)
and holds the Python side of the input checks the C++ core makes (:func:`offsets_valid`,
:func:`integer_array`, :func:`check_batch_layout`, :func:`check_token_ids`), for both backends and
the compiled lexicon's arrays.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np


# ---------------------------------------------------------------------------------- conversion
def is_2d_array(batch: Any) -> bool:
    """Whether ``batch`` is an array-like with two dimensions (numpy or torch)."""
    return hasattr(batch, "shape") and len(batch.shape) == 2


def to_numpy(array: Any, name: str | None = None) -> np.ndarray:
    """``array`` as a numpy array (a torch tensor is detached and copied to the CPU); with ``name``,
    rows of different lengths (no array) are a ValueError naming it."""
    if hasattr(array, "detach"):  # torch.Tensor
        array = array.detach().cpu().numpy()
    if name is None:
        return np.asarray(array)
    try:
        return np.asarray(array)
    except ValueError:  # numpy: "setting an array element with a sequence ... inhomogeneous shape"
        raise ValueError(f"{name} must be a rectangular (batch, seq) array; its rows have different lengths "
                         "(pass token-id lists without an attention_mask, or pad them)") from None


def row_offsets(lengths: Sequence[int] | np.ndarray) -> np.ndarray:
    """CSR offsets, int64 ``(len(lengths) + 1,)``, of rows with the given lengths."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def flatten_lists(batch: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """A list of token-id lists -> CSR ``(ids int64, offsets int64)``."""
    if isinstance(batch, (str, bytes)) or not isinstance(batch, Sequence):
        raise TypeError(f"batch must be a list of token-ID lists or a 2-D array, got {type(batch).__name__}")
    lengths = []
    for i, row in enumerate(batch):
        if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
            raise TypeError(f"batch[{i}] must be a sequence of token ids, got {type(row).__name__}")
        lengths.append(len(row))
    offsets = row_offsets(lengths)
    flat = list(itertools.chain.from_iterable(batch))
    # np.array infers the dtype (fromiter would truncate 35.9 and parse "36"): anything but an
    # integer array means a value that is not an integer token id
    try:
        ids = np.array(flat) if flat else np.zeros(0, dtype=np.int64)
    except ValueError:  # ragged nesting: a row holds a list
        ids = np.zeros((0, 0))
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        row, value = _first_non_integer(batch)
        if row is None:  # integers, but too large for any integer dtype (numpy made them objects)
            raise ValueError(f"token id {max(flat)} is out of range for the vocabulary")
        raise TypeError(f"token ids must be integers: batch[{row}] holds {type(value).__name__} {value!r}")
    if ids.dtype == np.uint64 and flat and int(ids.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"token id {int(ids.max())} is out of range for the vocabulary")
    return ids.astype(np.int64, copy=False), offsets


def _first_non_integer(batch: Sequence[Sequence[Any]]) -> tuple[int | None, Any]:
    """The row and value of the first element of ``batch`` that is not an integer (``(None, None)``
    when every one is)."""
    for i, row in enumerate(batch):
        for value in row:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                return i, value
    return None, None


def flatten_padded(batch: Any, attention_mask: Any) -> tuple[np.ndarray, np.ndarray]:
    """A padded ``(batch, seq)`` id array and its mask (None: every position) -> CSR ``(ids, offsets)``;
    ids keep an int32 / int64 dtype, other integer dtypes become int64."""
    ids = to_numpy(batch, "a padded batch")
    if ids.ndim != 2:
        raise ValueError(f"a padded batch must be 2-D (batch, seq), got shape {ids.shape}")
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"token ids must be integers, got {ids.dtype}")
    mask = np.ones(ids.shape, dtype=bool) if attention_mask is None else _padding_mask(attention_mask)
    if mask.shape != ids.shape:
        raise ValueError(f"attention_mask shape {mask.shape} does not match input_ids shape {ids.shape}")
    offsets = row_offsets(mask.sum(axis=1))
    flat = ids[mask]
    return flat.astype(np.int64 if flat.dtype not in (np.int32, np.int64) else flat.dtype), offsets


def _padding_mask(attention_mask: Any) -> np.ndarray:
    """A padding mask as bool: values 0 / 1 (bool, integer or float) only, and in each row the 1s
    contiguous (right or left padding). A 0 between 1s (a hole) or any other value (0.4, NaN) is
    a ValueError: the masked token would be dropped from the output, even at p = 0."""
    mask = to_numpy(attention_mask, "attention_mask")
    if mask.dtype != bool:
        if not (np.issubdtype(mask.dtype, np.integer) or np.issubdtype(mask.dtype, np.floating)):
            raise TypeError(f"attention_mask must hold 0 / 1 (bool, integer or float), got {mask.dtype}")
        bad = (mask != 0) & (mask != 1)
        if bad.any():
            position = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"attention_mask must hold only 0 and 1 (a padding mask), got "
                             f"{mask[position].item()!r} at {position}")
        mask = mask == 1
    if mask.ndim == 2 and mask.shape[1] > 1:
        # a hole: a 1 -> 0 step followed later by a 0 -> 1 step in the same row
        rises = np.cumsum(mask[:, 1:] & ~mask[:, :-1], axis=1)
        falls = mask[:, :-1] & ~mask[:, 1:]
        hole = falls & (rises[:, -1:] > rises)
        if hole.any():
            row, column = (int(i) for i in np.argwhere(hole)[0])
            raise ValueError(f"attention_mask row {row} has a 0 between 1s (position {column + 1}): only "
                             "padding may be masked (right or left), a masked token inside the text would "
                             "be dropped from the output")
    return mask


def pad_flat(flat: np.ndarray, offsets: np.ndarray, fill: int) -> np.ndarray:
    """CSR -> right-padded ``(batch, longest row)`` array of ``flat``'s dtype, filled with ``fill``."""
    lengths = np.diff(offsets)
    out = np.full((lengths.shape[0], int(lengths.max(initial=0))), fill, dtype=flat.dtype)
    rows = np.repeat(np.arange(lengths.shape[0]), lengths)
    cols = np.arange(flat.shape[0]) - np.repeat(offsets[:-1], lengths)
    out[rows, cols] = flat
    return out


def pad_rows(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad token-id lists: ``(input_ids, attention_mask)``, both int64 ``(n, max_len)``."""
    ids, offsets = flatten_lists(rows)
    input_ids = pad_flat(ids, offsets, pad_id)
    attention_mask = (np.arange(input_ids.shape[1]) < np.diff(offsets)[:, None]).astype(np.int64)
    return input_ids, attention_mask


# -------------------------------------------------------------------------------------- checks
def offsets_valid(offsets: np.ndarray, total: int) -> bool:
    """Whether ``offsets`` (int64 ``(n + 1,)``) run from 0 to ``total``, strictly increasing (no empty
    row). Bounds and order by comparison, not ``np.diff``, which wraps on offsets such as
    ``[0, 2**63 - 1, -2, total]``."""
    if offsets.ndim != 1 or offsets.size < 1 or offsets[0] != 0 or offsets[-1] != total:
        return False
    return bool(((offsets >= 0) & (offsets <= total)).all() and (offsets[1:] > offsets[:-1]).all())


def integer_array(name: str, values: Any) -> np.ndarray:
    """``values`` as a 1-D int64 array; floats (which would be truncated), bools and integers beyond
    int64 are errors naming ``name``."""
    try:
        array = to_numpy(values)
    except ValueError:  # rows of different lengths
        raise ValueError(f"{name} must be a 1-D sequence of integers, got nested rows of different "
                         "lengths") from None
    if array.size == 0 and array.dtype.kind == "f":  # np.asarray([]) is float64
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.dtype == np.uint64 and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"{name} value {int(array.max())} is out of range (at most 2**63 - 1)")
    return np.ascontiguousarray(array, dtype=np.int64)


def check_batch_layout(ids: np.ndarray, offsets: np.ndarray, example_index: np.ndarray) -> None:
    """The shape of a CSR batch to switch, O(batch) (both backends; the native core re-checks): a
    ValueError naming the first problem (``example_index`` is the switcher's ``example_indices``
    argument, and named so)."""
    batch = offsets.shape[0] - 1
    if offsets.ndim != 1 or batch < 1:
        raise ValueError("empty batch: at least one sequence is required")
    if example_index.shape != (batch,):
        raise ValueError(f"example_indices has {example_index.shape[0]} entries for {batch} sequences")
    total = ids.shape[0]
    if offsets[0] != 0 or offsets[-1] != total:
        raise ValueError(f"offsets must run from 0 to {total}, got {int(offsets[0])} to {int(offsets[-1])}")
    outside = np.flatnonzero((offsets < 0) | (offsets > total))
    if outside.size:
        raise ValueError(f"offsets[{int(outside[0])}] = {int(offsets[outside[0]])} lies outside [0, {total}]")
    step = offsets[1:] - offsets[:-1]  # cannot wrap: every offset lies in [0, total]
    decreasing = np.flatnonzero(step < 0)
    if decreasing.size:
        i = int(decreasing[0])
        raise ValueError(f"offsets must not decrease: offsets[{i + 1}] = {int(offsets[i + 1])} < "
                         f"offsets[{i}] = {int(offsets[i])}")
    empty = np.flatnonzero(step == 0)
    if empty.size:
        raise ValueError(f"sequence {int(empty[0])} is empty (zero-length sequences are not allowed)")
    negative = np.flatnonzero(example_index < 0)
    if negative.size:
        first = int(negative[0])
        raise ValueError(f"example_indices[{first}] is negative ({int(example_index[first])}): example "
                         "indices are >= 0")


def check_token_ids(ids: np.ndarray, offsets: np.ndarray, vocab_size: int) -> None:
    """Every token id lies in the vocabulary (the Numba backend calls this; the native core checks
    itself): a ValueError naming the sequence and position of the first one outside."""
    bad = np.flatnonzero((ids < 0) | (ids >= vocab_size))
    if bad.size:
        pos = int(bad[0])
        row = int(np.searchsorted(offsets, pos, side="right") - 1)
        raise ValueError(f"token id {int(ids[pos])} at sequence {row}, position {pos - int(offsets[row])} is "
                         f"outside the vocabulary [0, {vocab_size})")
