"""xcs.experiment.methods: a method's checks, its flat table and record, translate-test."""

from __future__ import annotations

import numpy as np
import pytest

from xcs.experiment.methods import Method, legacy_method_record
from xcs.lexicons.lexicon import Lexicon
from xcs.models.translate_test import TranslateTestEncoder
from xcs.switching.recipe import SwitchingRecipe


def test_method_validation():
    with pytest.raises(ValueError, match="strategy"):
        Method("x", strategy="magic")
    with pytest.raises(ValueError, match="languages"):
        Method.from_dict("x", {"strategy": "code-switch"})
    with pytest.raises(ValueError, match="unknown option"):
        Method.from_dict("x", {"languages": ["de"], "rate": 0.3})
    with pytest.raises(ValueError, match=r"p\n  Input should be less than or equal to 1"):
        Method.from_dict("x", {"languages": ["de"], "p": 1.5})
    assert Method.from_dict("z", {"strategy": "zero-shot"}).side_languages("query") == []


def test_a_flat_table_is_sorted_into_the_recipe_and_the_method():
    method = Method.from_dict("ml", {"languages": ["de", "ru"], "p": 0.3, "control": "en",
                                     "train": {"lr": 1e-5}})
    assert method.recipe == SwitchingRecipe(languages=["de", "ru"], p=0.3)
    assert method.control == "en" and method.train == {"lr": 1e-5}
    assert method.switch_languages == ["de", "ru"] and method.switching is method.recipe
    # a strategy that does not switch has no training recipe, whatever its table says
    assert Method.from_dict("tt", {"strategy": "translate-test", "languages": ["de"]}).switching is None
    # the record is the flat table with every default: the recipe's keys next to the method's own
    record = method.record()
    assert record["languages"] == ["de", "ru"] and record["control"] == "en" and "recipe" not in record
    recipe_keys = SwitchingRecipe.field_names()
    assert Method.from_dict("ml", {k: record[k] for k in (*recipe_keys, "control", "train")}) == method


def test_align_weight_lives_in_train_only():
    # an old config's method-level align_weight moves into the method's train table
    method = Method.from_dict("a", {"languages": ["de"], "align_weight": 0.5})
    assert method.train == {"align_weight": 0.5} and "align_weight" not in method.record()
    with pytest.raises(ValueError, match="align_weight is set twice"):
        Method.from_dict("a", {"languages": ["de"], "align_weight": 0.5, "train": {"align_weight": 0.1}})
    # and an old run record reads back in today's form
    old = {"name": "a", "kind": "code-switch", "languages": ["de"], "align_weight": 0.5, "train": {}}
    assert legacy_method_record(old)["train"] == {"align_weight": 0.5}
    assert legacy_method_record(old)["strategy"] == "code-switch"
    assert legacy_method_record(old)["keep_case"] is False  # the behaviour before the option existed


class _Recorder:
    description = "recorder"
    tokenizer = None

    def __init__(self):
        self.seen = []

    def encode(self, texts, kind=None, **kwargs):
        self.seen.extend(texts)
        return np.zeros((len(texts), 2), dtype=np.float32)


def test_translate_test_maps_words_to_english_and_keeps_english():
    # "was" is also a frequent English word: kept, so that English texts pass through unchanged
    de_en = Lexicon.from_mapping({"fluss": ["river"], "schloss": ["castle"], "was": ["what"]}, "de", "en")
    base = _Recorder()
    encoder = TranslateTestEncoder(base, {"de": de_en})
    encoder.encode(["Was ist das Schloss am Fluss?", "The river was long."], kind="query")
    assert base.seen == ["Was ist das castle am river ?", "The river was long ."]
