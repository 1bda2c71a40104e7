"""Bad input to the engine gives clear Python exceptions (both backends), never a crash."""

from __future__ import annotations

import numpy as np
import pytest

from xcs import _native
from xcs.lexicons.lexicon import Lexicon
from xcs.switching.compiled_lexicon import CompiledLexicon, TokenizerMismatchError
from xcs.switching.switcher import CodeSwitcher

BACKENDS = ("native", "numba")


@pytest.fixture(scope="module")
def compiled(e5_tokenizer):
    lexicon = Lexicon.from_pairs([("cat", "Katze"), ("house", "Haus")], "en", "de")
    return CompiledLexicon.compile(lexicon, e5_tokenizer)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("batch", "message"), [
    ([[0, 250002, 2]], r"token id 250002 at sequence 0, position 1 is outside the vocabulary"),
    ([[0, 5, 2], [0, -1]], r"token id -1 at sequence 1, position 1"),
    ([], r"empty batch"),
    ([[0, 5], []], r"sequence 1 is empty"),
    ([[0, 2**70]], r"token ids must be integers"),
])
def test_bad_batches(e5_tokenizer, compiled, backend, batch, message):
    cs = CodeSwitcher(e5_tokenizer, {"de": compiled}, backend=backend)
    with pytest.raises(ValueError, match=message):
        cs(batch)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_padded_and_index_inputs(e5_tokenizer, compiled, backend):
    cs = CodeSwitcher(e5_tokenizer, {"de": compiled}, backend=backend)
    with pytest.raises(ValueError, match="does not match"):
        cs(np.zeros((2, 3), dtype=np.int64), np.ones((2, 4)))
    with pytest.raises(ValueError, match="sequence 1 is empty"):
        cs(np.zeros((2, 3), dtype=np.int64), np.array([[1, 1, 0], [0, 0, 0]]))
    with pytest.raises(TypeError, match="integers"):
        cs(np.zeros((2, 3), dtype=np.float32), np.ones((2, 3)))
    with pytest.raises(TypeError, match="batch\\[0\\]"):
        cs(["not ids"])
    with pytest.raises(ValueError, match="example_indices"):
        cs([[0, 2]], example_indices=[1, 2])
    with pytest.raises(ValueError, match="negative"):
        cs([[0, 2]], example_indices=[-4])
    with pytest.raises(TypeError, match="int32 or int64"):
        cs.switch_flat(np.array([0.0]), np.array([0, 1]), np.array([0]))


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"p": 1.5}, ValueError, r"p must be a probability"),
    ({"p": -0.1}, ValueError, r"p must be a probability"),
    ({"p": float("nan")}, ValueError, r"p must be a probability"),
    ({"target_language": "xx"}, ValueError, r"unknown language code 'xx'"),
    ({"mode": "multilingual", "language_weights": {"de": 1, "zz": 1}}, ValueError, r"\['zz'\]"),
    ({"mode": "multilingual", "language_weights": {"de": 0.0}}, ValueError, r"positive sum"),
    ({"mode": "trilingual"}, ValueError, r"mode must be"),
    ({"backend": "cuda"}, ValueError, r"backend must be"),
    ({"max_length": 0}, ValueError, r"max_length"),
])
def test_bad_configuration(e5_tokenizer, compiled, kwargs, error, message):
    with pytest.raises(error, match=message):
        CodeSwitcher(e5_tokenizer, {"de": compiled}, **kwargs)


def test_lexicon_for_another_tokenizer(e5_tokenizer, compiled):
    state = compiled.__getstate__()
    other = CompiledLexicon(state["arrays"], src_lang="en", tgt_lang="de", vocab_size=state["vocab_size"],
                            fingerprint="0" * 64)
    with pytest.raises(TokenizerMismatchError, match="compiled for another tokenizer"):
        CodeSwitcher(e5_tokenizer, {"de": other})
    # The core checks too, should a caller go around CodeSwitcher.
    cs = CodeSwitcher(e5_tokenizer, {"de": compiled})
    with pytest.raises(ValueError, match="another tokenizer"):
        _native.switch_batch(np.array([0, 5, 2]), np.array([0, 3]), np.array([0]), cs.vocab.token_class,
                             cs.vocab.fingerprint64, [other.native], 0.5, 0, 0, cs.language_cumulative,
                             0, 1, False)


