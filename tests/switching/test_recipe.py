"""xcs.switching.recipe: the recipe's checks, sides and p schedule, and the batches it makes
(xcs.training.collated.recipe_batch_builder)."""

from __future__ import annotations

import numpy as np
import pytest

from xcs.data.pairs import TrainPair
from xcs.lexicons.lexicon import Lexicon
from xcs.switching.recipe import SwitchingRecipe
from xcs.training.collated import recipe_batch_builder

EN_DE = {"river": ["fluss"], "castle": ["burg"], "music": ["musik"], "what": ["was"], "query": ["abfrage"],
         "passage": ["durchgang"], "the": ["die"], "about": ["über"], "number": ["nummer"]}
EN_RU = {"river": ["река"], "castle": ["замок"], "music": ["музыка"], "what": ["что"], "the": ["эта"]}


def lexicons():
    return {"de": Lexicon.from_mapping(EN_DE, "en", "de"), "ru": Lexicon.from_mapping(EN_RU, "en", "ru")}


PAIRS = [TrainPair("What about the river?", "The river number one is long."),
         TrainPair("What about the castle music?", "The castle has music."),
         TrainPair("What about the river castle?", "The music of the river.")]


def decode(tokenizer, tokens):
    return [tokenizer.decode(row[mask.bool()]) for row, mask in zip(tokens.input_ids, tokens.attention_mask,
                                                                    strict=True)]


def test_recipe_validation_and_sides():
    with pytest.raises(ValueError, match=r"p\n  Input should be less than or equal to 1"):
        SwitchingRecipe(languages=["de"], p=1.5)
    with pytest.raises(ValueError, match=r"2 weights for the 3 languages"):
        SwitchingRecipe(languages=["de", "ru", "ar"], weights=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"weights.1\n  Input should be greater than or equal to 0"):
        SwitchingRecipe(languages=["de", "ru"], weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="positive sum"):
        SwitchingRecipe(languages=["de", "ru"], weights=[0.0, 0.0])
    with pytest.raises(ValueError, match="Input should be a valid list"):
        SwitchingRecipe(languages="de")  # strict: a string is not a list of languages
    one_language_side = SwitchingRecipe(languages=["de", "ru"], query_languages=["de"], weights=[1.0, 3.0])
    assert one_language_side.weights == [1.0, 3.0]  # a one-language side switches bilingually, unweighted
    r = SwitchingRecipe(languages=["de", "ru"], query_languages=["de"], sides="both")
    assert r.side_languages("query") == ["de"] and r.side_languages("document") == ["de", "ru"]
    assert r.target_languages == ["de", "ru"]
    assert SwitchingRecipe(languages=["de"], sides="query").side_languages("document") == []
    assert SwitchingRecipe().target_languages == []  # switches nothing: English only


def test_p_schedule_rises_linearly():
    r = SwitchingRecipe(languages=["de"], p=0.8, p_start=0.2)
    assert r.scheduled and [round(r.p_at(s, 4), 6) for s in range(4)] == [0.2, 0.4, 0.6, 0.8]
    constant = SwitchingRecipe(languages=["de"], p=0.3)
    assert not constant.scheduled and constant.p_at(7, 10) == 0.3


def test_switchers_follow_the_recipe(e5_tokenizer):
    switchers = SwitchingRecipe(languages=["de", "ru"], query_languages=["de"], weights=[1.0, 3.0],
                                language_per="example", p=0.3, keep_case=False).switchers(
        e5_tokenizer, lexicons(), seed=4)
    query, document = switchers["query"], switchers["document"]
    assert query.mode == "bilingual" and document.mode == "multilingual"
    assert document.language_per == "example" and query.p == document.p == 0.3
    assert not query.keep_case and query.seed == document.seed == 4
    assert SwitchingRecipe(languages=["de"], sides="query").switchers(e5_tokenizer, lexicons()).keys() == {
        "query"}


