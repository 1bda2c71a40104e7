"""The cross-encoder reranker: which pairs a training step scores, and a seed-determined head."""

from __future__ import annotations

import torch
from train_helpers import save_tiny_model

from xcs.models.cross_encoder import CrossEncoder
from xcs.training.cross_encoder import scored_rows


def test_negatives_equal_to_the_positive_are_skipped():
    # query 0: its paragraph has no other sentence (negatives = its positive); queries 1 and 2 share
    # their answer sentence, so query 1's "next positive" is its own positive.
    positives = ["A.", "B.", "B."]
    negatives = [["A.", "A."], ["b1", "B."], ["c1", "c2"]]
    rows = scored_rows(positives, negatives)
    assert rows == [
        (0, 0, 1.0), (0, 1, 0.0),                          # 0: the next query's positive "B."
        (1, 1, 1.0), (1, 5, 0.0),                          # 1: "b1" only
        (2, 2, 1.0), (2, 7, 0.0), (2, 8, 0.0), (2, 0, 0.0),  # 2: c1, c2 and "A."
    ]
    documents = positives + [t for row in negatives for t in row]
    for q, d, label in rows:
        assert (documents[d] == positives[q]) == (label == 1.0)


def test_head_init_depends_on_the_seed_only(tmp_path, e5_tokenizer, monkeypatch):
    from transformers import AutoTokenizer

    path = save_tiny_model(tmp_path / "tiny", e5_tokenizer, dropout=0.0)
    # the same tokenizer, without reloading it from disk three times (seconds each)
    monkeypatch.setattr(AutoTokenizer, "from_pretrained", lambda *args, **kwargs: e5_tokenizer)
    first = CrossEncoder(path, seed=3)
    torch.rand(100)  # other use of the global RNG in between must not matter
    second = CrossEncoder(path, seed=3)
    other = CrossEncoder(path, seed=4)
    assert torch.equal(first.head.weight, second.head.weight)
    assert torch.equal(first.head.bias, second.head.bias)
    assert not torch.equal(first.head.weight, other.head.weight)
