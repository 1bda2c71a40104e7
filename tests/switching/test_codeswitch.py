"""CodeSwitcher behaviour on the default (XLM-R) tokenizer: both backends, determinism, options."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from xcs.lexicons.lexicon import Lexicon
from xcs.switching.compiled_lexicon import CompiledLexicon
from xcs.switching.switcher import CodeSwitcher

SENTENCES = [
    "When did the cat leave the house?",
    "The house of the cat is in New York City, isn't it?",
    "A dog, a cat and a house.",
    "Nothing here matches anything.",
    "new york is big and the city never sleeps",
]


@pytest.fixture(scope="module")
def lexicons(e5_tokenizer):
    de = Lexicon.from_pairs(
        [("house", "Haus"), ("house", "Gebäude"), ("cat", "Katze"), ("the", "die"), ("the", "der"),
         ("dog", "Hund"), ("new york", "New York"), ("new york city", "Big Apple"), ("city", "Stadt"),
         ("is", "ist"), ("big", "groß")],
        "en", "de",
    )
    ar = Lexicon.from_pairs([("house", "بيت"), ("cat", "قطة"), ("the", "ال"), ("dog", "كلب")], "en", "ar")
    return {"de": CompiledLexicon.compile(de, e5_tokenizer), "ar": CompiledLexicon.compile(ar, e5_tokenizer)}


@pytest.fixture(scope="module")
def batch(e5_tokenizer):
    return e5_tokenizer(SENTENCES)["input_ids"]


def switchers(tok, lexicons, **kwargs):
    return [CodeSwitcher(tok, lexicons, backend=b, **kwargs) for b in ("native", "numba")]


@pytest.mark.parametrize("kwargs", [
    {"target_language": "de", "p": 0.5},
    {"target_language": "de", "p": 1.0, "max_length": 9},
    {"mode": "multilingual", "p": 0.7, "seed": 3},
    {"mode": "multilingual", "p": 1.0, "language_weights": {"ar": 1.0, "de": 3.0}, "max_length": 12},
    {"mode": "multilingual", "p": 0.8, "language_per": "example", "seed": 5, "max_length": 11},
    {"mode": "multilingual", "p": 0.9, "example_p": 0.5, "seed": 2},
    {"target_language": "ar", "p": 1.0, "example_p": 0.3, "max_length": 7},
])
def test_native_and_numba_identical(e5_tokenizer, lexicons, batch, kwargs):
    native, numba = switchers(e5_tokenizer, lexicons, **kwargs)
    for epoch in (0, 1):
        a = native(batch, epoch=epoch, return_provenance=True)
        b = numba(batch, epoch=epoch, return_provenance=True)
        assert a == b


def test_output_independent_of_threads_and_batch_split(e5_tokenizer, lexicons, batch):
    many = batch * 40
    one = CodeSwitcher(e5_tokenizer, lexicons, target_language="de", num_threads=1)
    two = CodeSwitcher(e5_tokenizer, lexicons, target_language="de", num_threads=2)
    whole = one(many)
    assert two(many) == whole
    halves = one(many[:77]) + one(many[77:], offset=77)
    assert halves == whole
    shuffled = np.random.default_rng(0).permutation(len(many))
    again = one([many[i] for i in shuffled], example_indices=shuffled)
    assert [again[j] for j in np.argsort(shuffled)] == whole


def test_p_zero_is_identity_and_p_one_switches_every_entry(e5_tokenizer, lexicons, batch):
    assert CodeSwitcher(e5_tokenizer, lexicons, p=0.0, target_language="de")(batch) == batch
    out = CodeSwitcher(e5_tokenizer, lexicons, p=1.0, target_language="de")(batch)
    text = e5_tokenizer.decode(out[2], skip_special_tokens=True)
    assert "Hund" in text and "Katze" in text and ("Haus" in text or "Gebäude" in text)
    assert "cat" not in text and "house" not in text


def test_special_tokens_untouched_and_phrase_longest_match(e5_tokenizer, lexicons, batch):
    out = CodeSwitcher(e5_tokenizer, lexicons, p=1.0, target_language="de")(batch, return_provenance=True)
    for ids in out["input_ids"]:
        assert ids[0] == e5_tokenizer.cls_token_id and ids[-1] == e5_tokenizer.sep_token_id
    assert "Big Apple" in e5_tokenizer.decode(out["input_ids"][1])  # 3-word key beats "new york"
    # "new york" at the start of sentence 4 (lowercase) is the longest match there.
    assert e5_tokenizer.decode(out["input_ids"][4], skip_special_tokens=True).startswith("New York ist")
    assert set(out["language"][1]) == {-1, 0}
    switched = [s for s in out["switched"][1]]
    assert 1 in switched and switched[0] == 0 and switched[-1] == 0


def test_epoch_and_seed_change_the_draws(e5_tokenizer, lexicons, batch):
    many = batch * 20
    cs = CodeSwitcher(e5_tokenizer, lexicons, target_language="de", p=0.5)
    assert cs(many, epoch=0) != cs(many, epoch=1)
    assert cs(many) != CodeSwitcher(e5_tokenizer, lexicons, target_language="de", seed=1)(many)
    cs.set_epoch(1)
    assert cs(many) == cs(many, epoch=1)


def test_switch_rate_matches_p(e5_tokenizer, lexicons):
    ids = e5_tokenizer(["the cat and the dog"] * 2000)["input_ids"]
    for p in (0.2, 0.5):
        out = CodeSwitcher(e5_tokenizer, lexicons, target_language="de", p=p)(ids, return_provenance=True)
        # Four lexicon words per sentence; count switched word units.
        n_switched = sum(len(set(np.asarray(w)[np.asarray(s) == 1])) for w, s in
                         zip(out["word_index"], out["switched"], strict=True))
        assert abs(n_switched / (4 * len(ids)) - p) < 0.02


def test_language_weights(e5_tokenizer, lexicons):
    ids = e5_tokenizer(["the cat and the dog"] * 1000)["input_ids"]
    only_ar = CodeSwitcher(e5_tokenizer, lexicons, mode="multilingual", p=1.0,
                           language_weights={"de": 0.0, "ar": 1.0})(ids, return_provenance=True)
    assert {lang for row in only_ar["language"] for lang in row} == {-1, 1}
    mixed = CodeSwitcher(e5_tokenizer, lexicons, mode="multilingual", p=1.0,
                         language_weights={"de": 3.0, "ar": 1.0})(ids, return_provenance=True)
    langs = np.concatenate([np.asarray(row) for row in mixed["language"]])
    words = np.concatenate([np.asarray(row) for row in mixed["word_index"]])
    first = np.r_[True, words[1:] != words[:-1]] & (langs >= 0)
    share_de = np.mean(langs[first] == 0)
    assert abs(share_de - 0.75) < 0.03


def test_language_per_example_is_bilingual_switching_into_the_drawn_language(e5_tokenizer, lexicons, batch):
    many = batch * 60
    cs = CodeSwitcher(e5_tokenizer, lexicons, mode="multilingual", p=0.7, seed=4, language_per="example",
                      language_weights={"ar": 1.0, "de": 3.0})
    out = cs(many, return_provenance=True)
    chosen = cs.example_languages(np.arange(len(many)))
    assert abs(np.mean(chosen == cs.languages.index("de")) - 0.75) < 0.05  # weights hold per example
    bilingual = {lang: CodeSwitcher(e5_tokenizer, lexicons, target_language=lang, p=0.7, seed=4)(
        many, return_provenance=True) for lang in cs.languages}
    for i, lang in enumerate(chosen.tolist()):
        expected = bilingual[cs.languages[lang]]
        assert out["input_ids"][i] == expected["input_ids"][i]  # the same draws, one lexicon
        assert set(out["language"][i]) <= {-1, lang}  # provenance names the drawn language
    # A language index other than the example index: rows sharing it share the language.
    shared = cs(many[:6], pair_indices=[9, 9, 9, 2, 2, 2], return_provenance=True)
    for rows in ((0, 1, 2), (3, 4, 5)):
        assert len({lang for i in rows for lang in shared["language"][i]} - {-1}) <= 1
    with pytest.raises(ValueError, match="pair_index has shape"):
        cs(batch, pair_indices=[1, 2])
    with pytest.raises(ValueError, match="language_per='example' is for mode='multilingual'"):
        CodeSwitcher(e5_tokenizer, lexicons, target_language="de", language_per="example")
    with pytest.raises(ValueError, match="language_per must be one of"):
        CodeSwitcher(e5_tokenizer, lexicons, mode="multilingual", language_per="phrase")


@pytest.mark.parametrize("kwargs", [{"target_language": "de"}, {"mode": "multilingual"},
                                    {"mode": "multilingual", "language_per": "example"}])
def test_example_p_leaves_a_share_of_examples_in_english(e5_tokenizer, lexicons, batch, kwargs):
    many = batch * 80
    hybrid = CodeSwitcher(e5_tokenizer, lexicons, p=1.0, seed=3, example_p=0.4, max_length=10, **kwargs)
    everything = CodeSwitcher(e5_tokenizer, lexicons, p=1.0, seed=3, max_length=10, **kwargs)
    english = CodeSwitcher(e5_tokenizer, lexicons, p=0.0, seed=3, max_length=10, **kwargs)
    switched = hybrid.switched_examples(np.arange(len(many)))
    assert abs(switched.mean() - 0.4) < 0.05
    out, full, none = hybrid(many), everything(many), english(many)
    for i, row in enumerate(out):  # a switched example is as without example_p; the others English
        assert row == (full[i] if switched[i] else none[i])
    with pytest.raises(ValueError, match=r"example_p must be a probability in \[0, 1\], got 1.5"):
        CodeSwitcher(e5_tokenizer, lexicons, example_p=1.5, **kwargs)


def test_truncation_keeps_closing_special(e5_tokenizer, lexicons, batch):
    for backend in ("native", "numba"):
        cs = CodeSwitcher(e5_tokenizer, lexicons, target_language="de", max_length=5, backend=backend)
        for ids in cs(batch):
            assert len(ids) <= 5 and ids[-1] == e5_tokenizer.sep_token_id
    no_closing = [row[:-1] for row in batch]
    out = CodeSwitcher(e5_tokenizer, lexicons, target_language="de", p=0.0, max_length=4)(no_closing)
    assert out == [row[:4] for row in no_closing]


def test_padded_input_matches_lists(e5_tokenizer, lexicons, batch):
    import torch

    enc = e5_tokenizer(SENTENCES, padding=True, return_tensors="pt")
    cs = CodeSwitcher(e5_tokenizer, lexicons, mode="multilingual", p=0.6)
    padded = cs(enc["input_ids"], enc["attention_mask"], return_provenance=True)
    lists = cs(batch, return_provenance=True)
    for i, row in enumerate(lists["input_ids"]):
        n = int(padded["attention_mask"][i].sum())
        assert padded["input_ids"][i, :n].tolist() == row
        assert (padded["input_ids"][i, n:] == e5_tokenizer.pad_token_id).all()
        assert padded["word_index"][i, :n].tolist() == lists["word_index"][i]
    assert padded["input_ids"].dtype == np.int64
    assert isinstance(torch.from_numpy(padded["input_ids"]), torch.Tensor)


def test_pickle_roundtrip(e5_tokenizer, lexicons, batch):
    compiled = lexicons["de"]
    again = pickle.loads(pickle.dumps(compiled))
    assert isinstance(again, CompiledLexicon) and again.fingerprint == compiled.fingerprint
    for name, array in compiled.arrays.items():
        np.testing.assert_array_equal(again.arrays[name], array)
    cs = CodeSwitcher(e5_tokenizer, lexicons, target_language="de")
    assert pickle.loads(pickle.dumps(cs))(batch) == cs(batch)


def test_compile_case_variants_and_filters(e5_tokenizer):
    pairs = [("paris", "Paris"), ("USA", "EE.UU."), (".", "punkt"), ("cat", "<unk>")]
    lex = Lexicon.from_pairs(pairs, "en", "es")
    compiled = CompiledLexicon.compile(lex, e5_tokenizer)
    # cat's only candidate is the special <unk>: dropped.
    assert compiled.num_entries == 3
    cs = CodeSwitcher(e5_tokenizer, {"es": compiled}, p=1.0)
    text = ["paris Paris PARIS USA usa Usa cat ."]
    out = e5_tokenizer.decode(cs(e5_tokenizer(text)["input_ids"])[0], skip_special_tokens=True)
    assert out == "Paris Paris PARIS EE.UU. EE.UU. EE.UU. cat punkt"


def test_empty_lexicon_is_refused_and_numpy_probability(e5_tokenizer, batch):
    empty = CompiledLexicon.compile(Lexicon("en", "de"), e5_tokenizer)
    assert empty.num_keys == 0 and empty.max_units == 0
    one = CompiledLexicon.compile(Lexicon.from_pairs([("zzzqqq", "x")], "en", "de"), e5_tokenizer)
    for backend in ("native", "numba"):
        with pytest.raises(ValueError, match="would switch nothing"):  # a zero-shot run in disguise
            CodeSwitcher(e5_tokenizer, {"de": empty}, backend=backend)
        assert CodeSwitcher(e5_tokenizer, {"de": one}, p=np.float32(1.0), backend=backend)(batch) == batch
