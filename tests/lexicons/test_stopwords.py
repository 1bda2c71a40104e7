"""NLTK's stopword lists, shared by the Wikipedia-title filter and the engine's skip_stopwords."""

from __future__ import annotations

import pytest

from xcs.lexicons import filters, wikititles


def test_english_is_built_in():
    words = filters.stopwords("en")
    assert len(words) == 179 and {"the", "don't", "i", "it's", "won"} <= words
    assert wikititles.ENGLISH_STOPWORDS is words


def test_unknown_languages_are_named():
    with pytest.raises(ValueError, match="no stopword list for language 'tlh'; known: en, ar, da"):
        filters.stopwords("tlh")


def test_other_languages_come_from_the_nltk_corpus():
    try:
        words = filters.stopwords("de")
    except ValueError as exc:  # the corpus is a separate download
        assert "NLTK stopword corpus is not installed" in str(exc) and "'de'" in str(exc)
    else:
        assert "und" in words
