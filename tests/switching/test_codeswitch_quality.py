"""Switch quality on the real (XLM-R) tokenizer: case kept, contractions whole, names and stopwords.

Every behaviour is checked on both backends; they must agree token for token.
"""

from __future__ import annotations

import numpy as np
import pytest

from xcs.lexicons.lexicon import Lexicon
from xcs.switching.compiled_lexicon import CompiledLexicon
from xcs.switching.switcher import CodeSwitcher
from xcs.switching.vocab import APOSTROPHE, SENTENCE_END, VocabTable, unit_start_mask

BACKENDS = ("native", "numba")


@pytest.fixture(scope="module")
def italian(e5_tokenizer):
    pairs = [("paris", "parigi"), ("normandy", "normandia"), ("city", "città"), ("new york", "nuova york"),
             ("new york city", "città di new york"), ("new", "nuovo"), ("is", "è"), ("big", "grande"),
             ("the", "il"), ("cat", "gatto"), ("the hague", "l'aia"), ("smith", "fabbro"),
             ("army", "esercito"), ("don", "donna"), ("t", "tonnellata"), ("i", "io"), ("s", "secondo"),
             ("we", "noi"), ("ll", "lire"), ("don't", "non"), ("rock", "roccia"), ("roll", "rotolo"),
             ("cats", "gatti"), ("toys", "giocattoli"), ("fell", "cadde"), ("when", "quando"),
             ("did", "fece"), ("fall", "cadere")]
    return CompiledLexicon.compile(Lexicon.from_pairs(pairs, "en", "it"), e5_tokenizer)


def switch(tok, lexicon, texts, **options):
    """Decoded outputs at p = 1 (every unit looked up), checked equal on both backends."""
    outputs = [CodeSwitcher(tok, {"it": lexicon}, p=1.0, backend=b, **options)(tok(texts)["input_ids"],
                                                                                return_provenance=True)
               for b in BACKENDS]
    assert outputs[0] == outputs[1]
    return [tok.decode(row, skip_special_tokens=True) for row in outputs[0]["input_ids"]]


def test_keep_case_title_upper_lower(e5_tokenizer, italian):
    texts = ["Paris is big", "PARIS IS BIG", "paris is big", "Normandy", "in New York City", "NEW YORK"]
    assert switch(e5_tokenizer, italian, texts) == [
        "Parigi è grande",
        "PARIGI IS BIG",  # words of fewer than four letters are not looked up upper-cased
        "parigi è grande",
        "Normandia",
        "in Città Di New York",  # several capitalised words: every word of the translation
        "NUOVA YORK",
    ]


def test_keep_case_false_writes_translations_as_written(e5_tokenizer, italian):
    texts = ["Paris is big", "PARIS", "in New York City"]
    assert switch(e5_tokenizer, italian, texts, keep_case=False) == [
        "parigi è grande", "parigi", "in città di new york"]


def test_without_case_variants_translations_stay_as_written(e5_tokenizer):
    lexicon = Lexicon.from_pairs([("paris", "parigi")], "en", "it")
    plain = CompiledLexicon.compile(lexicon, e5_tokenizer, case_variants=False)
    assert plain.case_variants == 1
    # no upper-case keys either: "PARIS" is not found
    assert switch(e5_tokenizer, plain, ["Paris PARIS paris"]) == ["parigi PARIS parigi"]


def test_uncased_targets_keep_one_row_per_candidate(e5_tokenizer):
    lexicon = Lexicon.from_pairs([("paris", "باريس"), ("cat", "قطة")], "en", "ar")
    compiled = CompiledLexicon.compile(lexicon, e5_tokenizer)
    assert compiled.case_variants == 1
    assert switch(e5_tokenizer, compiled, ["Paris Cat"]) == ["باريس قطة"]


def test_short_upper_case_words_are_not_keys(e5_tokenizer):
    lexicon = Lexicon.from_pairs([("us", "noi"), ("it", "esso"), ("usa", "stati uniti")], "en", "it")
    compiled = CompiledLexicon.compile(lexicon, e5_tokenizer)
    # "US", "IT" (two letters) are acronyms, not shouted "us", "it"; "USA" is a key as written
    assert switch(e5_tokenizer, compiled, ["US IT us it Usa"]) == ["US IT noi esso Stati uniti"]


