"""CodeSwitcher.switch_texts: text in, code-switched text out, deterministic."""

from __future__ import annotations

import pytest

from xcs.lexicons.lexicon import Lexicon
from xcs.switching.switcher import CodeSwitcher


@pytest.fixture(scope="module")
def switcher(e5_tokenizer):
    words = [("cat", "Katze"), ("house", "Haus"), ("sleeps", "schläft"), ("garden", "Garten"),
             ("mat", "Matte")]
    return CodeSwitcher(e5_tokenizer, {"de": Lexicon.from_pairs(words, "en", "de")}, p=0.5)


TEXTS = ["The cat sleeps in the house, near the garden on a mat.", "A garden!", ""]


def test_text_out_is_the_decoded_switch_of_the_token_ids(e5_tokenizer, switcher):
    out = switcher.switch_texts(TEXTS, [5, 6, 7])
    ids = switcher(e5_tokenizer(TEXTS[:2], add_special_tokens=False)["input_ids"], example_indices=[5, 6])
    assert out[:2] == e5_tokenizer.batch_decode(ids, clean_up_tokenization_spaces=False)
    assert out[2] == ""  # an empty text stays empty
    full = CodeSwitcher(e5_tokenizer, {"de": switcher.lexicons[0]}, p=1.0)
    assert full.switch_texts(["The cat sleeps."]) == ["The Katze schläft."]


def test_deterministic_per_index_and_epoch(switcher):
    texts = [TEXTS[0]] * 12
    a = switcher.switch_texts(texts, range(12))
    assert a == switcher.switch_texts(texts, range(12))
    assert len(set(a)) > 1  # example indices draw differently
    assert switcher.switch_texts(texts[:1], [3]) == a[3:4]  # independent of the batch around it
    epochs = {tuple(switcher.switch_texts(texts, range(12), epoch=e)) for e in range(4)}
    assert len(epochs) > 1


def test_bad_texts_are_named(switcher):
    with pytest.raises(TypeError, match="texts must be a list of strings, got one string"):
        switcher.switch_texts("The cat")
    with pytest.raises(TypeError, match=r"texts: row 1 must be a string, got NoneType"):
        switcher.switch_texts(["a", None])