def test_builder_switches_the_chosen_side_and_never_the_prefix(e5_tokenizer):
    recipe = SwitchingRecipe(languages=["de"], p=1.0, sides="document")
    builder = recipe_batch_builder(e5_tokenizer, recipe, lexicons=lexicons(), seed=0, align=True)
    batch = builder(PAIRS, [[], [], []], np.arange(3), epoch=0, step=0)
    queries = decode(e5_tokenizer, batch.queries)
    documents = decode(e5_tokenizer, batch.documents)
    assert queries[0] == "<s> query: What about the river?</s>"  # query side untouched
    assert documents[0].startswith("<s> passage: ")  # "passage" is in the lexicon, still not switched
    assert "fluss" in documents[0] and "nummer" in documents[0] and "river" not in documents[0]
    originals = decode(e5_tokenizer, batch.document_originals)
    assert originals[0] == "<s> passage: The river number one is long.</s>"
    assert batch.document_ids.shape == (3,)


def test_builder_is_deterministic_per_epoch_and_p0_is_zero_shot(e5_tokenizer):
    recipe = SwitchingRecipe(languages=["de", "ru"], p=0.5)
    a = recipe_batch_builder(e5_tokenizer, recipe, lexicons=lexicons(), seed=1)
    b = recipe_batch_builder(e5_tokenizer, recipe, lexicons=lexicons(), seed=1)
    ids = np.array([4, 9, 11])
    first = a(PAIRS, [[], [], []], ids, epoch=0, step=0)
    again = b(PAIRS, [[], [], []], ids, epoch=0, step=0)
    assert np.array_equal(first.queries.input_ids, again.queries.input_ids)
    draws = {tuple(a(PAIRS, [[], [], []], ids, epoch=e, step=0).documents.input_ids.flatten().tolist())
             for e in range(6)}
    assert len(draws) > 1  # a new epoch draws a new pattern
    zero_shot = recipe_batch_builder(e5_tokenizer, None)
    none = recipe_batch_builder(e5_tokenizer, SwitchingRecipe(languages=["de"], p=0.0), lexicons=lexicons())
    for x, y in ((zero_shot(PAIRS, [[], [], []], ids, 0, 0)), none(PAIRS, [[], [], []], ids, 0, 0)), :
        assert np.array_equal(x.queries.input_ids, y.queries.input_ids)
        assert np.array_equal(x.documents.input_ids, y.documents.input_ids)


def test_language_per_example_switches_each_pair_into_one_language(e5_tokenizer):
    recipe = SwitchingRecipe(languages=["de", "ru"], p=1.0, language_per="example")
    builder = recipe_batch_builder(e5_tokenizer, recipe, lexicons=lexicons(), seed=0)
    pairs = PAIRS * 8
    batch = builder(pairs, [[]] * len(pairs), np.arange(len(pairs)), epoch=0, step=0)
    languages = set()
    for query, document in zip(decode(e5_tokenizer, batch.queries), decode(e5_tokenizer, batch.documents),
                               strict=True):
        text = query + document
        german, russian = "fluss" in text or "burg" in text, "река" in text or "замок" in text
        assert german != russian  # one language per training pair, on both sides
        languages.add("de" if german else "ru")
    assert languages == {"de", "ru"}


def test_builder_hard_negatives_follow_the_positives(e5_tokenizer):
    builder = recipe_batch_builder(e5_tokenizer, None)
    negatives = [["neg a1", "neg a2"], ["neg b1", "neg b2"], ["neg c1", "neg c2"]]
    batch = builder(PAIRS, negatives, np.arange(3), epoch=0, step=0)
    documents = decode(e5_tokenizer, batch.documents)
    assert len(documents) == 9
    assert documents[3] == "<s> passage: neg a1</s>" and documents[8] == "<s> passage: neg c2</s>"


def test_missing_lexicon_is_a_clear_error(e5_tokenizer):
    with pytest.raises(ValueError, match=r"no lexicon given for \['zh'\]"):
        recipe_batch_builder(e5_tokenizer, SwitchingRecipe(languages=["zh"]), lexicons=lexicons())


