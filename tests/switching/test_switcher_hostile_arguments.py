"""Issue 21.8: CodeSwitcher's containers, keys, weights and padding masks are checked, never
coerced; a mask value other than 0 / 1 or a hole in a mask is an error naming it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xcs.lexicons.lexicon import Lexicon
from xcs.switching.compiled_lexicon import CompiledLexicon
from xcs.switching.rng import ONE53, language_thresholds
from xcs.switching.switcher import CodeSwitcher


@pytest.fixture(scope="module")
def compiled(e5_tokenizer):
    return CompiledLexicon.compile(Lexicon.from_pairs([("cat", "Katze")], "en", "de"), e5_tokenizer)


@pytest.fixture(scope="module")
def compiled_fr(e5_tokenizer):
    return CompiledLexicon.compile(Lexicon.from_pairs([("cat", "chat")], "en", "fr"), e5_tokenizer)


def test_lexicons_must_be_a_mapping(e5_tokenizer, compiled):
    # a list failed with "list indices must be integers or slices, not str"
    with pytest.raises(TypeError, match=r"lexicons must be a mapping of language code -> Lexicon .*got list"):
        CodeSwitcher(e5_tokenizer, [compiled])


def test_lexicon_keys_must_be_language_codes(e5_tokenizer, compiled):
    with pytest.raises(TypeError, match="lexicons: every key must be a language code .*got int 1"):
        CodeSwitcher(e5_tokenizer, {1: compiled})


@pytest.mark.parametrize(("weights", "message"), [
    ({"de": True, "fr": 1.0}, r"language_weights\['de'\] must be a number, got bool True"),
    ({"de": "2", "fr": 1.0}, r"language_weights\['de'\] must be a number, got str '2'"),
    ({1: 1.0}, "language_weights: every key must be a language code"),
    ([("de", 1.0)], "language_weights must be a mapping"),
])
def test_language_weights_are_not_coerced(e5_tokenizer, compiled, compiled_fr, weights, message):
    with pytest.raises(TypeError, match=message):
        CodeSwitcher(e5_tokenizer, {"de": compiled, "fr": compiled_fr}, mode="multilingual",
                     language_weights=weights)


def test_huge_weights_are_normalised(e5_tokenizer, compiled, compiled_fr):
    # their sum overflowed: "cannot convert float NaN to integer"
    cs = CodeSwitcher(e5_tokenizer, {"de": compiled, "fr": compiled_fr}, mode="multilingual",
                      language_weights={"de": 1e308, "fr": 1e308})
    assert cs.language_cumulative == language_thresholds([1.0, 1.0]) == [ONE53 // 2, ONE53]
    huge, small = language_thresholds([1e308, 3e307]), language_thresholds([10.0, 3.0])
    assert abs(huge[0] - small[0]) <= 1 and huge[1] == small[1] == ONE53


@pytest.mark.parametrize("backend", ["native", "numba"])
def test_a_mask_with_a_hole_is_an_error(e5_tokenizer, compiled, backend):
    cs = CodeSwitcher(e5_tokenizer, {"de": compiled}, p=0.0, backend=backend)
    ids = np.array([[0, 7, 8, 9, 2]])
    # a hole dropped token 8 even at p = 0
    with pytest.raises(ValueError, match=r"attention_mask row 0 has a 0 between 1s \(position 2\)"):
        cs(ids, np.array([[1, 1, 0, 1, 1]]))
    for bad in (0.4, float("nan"), 2.0):
        with pytest.raises(ValueError, match="attention_mask must hold only 0 and 1"):
            cs(ids, np.array([[1, 1, bad, 1, 1]]))
    # right and left padding, bool / float / torch masks of 0 and 1 are fine, and p = 0 changes nothing
    right = cs(ids, np.array([[1, 1, 1, 0, 0]]))
    assert right["input_ids"].tolist() == [[0, 7, 8]]
    left = cs(ids, torch.tensor([[0.0, 0.0, 1.0, 1.0, 1.0]]))
    assert left["input_ids"].tolist() == [[8, 9, 2]]
    assert cs(ids, np.ones((1, 5), dtype=bool))["input_ids"].tolist() == ids.tolist()
