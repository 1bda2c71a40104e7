"""Every CodeSwitcher argument is checked once, in the constructor or setter, for both backends: the
native and Numba backends never disagree on an edge input, and nothing is truncated (issue 12)."""

from __future__ import annotations

import numpy as np
import pytest

from xcs.lexicons.lexicon import Lexicon
from xcs.switching.compiled_lexicon import CompiledLexicon
from xcs.switching.switcher import CodeSwitcher

BACKENDS = ["native", "numba"]


@pytest.fixture(scope="module")
def compiled(e5_tokenizer):
    return CompiledLexicon.compile(Lexicon.from_pairs([("cat", "Katze")], "en", "de"), e5_tokenizer)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"max_length": 2.5}, TypeError, "max_length must be an integer, got float 2.5"),
    ({"max_length": 0}, ValueError, r"max_length must be in \[1, "),
    ({"num_threads": 1025}, ValueError, r"num_threads must be in \[1, 1025\)"),
    ({"num_threads": 2.0}, TypeError, "num_threads must be an integer"),
    ({"seed": 1.9}, TypeError, "seed must be an integer, got float 1.9"),
    ({"seed": -1}, ValueError, "seed must be in"),
    ({"p": 2.0}, ValueError, r"p must be a probability in \[0, 1\]"),
    ({"p": "0.5"}, TypeError, "p must be a number, got str"),
    ({"mode": "multilingual", "language_weights": {"de": float("nan")}}, ValueError,
     "language weights must be finite"),
])
def test_constructor_checks_each_argument(e5_tokenizer, compiled, backend, kwargs, error, message):
    with pytest.raises(error, match=message):
        CodeSwitcher(e5_tokenizer, {"de": compiled}, backend=backend, **kwargs)


@pytest.mark.parametrize("backend", BACKENDS)
def test_setters_and_call_arguments(e5_tokenizer, compiled, backend):
    cs = CodeSwitcher(e5_tokenizer, {"de": compiled}, backend=backend)
    with pytest.raises(ValueError, match=r"p must be a probability"):
        cs.p = 2.0
    assert cs.p == 0.5
    cs.p = 1  # an int is an exact probability
    with pytest.raises(TypeError, match="epoch must be an integer"):
        cs.set_epoch(1.5)
    batch = [[0, 7, 2], [0, 9, 11, 2]]
    ids = np.array([0, 7, 2, 0, 9, 11, 2], dtype=np.int64)
    offsets = np.array([0, 3, 7])
    with pytest.raises(TypeError, match="example_indices must hold integers, got dtype float64"):
        cs(batch, example_indices=[0.0, 1.5])
    with pytest.raises(TypeError, match="offsets must hold integers"):
        cs.switch_flat(ids, offsets.astype(float), np.arange(2))
    with pytest.raises(TypeError, match="epoch must be an integer"):
        cs(batch, epoch=1.0)
    with pytest.raises(TypeError, match="max_length must be an integer"):
        cs(batch, max_length=3.5)
    with pytest.raises(ValueError, match=r"ids must be 1-D \(n_tokens,\)"):
        cs.switch_flat(ids.reshape(1, -1), np.array([0, 7]), np.arange(1))
    with pytest.raises(ValueError, match=r"example_index value 9223372036854775809 is out of range"):
        cs.switch_flat(ids, offsets, np.array([0, 2**63 + 1], dtype=np.uint64))
    with pytest.raises(ValueError, match=r"offsets must not decrease: offsets\[2\] = 3 < offsets\[1\] = 5"):
        cs.switch_flat(ids, np.array([0, 5, 3, 7]), np.arange(3))
    with pytest.raises(ValueError, match="sequence 1 is empty"):
        cs.switch_flat(ids[:3], np.array([0, 3, 3]), np.arange(2))
    with pytest.raises(TypeError, match="offset must be an integer"):
        cs(batch, offset=0.5)


def test_more_than_127_languages_is_an_error(e5_tokenizer, compiled):
    lexicons = {f"l{i:03d}": compiled for i in range(128)}
    with pytest.raises(ValueError, match="at most 127 languages per switcher, got 128"):
        CodeSwitcher(e5_tokenizer, lexicons, mode="multilingual", backend="numba")
    most = CodeSwitcher(e5_tokenizer, dict(list(lexicons.items())[:127]), mode="multilingual")
    assert len(most.languages) == 127


def test_switch_flat_takes_the_call_vocabulary_and_the_old_names_with_a_warning(e5_tokenizer, compiled):
    import warnings

    cs = CodeSwitcher(e5_tokenizer, {"de": compiled}, p=1.0)
    ids = np.array([0, 7, 2, 0, 9, 11, 2], dtype=np.int64)
    offsets = np.array([0, 3, 7])
    new = cs.switch_flat(ids, offsets, example_indices=np.arange(2), return_provenance=True,
                         pair_indices=np.arange(2))
    with pytest.warns(DeprecationWarning, match="'example_index' is renamed 'example_indices'"):
        old = cs.switch_flat(ids, offsets, example_index=np.arange(2), provenance=True,
                             pair_index=np.arange(2))
    assert new.keys() == old.keys() and all(np.array_equal(new[k], old[k]) for k in new)
    assert "word_index" in new
    with pytest.raises(TypeError, match="both 'provenance' and its new name"):
        cs.switch_flat(ids, offsets, np.arange(2), provenance=True, return_provenance=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cs.switch_flat(ids, offsets, np.arange(2))  # positional: no warning
