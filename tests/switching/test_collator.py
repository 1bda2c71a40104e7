"""CodeSwitchCollator: tokenize, switch each side into its own language, pad; deterministic."""

from __future__ import annotations

import pickle

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
        query_max_length=12,
        document_max_length=9,
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
    b = collator(features[::-1])
    n = len(features)
    for key in a:
        side = key.split("_")[0]
        for i in range(n):
            length = int(a[f"{side}_attention_mask"][i].sum())
            assert torch.equal(a[key][i][:length], b[key][n - 1 - i][:length])
    assert len({tuple(row.tolist()) for row in a["query_input_ids"][::2]}) > 1  # draws differ by index


def test_dataloader_and_pickle(e5_tokenizer, collator):
    again = pickle.loads(pickle.dumps(collator))
    loader = torch.utils.data.DataLoader(FEATURES * 3, batch_size=2, collate_fn=again)
    batches = list(loader)
    assert len(batches) == 3
    assert torch.equal(batches[0]["query_input_ids"], collator(FEATURES)["query_input_ids"])


def test_side_without_switcher_and_bad_features(e5_tokenizer):
    plain = CodeSwitchCollator(e5_tokenizer, query_max_length=8, document_max_length=8)
    batch = plain([{"query": "a b c d e f g h i j", "document": "x"}])
    ids = batch["query_input_ids"][0].tolist()
    assert len(ids) == 8 and ids[-1] == e5_tokenizer.sep_token_id
    assert e5_tokenizer.decode(ids, skip_special_tokens=True).startswith("query: a")
    with pytest.raises(KeyError, match="'document'"):
        plain([{"query": "a"}])
    with pytest.raises(ValueError, match="empty"):
        plain([])
    with pytest.raises(ValueError, match="no room"):
        CodeSwitchCollator(e5_tokenizer, query_max_length=3)


def test_one_switcher_on_both_sides_draws_each_side_apart(e5_tokenizer):
    words = ["the", "a", "cat", "sleeps", "in", "house", "of", "does", "where", "garden", "on", "mat"]
    de = Lexicon.from_pairs([(w, w.upper()) for w in words], "en", "de")
    switcher = CodeSwitcher(e5_tokenizer, {"de": de}, p=0.5)
    collator = CodeSwitchCollator(e5_tokenizer, switcher, switcher, query_prefix="", passage_prefix="",
                                  query_max_length=32, document_max_length=32)
    text = "where does the cat sleep in the house of the garden on a mat"
    batch = collator([{"query": text, "document": text, "index": i} for i in range(4)])
    # same text, same switcher, same example index: only the document offset keeps the draws apart
    assert not torch.equal(batch["query_input_ids"], batch["document_input_ids"])
