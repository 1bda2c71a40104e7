"""Type-level word vectors from the real default encoder, and the en-de lexicon they induce."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xcs.lexicons.encoder_embeddings import (
    cached_word_vectors,
    encode_words,
    induce_encoder_lexicon,
    tokenizer_words,
    vocabulary,
)
from xcs.lexicons.lexicon import Lexicon
from xcs.lexicons.quality import precision_at_k

pytestmark = pytest.mark.slow


def test_vocabulary_is_frequent_words_in_the_language_script():
    words = vocabulary("ru", 300)
    assert len(words) == 300 and words[:3] == ["в", "и", "на"]
    assert all(any("\u0400" <= c <= "\u04ff" for c in w) for w in words)


def test_a_language_wordfreq_lacks_takes_its_words_from_the_tokenizer(default_encoder):
    # wordfreq has no Thai list; mE5's unigram model ranks its Thai pieces by log-probability
    with pytest.raises(ValueError, match="no word list for language 'th'"):
        vocabulary("th", 100)
    words = vocabulary("th", 500, default_encoder.tokenizer)
    assert len(words) == 500 == len(set(words))
    assert "ที่" in words[:5] and "และ" in words[:10]  # "that", "and"
    assert all(len(w) >= 2 and all("\u0e00" <= c <= "\u0e7f" for c in w) for w in words)
    everything = vocabulary("th", 100_000, default_encoder.tokenizer)
    assert 3000 < len(everything) < 5000 and everything[:500] == words
    # a covered language ignores the tokenizer
    assert vocabulary("ru", 50, default_encoder.tokenizer) == vocabulary("ru", 50)
    with pytest.raises(ValueError, match="no word written in the script of 'ru'"):
        tokenizer_words(_LatinOnlyTokenizer(), "ru", 10)


class _LatinOnlyTokenizer:
    """The one attribute :func:`tokenizer_words` reads, for a WordPiece model with Latin pieces."""

    class backend_tokenizer:  # noqa: N801 - the HF attribute name
        @staticmethod
        def to_str() -> str:
            return '{"model": {"type": "WordPiece", "vocab": {"the": 0, "##ing": 1}}}'


def test_word_vectors_average_only_the_words_own_subword_states(default_encoder, tmp_path):
    words = ["unbelievably", "Haus", "的"]
    vectors = encode_words(default_encoder, words, layers=(7, None))
    tok, model = default_encoder.tokenizer, default_encoder.model
    for row, word in enumerate(words):
        ids = tok(word, add_special_tokens=True, return_tensors="pt")["input_ids"]
        assert ids[0, 0] == tok.bos_token_id and ids[0, -1] == tok.eos_token_id
        with torch.inference_mode():
            hidden = model(input_ids=ids, output_hidden_states=True).hidden_states
        for layer, index in ((7, 7), (None, -1)):
            expected = hidden[index][0, 1:-1].mean(dim=0)  # no <s>, no </s>, no prefix
            expected = (expected / expected.norm()).numpy()
            np.testing.assert_allclose(vectors[layer][row], expected, atol=1e-4)
    cached = cached_word_vectors(default_encoder, "xx", words, layer=7, directory=tmp_path)
    np.testing.assert_allclose(cached, vectors[7], atol=1e-6)
    assert len(list(tmp_path.iterdir())) == 1
    np.testing.assert_array_equal(cached_word_vectors(default_encoder, "xx", words, layer=7,
                                                      directory=tmp_path), cached)


def test_encoder_induced_en_de_lexicon_precision_against_muse(default_encoder, data_dir):
    # The 2k most frequent English words searched among the 10k most frequent German words
    # (layer 7, CSLS). Measured P@1 = 51.4% on 1861 MUSE-covered words; floor a few points lower.
    lex = induce_encoder_lexicon("en", "de", vocab_size=2000, tgt_vocab_size=10000,
                                 encoder=default_encoder, k=5)
    gold = Lexicon.load(data_dir / "muse" / "en-de.txt", "en", "de")
    precision, evaluated = precision_at_k(lex, gold, (1, 5))
    assert evaluated > 1800
    assert precision[1] >= 0.47
    assert precision[5] >= precision[1] + 0.1


def test_procrustes_on_a_seed_dictionary_sharpens_the_encoder_space(default_encoder, data_dir):
    # Same 2k -> 10k setting, rotated first with the XLING en-de seed dictionary. Measured P@1:
    # 58.2% on all MUSE-covered words (51.4% without the seed) and 53.4% on the 683 words outside
    # the seed (53.1% without).
    seed = Lexicon.load(data_dir / "xling" / "en-de.train.freq.5k.tsv", "en", "de")
    gold = Lexicon.load(data_dir / "muse" / "en-de.txt", "en", "de")
    lex = induce_encoder_lexicon("en", "de", vocab_size=2000, tgt_vocab_size=10000,
                                 encoder=default_encoder, seed=seed)
    held_out = [w for w in vocabulary("en", 2000) if w not in seed.entries]
    assert precision_at_k(lex, gold, (1,))[0][1] >= 0.54
    precision, evaluated = precision_at_k(lex, gold, (1,), sources=held_out)
    assert evaluated > 600 and precision[1] >= 0.49


def test_cli_builds_the_encoder_lexicon(tmp_path, data_dir):
    from xcs.cli import main

    out = tmp_path / "en-de.tsv"
    rc = main(["lexicon", "build", "--source", "encoder", "--src-lang", "en", "--tgt-lang", "de",
               "--vocab-size", "2000", "--tgt-vocab-size", "10000", "--quiet", "--out", str(out)])
    assert rc == 0
    lex = Lexicon.load(out, "en", "de")
    assert len(lex) == 2000 and all(len(t) == 1 for t in lex.entries.values())
    gold = Lexicon.load(data_dir / "muse" / "en-de.txt", "en", "de")
    assert precision_at_k(lex, gold, (1,))[0][1] >= 0.47