def test_contractions_switch_whole_or_not_at_all(e5_tokenizer, italian):
    texts = ["I don't know", "we'll see, it's late", "rock'n'roll", "O'Neill's cats' toys", "we’ll"]
    out = switch(e5_tokenizer, italian, texts)
    assert out[0] == "Io non know"  # the lexicon has "don't": switched whole
    assert out[1] == "we'll see, it's late"  # no "we'll", "it's": kept, never "noi'lire"
    assert out[2] == "rock'n'roll"
    assert out[3] == "O'Neill's gatti' giocattoli"  # "cats'" before a space: the apostrophe stands alone
    assert out[4] == "we’ll"  # the typographic apostrophe too
    for text in out:
        assert "donna" not in text and "tonnellata" not in text and "secondo" not in text


def test_unit_rule_matches_the_engine(e5_tokenizer, italian):
    texts = ["I don't know; it's O'Neill's 'quoted' rock'n'roll.", "'t", "don'", "x' y ’z"]
    batch = e5_tokenizer(texts)["input_ids"]
    table = VocabTable.for_tokenizer(e5_tokenizer)
    assert (table.token_class[batch[0]] == APOSTROPHE).sum() == 7  # all but the opening "▁'"
    assert (table.token_class[batch[0]] == SENTENCE_END).sum() == 1
    for backend in BACKENDS:
        cs = CodeSwitcher(e5_tokenizer, {"it": italian}, p=0.0, backend=backend)
        out = cs(batch, return_provenance=True)
        for row, words in zip(batch, out["word_index"], strict=True):
            starts = unit_start_mask(table.token_class, np.asarray(row), np.array([0, len(row)]))
            assert words == (np.cumsum(starts) - 1).tolist()
    units = unit_start_mask(table.token_class, np.asarray(batch[0]), np.array([0, len(batch[0])]))
    pieces = e5_tokenizer.convert_ids_to_tokens(batch[0])
    words = "".join(("|" if start else "") + piece for piece, start in zip(pieces, units, strict=True))
    assert words == "|<s>|▁I|▁don't|▁know|;|▁it's|▁O'Neill's|▁'|quoted|'|▁rock'n'roll|.|</s>"


def test_protect_names(e5_tokenizer, italian):
    texts = ["When did Paris fall?", "Paris fell.", "It fell. Paris fell.", "the cat of J. Smith",
             "the U.S. Army", "it is big in New York", "it is big in New Jersey", "— Paris fell"]
    assert switch(e5_tokenizer, italian, texts, protect_names=True) == [
        "Quando fece Paris cadere?",  # mid-sentence name: kept
        "Parigi cadde.",  # the first word of a text is not a name
        "It cadde. Parigi cadde.",  # nor the first word of a sentence
        "il gatto of J. Smith",  # a period after an initial does not end a sentence
        "il U.S. Army",
        "it è grande in Nuova York",  # a phrase key starting at a name switches whole
        "it è grande in New Jersey",  # "New" alone is protected
        "— Parigi cadde",  # punctuation before the first word
    ]
    unprotected = switch(e5_tokenizer, italian, texts[:1] + texts[3:4])
    assert unprotected == ["Quando fece Parigi cadere?", "il gatto of J. Fabbro"]


def test_skip_stopwords(e5_tokenizer, italian):
    texts = ["the cat is big", "The Hague is big", "I don't know"]
    assert switch(e5_tokenizer, italian, texts, skip_stopwords=True) == [
        "the gatto is grande",  # "the", "is" are NLTK stopwords
        "L'aia is grande",  # a phrase key starting with a stopword still switches
        "I don't know",  # "i", "don't" are stopwords
    ]
    custom = switch(e5_tokenizer, italian, texts[:1], skip_stopwords=True, stopwords=["cat"])
    assert custom == ["il cat è grande"]


def test_switch_rate_over_non_stopwords(e5_tokenizer, italian):
    ids = e5_tokenizer(["the cat and the city"] * 1500)["input_ids"]
    for backend in BACKENDS:
        cs = CodeSwitcher(e5_tokenizer, {"it": italian}, p=0.5, skip_stopwords=True, backend=backend)
        out = cs(ids, return_provenance=True)
        rows = zip(out["word_index"], out["switched"], strict=True)
        switched = {(i, w) for i, (words, flags) in enumerate(rows)
                    for w, s in zip(words, flags, strict=True) if s}
        assert {w for _, w in switched} <= {2, 5}  # "cat" and "city" only
        assert abs(len(switched) / (2 * len(ids)) - 0.5) < 0.03
