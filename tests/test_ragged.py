"""xcs.ragged: token-id lists are never coerced (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest

from xcs.ragged import flatten_lists


def test_integer_lists_flatten_to_csr():
    ids, offsets = flatten_lists([[0, 1], [2], [np.int32(7), np.uint8(3)]])
    assert ids.dtype == np.int64 and ids.tolist() == [0, 1, 2, 7, 3] and offsets.tolist() == [0, 2, 3, 5]
    ids, offsets = flatten_lists([[], []])
    assert ids.shape == (0,) and offsets.tolist() == [0, 0, 0]


@pytest.mark.parametrize(("batch", "error", "message"), [
    ([[0, 35.9, "36", 2]], TypeError, r"batch\[0\] holds float 35.9"),
    ([[0, 1], ["36"]], TypeError, r"batch\[1\] holds str '36'"),
    ([[0], [None]], TypeError, r"batch\[1\] holds NoneType None"),
    ([[0, [1]]], TypeError, r"batch\[0\] holds list \[1\]"),
    ([[True]], TypeError, r"batch\[0\] holds bool True"),
    ([[2**64 - 1]], ValueError, "token id 18446744073709551615 is out of range"),
    ([[0, 2**70]], ValueError, f"token id {2**70} is out of range"),
    (["abc"], TypeError, r"batch\[0\] must be a sequence of token ids, got str"),
    ("abc", TypeError, "batch must be a list of token-ID lists"),
])
def test_values_that_are_not_token_ids_are_refused(batch, error, message):
    with pytest.raises(error, match=message):
        flatten_lists(batch)
