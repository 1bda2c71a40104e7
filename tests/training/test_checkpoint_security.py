"""No code runs from a file (issue 21.10): a checkpoint, per-query scores or a word-vector cache that
carries a pickled callable is refused (or recomputed), never unpickled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from train_helpers import run, save_tiny_model

from xcs.training.config import TrainConfig


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, e5_tokenizer) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("tiny-security") / "model", e5_tokenizer, 0.0)


class _CreatesMarker:
    """Unpickling this calls ``open(marker, "w")``: the file appears if the pickle was ever run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_a_checkpoint_carrying_a_pickled_callable_is_refused_without_running_it(tiny_model_dir, tmp_path):
    out = tmp_path / "run"
    config = TrainConfig(steps=1, batch_size=4, checkpoint_every=1)
    run(tiny_model_dir, out, config)
    checkpoint = out / "checkpoint.pt"
    state = torch.load(checkpoint, weights_only=False)  # the test's own file: trusted
    marker = tmp_path / "code-ran"
    state["mined"] = _CreatesMarker(marker)
    torch.save(state, checkpoint)
    with pytest.raises(ValueError, match=r"checkpoint\.pt was refused: it holds pickled Python objects .*"
                                         r"(?s:.*)--no-resume"):
        run(tiny_model_dir, out, config)  # resuming is the default
    assert not marker.exists()


def test_resuming_restores_every_rng_from_a_weights_only_checkpoint(tiny_model_dir, tmp_path):
    import random

    out = tmp_path / "run"
    config = TrainConfig(steps=1, batch_size=4, checkpoint_every=1)
    run(tiny_model_dir, out, config)
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    rng = state["rng"][0]
    assert isinstance(rng["numpy"]["keys"], torch.Tensor)
    assert isinstance(rng["python"]["internal"], torch.Tensor)
    from xcs.training.checkpoint import _set_rng_state

    _set_rng_state(rng)
    expected = (np.random.random(), random.random())
    _set_rng_state(rng)
    assert (np.random.random(), random.random()) == expected


def test_per_query_scores_holding_an_object_array_are_refused(tmp_path):
    from xcs.evaluation.report import load_per_query

    marker = tmp_path / "code-ran"
    values = np.empty(1, dtype=object)
    values[0] = _CreatesMarker(marker)
    np.savez(tmp_path / "per_query.npz", **{"clir/mrr@10/en-de": values})
    with pytest.raises(ValueError, match=r"per_query\.npz is not a readable \.npz file"):
        load_per_query(tmp_path)
    assert not marker.exists()


def test_a_word_vector_cache_holding_an_object_array_is_recomputed(tmp_path, monkeypatch):
    from xcs.lexicons import encoder_embeddings

    marker = tmp_path / "code-ran"
    values = np.empty(2, dtype=object)
    values[0] = _CreatesMarker(marker)

    class _Encoder:
        description = "fake"

    words = ["river", "castle"]
    calls = []

    def encode_words(encoder, words, layers, progress):
        calls.append(words)
        return {layers[0]: np.ones((len(words), 3), dtype=np.float32)}

    monkeypatch.setattr(encoder_embeddings, "encode_words", encode_words)
    first = encoder_embeddings.cached_word_vectors(_Encoder(), "en", words, layer=7, directory=tmp_path)
    (cached,) = tmp_path.glob("*.npy")
    np.save(cached, values, allow_pickle=True)  # replaced by a pickle
    again = encoder_embeddings.cached_word_vectors(_Encoder(), "en", words, layer=7, directory=tmp_path)
    assert len(calls) == 2 and np.array_equal(first, again)
    assert not marker.exists()
