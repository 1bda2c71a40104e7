"""pytest-benchmark: lexicon loading, NN / CSLS induction (``pytest benches/ --benchmark-enable``).

``xcs bench lexicon`` is the full-scale version (50k x 50k CSLS, peak memory per child process).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from xcs.io.paths import data_dir
from xcs.lexicons.csls import nearest_neighbors
from xcs.lexicons.lexicon import Lexicon
from xcs.lexicons.vectors import WordVectors, read_vec, write_vec


def _muse_file():
    root = data_dir(required=False)
    path = None if root is None else root / "muse" / "en-de.txt"
    if path is None or not path.is_file():
        pytest.skip("MUSE en-de dictionary not found (set XCS_DATA_DIR)")
    return path


def test_load_muse_en_de(benchmark):
    path = _muse_file()
    lex = benchmark(Lexicon.load, path, "en", "de")
    assert len(lex) > 70000


@pytest.fixture(scope="module")
def spaces():
    gen = torch.Generator().manual_seed(0)
    return torch.randn(5000, 384, generator=gen), torch.randn(5000, 384, generator=gen)


@pytest.mark.parametrize("method", ["nn", "csls"])
def test_induction_5k_x_5k(benchmark, spaces, method):
    src, tgt = spaces
    nbrs = benchmark(nearest_neighbors, src, tgt, k=1, method=method)
    assert nbrs.indices.shape == (5000, 1)


def test_dense_csls_baseline_5k_x_5k(benchmark, spaces):
    """The whole similarity matrix at once: the baseline the blocked scan is compared to."""
    src, tgt = (torch.nn.functional.normalize(x, dim=1) for x in spaces)

    def dense():
        sims = src @ tgt.T
        r_t = sims.topk(10, dim=1).values.mean(dim=1)
        r_s = sims.topk(10, dim=0).values.mean(dim=0)
        return (2 * sims - r_t[:, None] - r_s[None, :]).argmax(dim=1)

    best = benchmark(dense)
    np.testing.assert_array_equal(best.numpy(), nearest_neighbors(*spaces, method="csls").indices[:, 0])


def test_read_vec_20k_x_300(benchmark, tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "x.vec"
    write_vec(path, WordVectors([f"w{i}" for i in range(20000)],
                                rng.normal(size=(20000, 300)).astype(np.float32)), precision=4)
    vectors = benchmark(read_vec, path)
    assert len(vectors) == 20000
