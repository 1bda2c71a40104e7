"""xcs.MultipleNegativesRankingLoss gives sentence-transformers' loss values (same defaults)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from xcs.loss.mnrl import MultipleNegativesRankingLoss

st_losses = pytest.importorskip("sentence_transformers.losses")


class _BagOfEmbeddings(nn.Module):
    """A stand-in SentenceTransformer: features {"input_ids": (n, length)} -> mean of token embeddings."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(50, 16)

    def forward(self, features):
        return {"sentence_embedding": self.embedding(features["input_ids"]).mean(dim=1)}


def _columns(num_columns, batch=6, dim=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, dim, generator=g) * 3 for _ in range(num_columns)]


@pytest.mark.parametrize("num_columns", [2, 4])
@pytest.mark.parametrize("impl", ["chunked", "eager"])
def test_equals_sentence_transformers(num_columns, impl):
    embeddings = _columns(num_columns)
    theirs = st_losses.MultipleNegativesRankingLoss(model=None).compute_loss_from_embeddings(embeddings, None)
    ours = MultipleNegativesRankingLoss(model=None, impl=impl).compute_loss_from_embeddings(embeddings)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_symmetric_equals_per_direction_doc_to_query():
    embeddings = _columns(3, seed=1)
    theirs = st_losses.MultipleNegativesRankingLoss(
        model=None, directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction"
    ).compute_loss_from_embeddings(embeddings, None)
    ours = MultipleNegativesRankingLoss(model=None, symmetric=True).compute_loss_from_embeddings(embeddings)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_forward_embeds_each_column_like_sentence_transformers():
    torch.manual_seed(0)
    model = _BagOfEmbeddings()
    features = [{"input_ids": torch.randint(0, 50, (5, 7))} for _ in range(3)]
    theirs = st_losses.MultipleNegativesRankingLoss(model, scale=10.0)(features, None)
    ours = MultipleNegativesRankingLoss(model, scale=10.0)(features)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    ours.backward()
    assert model.embedding.weight.grad.abs().sum() > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="scale must be positive"):
        MultipleNegativesRankingLoss(None, scale=0.0)
    with pytest.raises(ValueError, match="similarity must be"):
        MultipleNegativesRankingLoss(None, similarity="l2")
    with pytest.raises(ValueError, match="at least 2 embedding columns"):
        MultipleNegativesRankingLoss(None).compute_loss_from_embeddings(_columns(1))
