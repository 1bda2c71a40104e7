"""The noise-control lexicon: translations permuted across source words."""

from __future__ import annotations

from collections import Counter

import pytest

from xcs.experiment.methods import Method
from xcs.lexicons.filters import shuffle_translations
from xcs.lexicons.lexicon import Lexicon
from xcs.switching.recipe import SwitchingRecipe


def _lexicon(n=200):
    entries = {f"word{i}": [f"wort{i}", f"wörtchen{i}"][: 1 + i % 2] for i in range(n)}
    entries.update({f"new york {i}": [f"neu york {i}"] for i in range(20)})
    return Lexicon("en", "de", entries)


def test_same_sources_same_target_lists_other_owners():
    lex = _lexicon()
    shuffled = shuffle_translations(lex)
    assert list(shuffled.entries) == list(lex.entries)
    # every candidate list survives whole, as often as before: the token statistics are kept
    assert Counter(map(tuple, shuffled.entries.values())) == Counter(map(tuple, lex.entries.values()))
    moved = sum(shuffled[s] != lex[s] for s in lex.entries)
    assert moved > 0.9 * len(lex)  # the meanings are gone
    for source, targets in shuffled.entries.items():  # phrases get phrases, words get words
        assert targets[0].startswith("neu york" if source.startswith("new york") else "wort")


def test_fixed_per_language_pair_and_seedable():
    lex = _lexicon()
    assert shuffle_translations(lex).entries == shuffle_translations(lex).entries
    assert shuffle_translations(lex).entries != shuffle_translations(Lexicon("en", "ru", lex.entries)).entries
    assert shuffle_translations(lex, seed=1).entries != shuffle_translations(lex, seed=2).entries


def test_method_option_loads_the_shuffled_lexicon(data_dir):
    data = data_dir
    plain = SwitchingRecipe(languages=["de"]).load_lexicons(data)["de"]
    control = SwitchingRecipe(languages=["de"], shuffle_translations=True).load_lexicons(data)["de"]
    assert control.entries == shuffle_translations(plain).entries
    assert sorted(control.entries) == sorted(plain.entries) and control.entries != plain.entries


def test_option_is_refused_where_nothing_switches():
    with pytest.raises(ValueError, match="shuffle_translations"):
        Method.from_dict("en", {"strategy": "zero-shot", "shuffle_translations": True})