def test_native_core_rejects_bad_arguments(e5_tokenizer, compiled):
    cs = CodeSwitcher(e5_tokenizer, {"de": compiled})
    ids, offsets, index = np.array([0, 5, 2]), np.array([0, 3]), np.array([0])
    args = (cs.vocab.token_class, cs.vocab.fingerprint64, [compiled.native])
    call = lambda **kw: _native.switch_batch(  # noqa: E731
        kw.get("ids", ids), kw.get("offsets", offsets), kw.get("index", index), *args, kw.get("p", 0.5), 0, 0,
        kw.get("cum", cs.language_cumulative), 0, kw.get("threads", 1), False)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        call(p=2.0)
    with pytest.raises(ValueError, match="offsets end at"):
        call(offsets=np.array([0, 2]))
    with pytest.raises(ValueError, match="example_index has"):
        call(index=np.array([0, 1]))
    with pytest.raises(ValueError, match="2\\^53"):
        call(cum=[5])
    with pytest.raises(ValueError, match="num_threads"):
        call(threads=0)
    with pytest.raises(TypeError, match="dtype int64"):
        call(offsets=np.array([0, 3], dtype=np.int32))
    with pytest.raises(ValueError, match="one-dimensional"):
        call(ids=np.zeros((1, 3), dtype=np.int64))


def test_invalid_compiled_arrays(compiled):
    good = compiled.__getstate__()["arrays"]
    cases = {
        "key_tokens": (np.full(good["key_tokens"].size, 999999, dtype=np.int32), "outside the vocabulary"),
        "key_entry": (np.full(good["key_entry"].size, 99, dtype=np.int32), "entry"),
        "cand_offsets": (good["cand_offsets"][::-1].copy(), "cand_offsets"),
    }
    for name, (bad, message) in cases.items():
        arrays = dict(good, **{name: bad})
        with pytest.raises(ValueError, match=message):
            CompiledLexicon(arrays, src_lang="en", tgt_lang="de", vocab_size=250002, fingerprint="ab" * 32)
    dup = dict(good, key_offsets=np.array([0, 1, 2]), key_tokens=np.array([7, 7], dtype=np.int32),
               key_units=np.array([1, 1], dtype=np.int32), key_entry=np.array([0, 0], dtype=np.int32))
    with pytest.raises(ValueError, match="duplicate"):
        CompiledLexicon(dup, src_lang="en", tgt_lang="de", vocab_size=250002, fingerprint="ab" * 32)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["key_offsets", "cand_offsets"])
def test_offsets_that_would_overflow_are_rejected(monkeypatch, backend, name):
    if backend == "numba":
        monkeypatch.setattr("xcs.switching.compiled_lexicon.native_module", lambda: None)
    # three keys of 4 tokens, one entry of three candidates of 3 tokens; the offsets under test start
    # at 0 and end at the total, and their differences wrap around to positive values
    wrapping = [0, np.iinfo(np.int64).max, -2]
    arrays = {
        "key_offsets": np.array([0, 1, 2, 4] if name != "key_offsets" else wrapping + [4]),
        "key_tokens": np.array([7515, 18276, 18826, 13038], dtype=np.int32),
        "key_units": np.ones(3, dtype=np.int32),
        "key_entry": np.zeros(3, dtype=np.int32),
        "entry_offsets": np.array([0, 3]),
        "cand_offsets": np.array([0, 1, 2, 3] if name != "cand_offsets" else wrapping + [3]),
        "cand_tokens": np.array([7291, 731, 16384], dtype=np.int32),
    }
    with pytest.raises(ValueError, match=name):
        CompiledLexicon(arrays, src_lang="en", tgt_lang="de", vocab_size=250002, fingerprint="ab" * 32)


def test_stale_native_extension_is_refused(monkeypatch):
    from xcs.switching.native import NATIVE_ABI_VERSION, native_module

    assert native_module() is _native
    monkeypatch.setattr(_native, "abi_version", lambda: NATIVE_ABI_VERSION - 1)
    with pytest.raises(ImportError, match=r"rebuild the extension \(pip install -e \.\)"):
        native_module()
