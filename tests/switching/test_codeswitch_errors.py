"""Bad input to the engine gives clear Python exceptions (both backends), never a crash."""

from __future__ import annotations

import dataclasses

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
    ([[0, 2**70]], r"token id 1180591620717411303424 is out of range"),
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
    ({"keep_case": "yes"}, TypeError, r"keep_case must be True or False, got str 'yes'"),
    ({"skip_stopwords": 1}, TypeError, r"skip_stopwords must be True or False"),
    ({"protect_names": None}, TypeError, r"protect_names must be True or False"),
    ({"stopwords": ["the"]}, ValueError, r"stopwords is only used with skip_stopwords=True"),
    ({"skip_stopwords": True, "stopwords": "the"}, TypeError, r"stopwords must be a collection"),
    ({"skip_stopwords": True, "stopwords": ["the", " "]}, TypeError, r"non-empty strings"),
])
def test_bad_configuration(e5_tokenizer, compiled, kwargs, error, message):
    with pytest.raises(error, match=message):
        CodeSwitcher(e5_tokenizer, {"de": compiled}, **kwargs)


def test_stopwords_need_one_known_source_language(e5_tokenizer, compiled):
    german = CompiledLexicon.compile(Lexicon.from_pairs([("Katze", "cat")], "de", "en"), e5_tokenizer)
    with pytest.raises(ValueError, match=r"several source languages \['de', 'en'\]; pass stopwords"):
        CodeSwitcher(e5_tokenizer, {"de": compiled, "en": german}, mode="multilingual", skip_stopwords=True)
    CodeSwitcher(e5_tokenizer, {"de": compiled, "en": german}, mode="multilingual", skip_stopwords=True,
                 stopwords={"the", "die"})
    klingon = CompiledLexicon.compile(Lexicon.from_pairs([("qa", "x")], "tlh", "de"), e5_tokenizer)
    with pytest.raises(ValueError, match="no stopword list for language 'tlh'"):
        CodeSwitcher(e5_tokenizer, {"de": klingon}, skip_stopwords=True)


def test_native_core_checks_the_new_arguments(e5_tokenizer, compiled):
    cs = CodeSwitcher(e5_tokenizer, {"de": compiled}, skip_stopwords=True)
    args = (np.array([0, 5, 2]), np.array([0, 3]), np.array([0]), cs.vocab.token_info, cs.vocab.fingerprint64,
            [compiled.native], 0.5, 0, 0, cs.language_cumulative, 0, 1, False)
    state = cs.stopword_set.__getstate__()
    foreign = CompiledLexicon(state["arrays"], src_lang="en", tgt_lang="en", vocab_size=state["vocab_size"],
                              fingerprint="0" * 64, case_variants=state["case_variants"])
    with pytest.raises(ValueError, match="stopword set was compiled for another tokenizer"):
        _native.switch_batch(*args, stopwords=foreign.native)
    with pytest.raises(TypeError, match="token_info must be a numpy array of dtype uint8"):
        _native.switch_batch(*args[:3], cs.vocab.token_info.astype(np.int64), *args[4:])


def test_any_token_table_is_safe_and_both_backends_agree(e5_tokenizer, compiled):
    """Every byte of the token table is valid input: unknown classes read as punctuation."""
    kwargs = dict(p=1.0, skip_stopwords=True, protect_names=True)
    native = CodeSwitcher(e5_tokenizer, {"de": compiled}, backend="native", **kwargs)
    numba = CodeSwitcher(e5_tokenizer, {"de": compiled}, backend="numba", **kwargs)
    rng = np.random.default_rng(0)
    size = native.vocab.vocab_size
    classes, cases = rng.integers(0, 8, size, dtype=np.uint8), rng.integers(0, 32, size, dtype=np.uint8)
    # a copy: the tokenizer's own (cached) table stays intact
    native.vocab = numba.vocab = dataclasses.replace(native.vocab, token_class=classes, token_case=cases)
    assert set(np.unique(native.vocab.token_info).tolist()) == set(range(256))
    batch = rng.integers(0, size, (30, 40)).tolist()
    assert native(batch, return_provenance=True) == numba(batch, return_provenance=True)


def test_lexicon_for_another_tokenizer(e5_tokenizer, compiled):
    state = compiled.__getstate__()
    other = CompiledLexicon(state["arrays"], src_lang="en", tgt_lang="de", vocab_size=state["vocab_size"],
                            fingerprint="0" * 64, case_variants=state["case_variants"])
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


@pytest.mark.parametrize("backend", BACKENDS)
def test_invalid_compiled_arrays(monkeypatch, e5_tokenizer, compiled, backend):
    if backend == "numba":
        monkeypatch.setattr("xcs.switching.compiled_lexicon.native_module", lambda: None)
    good = compiled.__getstate__()["arrays"]
    variants = compiled.case_variants
    assert variants == 4  # Katze / KATZE, Haus / HAUS
    one_row_less = {"cand_offsets": good["cand_offsets"][:-1].copy(),
                    "cand_tokens": good["cand_tokens"][: good["cand_offsets"][-2]].copy()}
    cases = [
        ({"key_tokens": np.full(good["key_tokens"].size, 999999, dtype=np.int32)}, variants,
         "outside the vocabulary"),
        ({"key_entry": np.full(good["key_entry"].size, 99, dtype=np.int32)}, variants, "entry"),
        ({"cand_offsets": good["cand_offsets"][::-1].copy()}, variants, "cand_offsets"),
        ({}, 1, "entry_offsets"),  # four rows per candidate read as one: the entries end too early
        ({}, 3, "case_variants must be 1 or 4"),
        (one_row_less, variants, "not a multiple of case_variants"),
    ]
    for changes, case_variants, message in cases:
        with pytest.raises(ValueError, match=message):
            CompiledLexicon(dict(good, **changes), src_lang="en", tgt_lang="de", vocab_size=250002,
                            fingerprint="ab" * 32, case_variants=case_variants)
    dup = dict(good, key_offsets=np.array([0, 1, 2]), key_tokens=np.array([7, 7], dtype=np.int32),
               key_units=np.array([1, 1], dtype=np.int32), key_entry=np.array([0, 0], dtype=np.int32))
    with pytest.raises(ValueError, match="duplicate"):  # Numba: when it packs the lexicons
        lexicon = CompiledLexicon(dup, src_lang="en", tgt_lang="de", vocab_size=250002,
                                  fingerprint=compiled.fingerprint, case_variants=variants)
        CodeSwitcher(e5_tokenizer, {"de": lexicon}, backend="numba")([[0, 7, 2]])


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
