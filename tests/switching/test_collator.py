"""CodeSwitchCollator: tokenize, switch each side into its own language, pad; deterministic."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from xcs.lexicons.lexicon import Lexicon
from xcs.switching.collator import CodeSwitchCollator
from xcs.switching.switcher import CodeSwitcher

FEATURES = [
    {"query": "Where does the cat sleep?", "document": "The cat sleeps in the house of the query.",
     "index": 7},
    {"query": "query house", "document": "A house.", "index": 3},
]


@pytest.fixture(scope="module")
def collator(e5_tokenizer):
    de = Lexicon.from_pairs([("cat", "Katze"), ("house", "Haus"), ("query", "Anfrage"), ("the", "die")],
                            "en", "de")
    ar = Lexicon.from_pairs([("cat", "قطة"), ("house", "بيت"), ("the", "ال"), ("query", "استعلام")],
                            "en", "ar")
    return CodeSwitchCollator(
        e5_tokenizer,
        CodeSwitcher(e5_tokenizer, {"de": de}, p=1.0),
        CodeSwitcher(e5_tokenizer, {"ar": ar}, p=1.0, seed=1),
        max_query_length=12,
        max_document_length=9,
        return_provenance=True,
    )


def test_sides_switch_into_their_languages_and_prefixes_stay(e5_tokenizer, collator):
    batch = collator(FEATURES)
    assert batch["query_input_ids"].dtype == torch.int64
    assert batch["query_input_ids"].shape == batch["query_attention_mask"].shape
    assert batch["document_input_ids"].shape[1] <= 9
    queries = e5_tokenizer.batch_decode(batch["query_input_ids"], skip_special_tokens=True)
    docs = e5_tokenizer.batch_decode(batch["document_input_ids"], skip_special_tokens=True)
    assert queries == ["query: Where does die Katze sleep?", "query: Anfrage Haus"]
    assert docs[0].startswith("passage: ال قطة") and docs[1] == "passage: A بيت."
    # Truncated document keeps its closing </s>; padding follows the mask.
    row = batch["document_input_ids"][0]
    assert row[-1].item() == e5_tokenizer.sep_token_id and batch["document_attention_mask"][0].all()
    pad = batch["query_attention_mask"] == 0
    assert (batch["query_input_ids"][pad] == e5_tokenizer.pad_token_id).all()
    # Provenance: prefix tokens are marked original, switched tokens carry their language.
    assert batch["query_switched"][1].tolist()[:4] == [0, 0, 0, 0]
    assert set(batch["document_language"][0].tolist()) == {-1, 0}


def test_deterministic_by_index_not_position(e5_tokenizer):
    words = ["the", "a", "cat", "sleeps", "in", "house", "of", "does", "where"]
    de = Lexicon.from_pairs([(w, w.upper()) for w in words], "en", "de")
    collator = CodeSwitchCollator(e5_tokenizer, CodeSwitcher(e5_tokenizer, {"de": de}, p=0.5),
                                  CodeSwitcher(e5_tokenizer, {"de": de}, p=0.5, seed=1))
    features = FEATURES * 8
    for i, f in enumerate(features):
        f = dict(f, index=i)
        features[i] = f
    a = collator(features)
    with pytest.warns(UserWarning, match="collated twice in epoch 0"):
        b = collator(features[::-1])
    n = len(features)
    assert torch.equal(a["document_ids"], b["document_ids"].flip(0))
    for key in (k for k in a if k != "document_ids"):
        side = key.split("_")[0]
        for i in range(n):
            length = int(a[f"{side}_attention_mask"][i].sum())
            assert torch.equal(a[key][i][:length], b[key][n - 1 - i][:length])
    assert len({tuple(row.tolist()) for row in a["query_input_ids"][::2]}) > 1  # draws differ by index


@pytest.mark.filterwarnings("ignore:example index")  # FEATURES * 3 repeats its indices on purpose
def test_dataloader_and_pickle(e5_tokenizer, collator):
    again = pickle.loads(pickle.dumps(collator))
    loader = torch.utils.data.DataLoader(FEATURES * 3, batch_size=2, collate_fn=again)
    batches = list(loader)
    assert len(batches) == 3
    assert torch.equal(batches[0]["query_input_ids"], collator(FEATURES)["query_input_ids"])


def test_side_without_switcher_and_bad_features(e5_tokenizer):
    plain = CodeSwitchCollator(e5_tokenizer, max_query_length=8, max_document_length=8)
    batch = plain([{"query": "a b c d e f g h i j", "document": "x"}])
    ids = batch["query_input_ids"][0].tolist()
    assert len(ids) == 8 and ids[-1] == e5_tokenizer.sep_token_id
    assert e5_tokenizer.decode(ids, skip_special_tokens=True).startswith("query: a")
    with pytest.raises(KeyError, match="'document'"):
        plain([{"query": "a"}])
    with pytest.raises(ValueError, match="empty"):
        plain([])
    with pytest.raises(ValueError, match="no room"):
        CodeSwitchCollator(e5_tokenizer, max_query_length=3)


def test_one_switcher_on_both_sides_draws_each_side_apart(e5_tokenizer):
    words = ["the", "a", "cat", "sleeps", "in", "house", "of", "does", "where", "garden", "on", "mat"]
    de = Lexicon.from_pairs([(w, w.upper()) for w in words], "en", "de")
    switcher = CodeSwitcher(e5_tokenizer, {"de": de}, p=0.5)
    collator = CodeSwitchCollator(e5_tokenizer, switcher, switcher, query_prefix="", passage_prefix="",
                                  max_query_length=32, max_document_length=32)
    text = "where does the cat sleep in the house of the garden on a mat"
    batch = collator([{"query": text, "document": text, "index": i} for i in range(4)])
    # same text, same switcher, same example index: only the document offset keeps the draws apart
    assert not torch.equal(batch["query_input_ids"], batch["document_input_ids"])


def _upper_switcher(tokenizer, seed=0):
    words = ["the", "a", "cat", "sleeps", "in", "house", "of", "does", "where", "garden", "on", "mat",
             "sleep"]
    return CodeSwitcher(tokenizer, {"de": Lexicon.from_pairs([(w, w.upper()) for w in words], "en", "de")},
                        p=0.5, seed=seed)


TEXT = "where does the cat sleep in the house of the garden on a mat"


def _draws(batches):
    return [tuple(b["query_input_ids"].flatten().tolist() + b["document_input_ids"].flatten().tolist())
            for b in batches]


def test_workers_and_epochs_never_repeat_a_draw(e5_tokenizer):
    """2 workers x 2 epochs, no index column: no two batches of identical examples draw alike."""
    switcher = _upper_switcher(e5_tokenizer)
    collator = CodeSwitchCollator(e5_tokenizer, switcher, switcher, max_query_length=32,
                                  max_document_length=32)
    dataset = [{"query": TEXT, "document": TEXT}] * 16
    loader = torch.utils.data.DataLoader(dataset, batch_size=4, num_workers=2, collate_fn=collator)
    batches = [batch for _ in range(2) for batch in loader]
    assert len(batches) == 8
    assert len(set(_draws(batches))) == 8


def test_index_column_with_set_epoch_through_persistent_workers(e5_tokenizer):
    switcher = _upper_switcher(e5_tokenizer)
    collator = CodeSwitchCollator(e5_tokenizer, switcher, switcher, max_query_length=32,
                                  max_document_length=32)
    dataset = [{"query": TEXT, "document": TEXT, "index": i} for i in range(8)]
    loader = torch.utils.data.DataLoader(dataset, batch_size=4, num_workers=2, collate_fn=collator,
                                         persistent_workers=True)
    epochs = []
    for epoch in range(2):
        collator.set_epoch(epoch)
        epochs.append(_draws(loader))
    assert len(set(epochs[0]) | set(epochs[1])) == 4  # a new epoch draws anew ...
    collator.set_epoch(1)
    assert _draws(loader) == epochs[1]  # ... and the same epoch again draws the same
    in_process = [collator(dataset[:4], epoch=1), collator(dataset[4:], epoch=1)]
    assert _draws(in_process) == epochs[1]  # workers draw as the main process does


def test_index_column_without_set_epoch_warns_once(e5_tokenizer):
    collator = CodeSwitchCollator(e5_tokenizer, _upper_switcher(e5_tokenizer))
    features = [{"query": TEXT, "document": TEXT, "index": i} for i in range(4)]
    collator(features)
    with pytest.warns(UserWarning, match="set_epoch"):
        collator(features)
    collator.set_epoch(1)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        collator(features)  # a new epoch: nothing repeats


def test_hard_negatives_originals_and_document_ids(e5_tokenizer):
    collator = CodeSwitchCollator(e5_tokenizer, _upper_switcher(e5_tokenizer),
                                  _upper_switcher(e5_tokenizer, 1), return_originals=True)
    features = [{"query": TEXT, "document": "the cat", "negatives": ["the mat", "a house"], "index": 0},
                {"query": "a cat", "document": "the mat", "negatives": ["on a mat", "the cat"], "index": 1}]
    batch = collator(features)
    documents = e5_tokenizer.batch_decode(batch["document_input_ids"], skip_special_tokens=True)
    assert len(documents) == 6 and all(d.startswith("passage: ") for d in documents)
    originals = e5_tokenizer.batch_decode(batch["document_original_input_ids"], skip_special_tokens=True)
    assert originals == ["passage: the cat", "passage: the mat"]
    query = e5_tokenizer.decode(batch["query_original_input_ids"][1], skip_special_tokens=True)
    assert query == "query: a cat"
    ids = batch["document_ids"].tolist()
    assert ids[1] == ids[2]  # the second positive is the first example's first negative: same text id
    assert ids[0] == ids[5] and len(set(ids)) == 4


def test_per_example_draws_are_the_pairs_query_and_documents_alike(e5_tokenizer):
    words = ["the", "cat", "house", "sleeps", "a"]
    lexicons = {lang: Lexicon.from_pairs([(w, f"{w}{lang}") for w in words], "en", lang)
                for lang in ("de", "ar", "ru")}
    switcher = CodeSwitcher(e5_tokenizer, lexicons, mode="multilingual", p=1.0, language_per="example")
    collator = CodeSwitchCollator(e5_tokenizer, switcher, switcher, return_provenance=True)
    features = [{"query": "the cat sleeps", "document": "a house, the cat",
                 "negatives": ["the house", "a cat"], "index": i} for i in range(24)]
    batch = collator(features)
    chosen = switcher.example_languages(np.arange(24))
    assert len(set(chosen.tolist())) == 3  # 24 examples draw all three languages
    for i, lang in enumerate(chosen.tolist()):
        rows = [batch["query_language"][i], batch["document_language"][i],
                batch["document_language"][24 + 2 * i], batch["document_language"][25 + 2 * i]]
        assert all(set(row.tolist()) == {-1, lang} for row in rows)
    # hybrid batches: a pair stays English or switches, query and documents alike
    hybrid = CodeSwitcher(e5_tokenizer, lexicons, mode="multilingual", p=1.0, example_p=0.5)
    batch = CodeSwitchCollator(e5_tokenizer, hybrid, hybrid, return_provenance=True)(features)
    switched = hybrid.switched_examples(np.arange(24))
    assert 0 < switched.sum() < 24
    for i in range(24):
        sides = [batch["query_switched"][i], batch["document_switched"][i],
                 batch["document_switched"][24 + 2 * i]]
        assert all(bool(row.any()) == switched[i] for row in sides)


@pytest.mark.parametrize(("features", "error", "match"), [
    ([{"query": None, "document": "x"}], TypeError, "'query': row 0 must be a string, got NoneType"),
    ([{"query": "q", "document": 3}], TypeError, "'document': row 0 must be a string"),
    ([{"query": "q", "document": "d", "index": 1.5}], TypeError, "'index' must be an integer"),
    ([{"query": "q", "document": "d", "index": True}], TypeError, "'index' must be an integer"),
    ([{"query": "q", "document": "d", "index": 1 << 40}], ValueError, r"outside \[0, 2\*\*40\)"),
    ([{"query": "q", "document": "d", "index": 0}, {"query": "q", "document": "d"}], ValueError,
     "give every feature an index or none"),
    ([{"query": "q", "document": "d", "negatives": "n"}], TypeError, "must be a list of strings"),
    ([{"query": "q", "document": "d", "negatives": ["n"]}, {"query": "q", "document": "d", "negatives": []}],
     ValueError, "all of one length"),
    (["not a mapping"], TypeError, "feature 0 must be a mapping"),
])
def test_bad_features_name_the_key(e5_tokenizer, features, error, match):
    with pytest.raises(error, match=match):
        CodeSwitchCollator(e5_tokenizer)(features)


def test_bad_arguments(e5_tokenizer):
    with pytest.raises(TypeError, match="query_switcher must be a CodeSwitcher"):
        CodeSwitchCollator(e5_tokenizer, "de")
    with pytest.raises(TypeError, match="max_length must be an int"):
        CodeSwitchCollator(e5_tokenizer, max_query_length=12.5)
    with pytest.raises(ValueError, match="epoch must be an integer >= 0"):
        CodeSwitchCollator(e5_tokenizer).set_epoch(-1)


def test_the_old_length_names_still_work_with_a_warning(e5_tokenizer):
    # the lengths are spelled as in [data] / DataOptions (max_query_length); the old names are kept
    with pytest.warns(DeprecationWarning, match="'query_max_length' is renamed 'max_query_length'"):
        old = CodeSwitchCollator(e5_tokenizer, query_max_length=8, max_document_length=9)
    assert (old.sides["query"].max_length, old.sides["document"].max_length) == (8, 9)
    with pytest.raises(TypeError, match="got both 'document_max_length' and its new name"):
        CodeSwitchCollator(e5_tokenizer, document_max_length=8, max_document_length=9)
