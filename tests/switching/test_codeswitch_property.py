"""Property tests: random batches through the native binding and the Numba oracle agree exactly,
with every switch-quality option (keep_case, skip_stopwords, protect_names)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xcs.lexicons.lexicon import Lexicon
from xcs.switching.compiled_lexicon import CompiledLexicon
from xcs.switching.switcher import CodeSwitcher
from xcs.switching.vocab import APOSTROPHE, PUNCTUATION, SENTENCE_END, SPECIAL, VocabTable


@pytest.fixture(scope="module")
def setup(e5_tokenizer):
    de = Lexicon.from_pairs(
        [("cat", "Katze"), ("cat", "Kater"), ("the", "die"), ("the", "der"), ("the", "das"),
         ("new york", "NY"), ("new york city", "Big Apple"), ("house", "Haus"), ("u.s.", "USA"),
         ("don't", "nicht"), ("paris", "paris"), ("the hague", "den haag"), ("i'm", "ich bin"),
         ("smith", "schmied")],
        "en", "de",
    )
    de = CompiledLexicon.compile(de, e5_tokenizer)
    ar = Lexicon.from_pairs([("cat", "قطة"), ("house", "بيت"), ("the", "ال")], "en", "ar")
    ar = CompiledLexicon.compile(ar, e5_tokenizer)
    table = VocabTable.for_tokenizer(e5_tokenizer)
    # continuation pieces ("t", "s", "ll", "ARIS"), capitalised words, initials and "don't" pieces
    words = e5_tokenizer(["Smith J. Paris PARIS don't I'm it's we'll O'Neill The Hague U.S. Army"],
                         add_special_tokens=False)["input_ids"][0]
    pool = sorted(set(de.arrays["key_tokens"].tolist()) | set(ar.arrays["key_tokens"].tolist())
                  | set(np.flatnonzero(table.token_class == SPECIAL).tolist())
                  | set(np.flatnonzero(table.token_class == PUNCTUATION)[:20].tolist())
                  | set(np.flatnonzero(table.token_class == SENTENCE_END)[:10].tolist())
                  | set(np.flatnonzero(table.token_class == APOSTROPHE).tolist())
                  | set(words) | {5, 6, 7, 10, 100, 1000, 250000})
    return e5_tokenizer, {"de": de, "ar": ar}, pool


def batches(pool):
    token = st.sampled_from(pool)
    return st.lists(st.lists(token, min_size=1, max_size=30), min_size=1, max_size=6)


@settings(max_examples=120, deadline=None)
@given(data=st.data(), p=st.floats(0.0, 1.0), seed=st.integers(0, 2**64 - 1), epoch=st.integers(0, 3),
       max_length=st.one_of(st.none(), st.integers(1, 40)), multilingual=st.booleans(),
       threads=st.integers(1, 3), weight=st.floats(0.0, 5.0), options=st.tuples(*[st.booleans()] * 3))
def test_native_equals_numba(setup, data, p, seed, epoch, max_length, multilingual, threads, weight, options):
    tok, lexicons, pool = setup
    batch = data.draw(batches(pool))
    indices = data.draw(st.lists(st.integers(0, 2**62), min_size=len(batch), max_size=len(batch)))
    keep_case, skip_stopwords, protect_names = options
    kwargs = dict(p=p, seed=seed, max_length=max_length, num_threads=threads, keep_case=keep_case,
                  skip_stopwords=skip_stopwords, protect_names=protect_names)
    if multilingual:
        kwargs.update(mode="multilingual", language_weights={"de": weight, "ar": 1.0})
    else:
        kwargs.update(target_language="de")
    native = CodeSwitcher(tok, lexicons, backend="native", **kwargs)
    numba = CodeSwitcher(tok, lexicons, backend="numba", **kwargs)
    a = native(batch, example_indices=indices, epoch=epoch, return_provenance=True)
    b = numba(batch, example_indices=indices, epoch=epoch, return_provenance=True)
    assert a == b
    # Without provenance the native engine copies kept units in runs: same ids.
    assert native(batch, example_indices=indices, epoch=epoch) == a["input_ids"]
    assert numba(batch, example_indices=indices, epoch=epoch) == a["input_ids"]
    for row, out, words, switched in zip(batch, a["input_ids"], a["word_index"], a["switched"], strict=True):
        if max_length is not None:
            assert len(out) <= max_length
        if max_length is None and p == 0.0:
            assert out == row
        # Untouched tokens are copied in order from the input.
        kept = [t for t, s in zip(out, switched, strict=True) if not s]
        assert all(t in row for t in kept)
        assert words == sorted(words)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), bad=st.one_of(st.integers(-(2**40), -1), st.integers(250002, 2**40)))
def test_out_of_range_ids_raise_in_both(setup, data, bad):
    tok, lexicons, pool = setup
    batch = data.draw(batches(pool))
    row = data.draw(st.integers(0, len(batch) - 1))
    batch[row] = batch[row] + [bad]
    for backend in ("native", "numba"):
        with pytest.raises(ValueError, match="outside the vocabulary"):
            CodeSwitcher(tok, lexicons, target_language="de", backend=backend)(batch)


@pytest.mark.parametrize("options", [(False, False, False), (True, False, False), (True, True, True)])
def test_native_equals_numba_on_squad(e5_tokenizer, data_dir, options):
    """Real text (SQuAD dev questions and contexts) through MUSE en-de / en-ar subsets, ML-CS."""
    squad = json.loads((data_dir / "squad" / "dev-v1.1.json").read_text("utf-8"))
    paragraphs = [p for article in squad["data"][:4] for p in article["paragraphs"]]
    questions = [q["question"] for p in paragraphs for q in p["qas"]]
    texts = questions[:400] + [p["context"] for p in paragraphs[:40]]
    lexicons = {}
    for lang in ("de", "ar"):
        lines = (data_dir / "muse" / f"en-{lang}.txt").read_text("utf-8").splitlines()[:15000]
        lexicons[lang] = Lexicon.from_pairs((line.split("\t") for line in lines), "en", lang)
    keep_case, skip_stopwords, protect_names = options
    kwargs = dict(p=0.7, mode="multilingual", keep_case=keep_case, skip_stopwords=skip_stopwords,
                  protect_names=protect_names)
    native = CodeSwitcher(e5_tokenizer, lexicons, backend="native", num_threads=2, **kwargs)
    compiled = dict(zip(native.languages, native.lexicons, strict=True))
    numba = CodeSwitcher(e5_tokenizer, compiled, backend="numba", **kwargs)
    batch = e5_tokenizer(texts)["input_ids"]
    assert native(batch, return_provenance=True) == numba(batch, return_provenance=True)
